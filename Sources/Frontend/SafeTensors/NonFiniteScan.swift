import SkrrSupport

/// Index of the first NaN or ±Inf element of little-endian `bytes` holding `dtype` elements, or nil.
///
/// Floating types are tested on their exponent bits: an element is non-finite exactly when its
/// exponent field is all ones (F8_E4M3, which has no infinity, when its low seven bits are all
/// ones). Integer and boolean types never hold non-finite values. Bytes past the last whole
/// element are ignored. `bytes` may be unaligned.
///
/// The scan runs over whole checkpoints, so it is written to be memory-bound: each chunk of
/// elements is reduced branch-free into one flag word (the optimizer vectorises this loop), and
/// only a chunk whose flag is set is searched element by element.
public func firstNonFiniteElement(in bytes: UnsafeRawBufferPointer, dtype: DType) -> Int? {
    switch dtype {
    case .f32: return firstAllOnes(bytes, as: UInt32.self, field: 0x7F80_0000, lowBit: 0x0080_0000)
    case .f16: return firstAllOnes(bytes, as: UInt16.self, field: 0x7C00, lowBit: 0x0400)
    case .bf16: return firstAllOnes(bytes, as: UInt16.self, field: 0x7F80, lowBit: 0x0080)
    case .f64:
        return firstAllOnes(bytes, as: UInt64.self, field: 0x7FF0_0000_0000_0000, lowBit: 0x0010_0000_0000_0000)
    case .f8e5m2: return firstAllOnes(bytes, as: UInt8.self, field: 0x7C, lowBit: 0x04)
    case .f8e4m3: return firstAllOnes(bytes, as: UInt8.self, field: 0x7F, lowBit: 0x01)
    case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: return nil
    }
}

/// Elements per chunk: small enough to stay in L1 when a chunk has to be searched again.
private let scanChunk = 4096

/// First element whose bits under `field` are all ones. `field` is a contiguous run of bits
/// below the top bit and `lowBit` its lowest bit, so `(x & field) + lowBit` carries into the top
/// bit exactly when the run is all ones: one AND, one ADD and one OR per element, which
/// vectorises on any SIMD level (no compares or selects).
@inline(__always)
private func firstAllOnes<T: FixedWidthInteger & UnsignedInteger>(
    _ bytes: UnsafeRawBufferPointer, as _: T.Type, field: T, lowBit: T
) -> Int? {
    let size = MemoryLayout<T>.size
    let count = bytes.count / size
    guard count > 0, let base = bytes.baseAddress else { return nil }
    let top: T = 1 << (T.bitWidth - 1)
    var start = 0
    while start < count {
        let end = min(start + scanChunk, count)
        var flags: T = 0
        var offset = start * size
        for _ in start..<end {
            let x = T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
            flags |= (x & field) &+ lowBit
            offset += size
        }
        if flags & top != 0 {
            for i in start..<end {
                let x = T(littleEndian: base.loadUnaligned(fromByteOffset: i * size, as: T.self))
                if ((x & field) &+ lowBit) & top != 0 { return i }
            }
        }
        start = end
    }
    return nil
}
