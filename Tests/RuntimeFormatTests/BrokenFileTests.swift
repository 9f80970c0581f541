import CManifest
import Foundation
import SkrrLowering
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// A runtime file as bytes, with helpers to break it in specific ways.
struct FileBytes {
    var bytes: [UInt8]

    init(path: String) { bytes = Array(FileManager.default.contents(atPath: path)!) }
    init(bytes: [UInt8]) { self.bytes = bytes }

    func u64(_ at: Int) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
    var manifestLength: Int { Int(u64(24)) }
    var dataOffset: Int { Int(u64(40)) }

    mutating func setU32(_ at: Int, _ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(at..<(at + 4), with: $0) } }
    mutating func setU64(_ at: Int, _ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(at..<(at + 8), with: $0) } }

    /// Recomputes the header checksum after a deliberate header edit.
    mutating func resealHeader() { setU64(56, XXH64.hash(Array(bytes[0..<56]))) }

    /// Rewrites the manifest through protobuf-c (a consistent file with a lying manifest):
    /// new manifest, new manifest checksum, data section moved to the next aligned offset.
    mutating func editManifest(_ edit: (UnsafeMutablePointer<Skrr__Manifest>) -> Void) {
        let old = Array(bytes[64..<(64 + manifestLength)])
        let m = old.withUnsafeBufferPointer { skrr_manifest_unpack($0.baseAddress, $0.count) }!
        edit(m)
        let size = skrr_manifest_packed_size(m)
        var manifest = [UInt8](repeating: 0, count: size)
        _ = manifest.withUnsafeMutableBufferPointer { skrr_manifest_pack_to(m, $0.baseAddress, size) }
        skrr_manifest_free_unpacked(m)
        let data = Array(bytes[dataOffset...])
        let newOffset = (64 + size + 63) / 64 * 64
        bytes = Array(bytes[0..<64]) + manifest + [UInt8](repeating: 0, count: newOffset - 64 - size) + data
        setU64(24, UInt64(size))
        setU64(32, XXH64.hash(manifest))
        setU64(40, UInt64(newOffset))
        resealHeader()
    }

    func write() -> String {
        let path = TestPaths.makeTemporaryDirectory("skrr-broken") + "/broken.skrr"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}

/// The loader's answer for some bytes: nil if it loads, else the message.
func loadError(_ file: FileBytes, verify: Bool = false) -> String? {
    let path = file.write()
    do {
        let loaded = try RuntimeFile(path: path)
        if verify { try loaded.verify() }
        return nil
    } catch let error as SkrrError {
        #expect(error.file == path, "errors name the file: \(error)")
        return error.description
    } catch {
        Issue.record("unexpected error type \(error)")
        return "\(error)"
    }
}

func tensorIndex(_ m: UnsafeMutablePointer<Skrr__Manifest>, _ suffix: String) -> Int {
    (0..<m.pointee.n_tensors).first { String(cString: m.pointee.tensors[$0]!.pointee.name).hasSuffix(suffix) }!
}

/// The broken-file corpus: every way a file can be wrong is refused with a message naming the
/// field or tensor, never a crash.
@Suite struct BrokenFileTests {
    static let good: FileBytes = FileBytes(path: try! Compiled.file("t5-v1_1", schedule: Compiled.skipAndReuse))

