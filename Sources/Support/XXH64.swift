/// XXH64 (seed 0 unless given), the checksum of the runtime file format (proto/manifest.proto,
/// docs/runtime-format.md). A straight port of the reference algorithm (xxhash.h, XXH64):
/// four 64-bit lanes over 32-byte stripes, then the tail in 8-, 4- and 1-byte steps, then the
/// avalanche. Little-endian loads, unaligned allowed.
public enum XXH64 {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        rotl(acc &+ input &* p2, 31) &* p1
    }

    @inline(__always) static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        (acc ^ round(0, value)) &* p1 &+ p4
    }

    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return finish(seed &+ p5, base: nil, offset: 0, count: 0) }
        @inline(__always) func load64(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: (base + offset).loadUnaligned(as: UInt64.self))
        }
        var offset = 0
        var h: UInt64
        if count >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            let limit = count - 32
            while offset <= limit {
                v1 = round(v1, load64(offset))
                v2 = round(v2, load64(offset + 8))
                v3 = round(v3, load64(offset + 16))
                v4 = round(v4, load64(offset + 24))
                offset += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(count)
        return finish(h, base: base, offset: offset, count: count)
    }

    static func finish(_ start: UInt64, base: UnsafeRawPointer?, offset start0: Int, count: Int) -> UInt64 {
        var h = start
        var offset = start0
        if let base {
            while offset + 8 <= count {
                let k = round(0, UInt64(littleEndian: (base + offset).loadUnaligned(as: UInt64.self)))
                h = rotl(h ^ k, 27) &* p1 &+ p4
                offset += 8
            }
            if offset + 4 <= count {
                h ^= UInt64(UInt32(littleEndian: (base + offset).loadUnaligned(as: UInt32.self))) &* p1
                h = rotl(h, 23) &* p2 &+ p3
                offset += 4
            }
            while offset < count {
                h ^= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) &* p5
                h = rotl(h, 11) &* p1
                offset += 1
            }
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }
}