    func expectRefused(_ file: FileBytes, verify: Bool = false, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = loadError(file, verify: verify) else {
            Issue.record("the broken file loaded", sourceLocation: sourceLocation)
            return
        }
        for fragment in fragments {
            #expect(message.contains(fragment), "message lacks '\(fragment)': \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test func goodFileLoads() {
        #expect(loadError(Self.good, verify: true) == nil)
    }

    @Test func emptyFile() { expectRefused(FileBytes(bytes: []), "header.magic", "empty file") }

    @Test func wrongMagic() {
        var f = Self.good
        f.bytes[1] = UInt8(ascii: "G")  // "\x89GKRR"
        expectRefused(f, "header.magic", "not a skrr runtime file", "89 47 4B 52 52")
        expectRefused(FileBytes(bytes: Array("{\"not\": \"a skrr file\"}".utf8)), "not a skrr runtime file")
    }

    @Test func newerVersionIsRefusedClearly() {
        var f = Self.good
        f.setU32(8, 4)
        expectRefused(f, "header.format_version", "format version 4 is newer than this runtime reads (version 3)", "update")
        f.resealHeader()
        expectRefused(f, "newer")
        // Version 3 is a pipeline file: this one's manifest describes one encoder, refused as such.
        var three = Self.good
        three.setU32(8, 3)
        three.resealHeader()
        expectRefused(three, "manifest.format_version", "expected 3 (the header's version), got 1")
        var zero = Self.good
        zero.setU32(8, 0)
        expectRefused(zero, "format version 0")
    }

    @Test func truncationAtManyOffsets() {
        let full = Self.good.bytes
        var cuts = Array(0..<80) + Array(stride(from: 80, to: full.count, by: max(1, full.count / 200)))
        cuts += [full.count - 1, full.count - 64, Self.good.dataOffset, Self.good.dataOffset - 1, 64 + Self.good.manifestLength]
        for cut in Set(cuts) where cut < full.count {
            let message = loadError(FileBytes(bytes: Array(full.prefix(cut))))
            #expect(message != nil, "a file cut at \(cut) of \(full.count) bytes loaded")
            if cut >= 64, let message { #expect(message.contains("truncated") || message.contains("header."), "cut \(cut): \(message)") }
        }
    }

    @Test func trailingBytes() {
        var f = Self.good
        f.bytes += [0, 0, 0, 0]
        expectRefused(f, "header.data_length", "trailing bytes")
    }

    @Test func everyHeaderByteFlipIsCaught() {
        for offset in 0..<64 {
            var f = Self.good
            f.bytes[offset] ^= 0x10
            #expect(loadError(f) != nil, "flip at header byte \(offset) loaded")
        }
    }

    @Test func manifestFlipsAreCaught() {
        for offset in stride(from: 64, to: 64 + Self.good.manifestLength, by: 7) {
            var f = Self.good
            f.bytes[offset] ^= 0x01
            let message = loadError(f)
            #expect(message?.contains("manifest") == true, "flip at \(offset): \(message ?? "loaded")")
        }
    }

    @Test func dataFlipsAreCaughtByVerify() throws {
        var f = Self.good
        let m = f.bytes[64..<(64 + f.manifestLength)].withUnsafeBufferPointer { skrr_manifest_unpack($0.baseAddress, $0.count) }!
        let index = tensorIndex(m, "wo.weight")
        let name = String(cString: m.pointee.tensors[index]!.pointee.name)
        let offset = Int(m.pointee.tensors[index]!.pointee.offset)
        skrr_manifest_free_unpacked(m)
        f.bytes[f.dataOffset + offset + 5] ^= 0x40
        #expect(loadError(f) == nil, "structure is intact: plain loads do not hash weights")
        expectRefused(f, verify: true, name, "expected xxh64", "fail their checksum")
    }

    @Test func tokenizerFlipIsCaughtOnLoad() {
        var f = Self.good
        let m = f.bytes[64..<(64 + f.manifestLength)].withUnsafeBufferPointer { skrr_manifest_unpack($0.baseAddress, $0.count) }!
        let offset = Int(skrr_tokenizer_file_extent(m.pointee.tokenizer.pointee.files[0])!.pointee.offset)
        skrr_manifest_free_unpacked(m)
        f.bytes[f.dataOffset + offset + 100] ^= 0x01
        expectRefused(f, "tokenizer file spiece.model", "checksum mismatch")
    }

    @Test func headerOffsetsOutOfRange() {
        var f = Self.good
        f.setU64(24, UInt64(f.bytes.count))  // manifest_length past the end
        f.resealHeader()
        expectRefused(f, "header.manifest_length", "do not fit")
        var g = Self.good
        g.setU64(40, UInt64(g.bytes.count + 64))  // data_offset past the end
        g.resealHeader()
        expectRefused(g, "header.data_offset")
        var h = Self.good
        h.setU64(40, UInt64(h.dataOffset - 1))  // misaligned data section
        h.resealHeader()
        expectRefused(h, "header.data_offset")
    }

    @Test func tensorOffsetOutOfRange() {
        var f = Self.good
        f.editManifest { m in m.pointee.tensors[0]!.pointee.offset = m.pointee.data_size }
        expectRefused(f, "lie outside")
        var g = Self.good
        g.editManifest { m in m.pointee.tensors[1]!.pointee.offset = UInt64.max - 63 }
        expectRefused(g, "lie outside")
        var h = Self.good
        h.editManifest { m in m.pointee.tensors[1]!.pointee.offset += 4 }
        expectRefused(h, "not a multiple of the alignment 64")
    }

    /// Two tensor entries pointing at the same bytes are a forged table, not a re-use.
    @Test func overlappingTensorRangesAreRefused() {
        var f = Self.good
        f.editManifest { m in m.pointee.tensors[1]!.pointee.offset = m.pointee.tensors[0]!.pointee.offset }
        expectRefused(f, "overlap")
    }

    @Test func tensorLengthDisagreesWithShape() {
        var f = Self.good
        f.editManifest { m in m.pointee.tensors[2]!.pointee.length -= 4 }
        expectRefused(f, "needs", "bytes, but the tensor table says")
    }

    @Test func programNamesAMissingTensor() {
        var f = Self.good
        f.editManifest { m in
            let block = m.pointee.sub_blocks[0]!.pointee
            block.operands[1]!.pointee.tensor = UInt32(m.pointee.n_tensors) + 3
        }
        expectRefused(f, "manifest.sub_blocks[0]", "missing tensor")
        var g = Self.good
        g.editManifest { m in m.pointee.embeddings.pointee.operands[0]!.pointee.tensor = 9999 }
        expectRefused(g, "manifest.embeddings.token", "refers to tensor 9999")
    }

    @Test func misShapedTensor() {
        // A q projection that claims [48, 48] (the model needs [60, 48]), with a consistent length.
        var f = Self.good
        var name = ""
        f.editManifest { m in
            let t = m.pointee.tensors[tensorIndex(m, "block.0.layer.0.SelfAttention.q.weight")]!
            name = String(cString: t.pointee.name)
            t.pointee.shape[0] = 48
            t.pointee.length = 48 * 48 * 4
        }
        expectRefused(f, name, "expected shape [60, 48], got [48, 48]")
    }

    @Test func slotRunsTheWrongKind() {
        var f = Self.good
        f.editManifest { m in _ = skrr_slot_set_run(m.pointee.slots[0], 1) }  // sub-block 1 is an FFN
        expectRefused(f, "manifest.slots[0]", "cannot run sub-block 1")
        var g = Self.good
        g.editManifest { m in _ = skrr_slot_set_run(m.pointee.slots[1], 99) }
        expectRefused(g, "manifest.slots[1]", "runs sub-block 99")
        var h = Self.good
        h.editManifest { m in
            // The dropped slot is no longer reachable by free_unpacked: the edit frees it.
            m.pointee.n_slots -= 1
            skrr__slot__free_unpacked(m.pointee.slots[m.pointee.n_slots], nil)
        }
        expectRefused(h, "manifest.slots", "expected 6 slots")
    }

    @Test func badEnumsAndFields() {
        var f = Self.good
        f.editManifest { m in m.pointee.tensors[0]!.pointee.dtype = Skrr__DType(rawValue: 9) }
        expectRefused(f, "unknown dtype 9")
        var g = Self.good
        g.editManifest { m in m.pointee.hyper.pointee.norm_kind = SKRR__NORM_KIND__NORM_KIND_UNSPECIFIED }
        expectRefused(g, "manifest.hyper.norm_kind")
        var h = Self.good
        h.editManifest { m in m.pointee.format_version = 2 }
        expectRefused(h, "manifest.format_version", "expected 1")
        var i = Self.good
        i.editManifest { m in m.pointee.data_size += 64 }
        expectRefused(i, "manifest.data_size")
        var j = Self.good
        j.editManifest { m in _ = skrr_pb_set_string(&m.pointee.sub_blocks[0]!.pointee.operands[0]!.pointee.role, "query.weight") }
        expectRefused(j, "unknown role 'query.weight'")
        var k = Self.good
        k.editManifest { m in m.pointee.hyper.pointee.relative_buckets = 2 }
        expectRefused(k, "manifest.hyper.relative_buckets")
        var l = Self.good
        l.editManifest { m in m.pointee.hyper.pointee.vocab_size = 5 }  // token table no longer matches
        expectRefused(l, "shared.weight", "expected shape [5, 48]")
    }

    /// Random flips and truncations anywhere never trap: the loader refuses them, or (flips in
    /// weight data) loads a file whose numbers are garbage, which the interpreter survives too.
    @Test func fuzzNeverTraps() throws {
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        let good = Self.good.bytes
        var refused = 0, loaded = 0
        for round in 0..<300 {
            var bytes = good
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(next() % bytes.count))
            } else {
                for _ in 0..<(1 + next() % 3) { bytes[next() % bytes.count] ^= UInt8(1 + next() % 255) }
            }
            let path = FileBytes(bytes: bytes).write()
            do {
                let file = try RuntimeFile(path: path)
                loaded += 1
                _ = try? file.verify()
                _ = try? Interpreter(program: file.program, weights: file).run(Compiled.batch, layers: [-2])
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0 && refused + loaded == 300)
    }
}
