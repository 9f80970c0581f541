import CManifest
import Foundation
import SkrrRuntime
import SkrrSupport
import Testing

/// The broken-file corpus for int8 tensors (format version 2): every way their scales or their
/// dtype can be wrong is refused with a message naming the tensor, never a crash.
@Suite struct Int8BrokenFileTests {
    static let good = FileBytes(path: try! Compiled.file("t5-v1_1", schedule: Compiled.skipAndReuse, dtype: .int8))

    func expectRefused(_ file: FileBytes, verify: Bool = false, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = loadError(file, verify: verify) else {
            Issue.record("the broken file loaded", sourceLocation: sourceLocation)
            return
        }
        for fragment in fragments {
            #expect(message.contains(fragment), "message lacks '\(fragment)': \(message)", sourceLocation: sourceLocation)
        }
    }

    /// The manifest entry of the tensor whose name ends in `suffix`, with its name.
    func tensor(_ m: UnsafeMutablePointer<Skrr__Manifest>, _ suffix: String) -> (UnsafeMutablePointer<Skrr__Tensor>, String) {
        let t = m.pointee.tensors[tensorIndex(m, suffix)]!
        return (t, String(cString: t.pointee.name))
    }

    /// Where the scales of the tensor ending in `suffix` lie in the file, and its name.
    func scalesOffset(_ suffix: String) -> (offset: Int, name: String) {
        let f = Self.good
        let m = f.bytes[64..<(64 + f.manifestLength)].withUnsafeBufferPointer { skrr_manifest_unpack($0.baseAddress, $0.count) }!
        defer { skrr_manifest_free_unpacked(m) }
        let (t, name) = tensor(m, suffix)
        return (f.dataOffset + Int(t.pointee.scales!.pointee.offset), name)
    }

    @Test func goodFileLoadsAndVerifies() {
        #expect(loadError(Self.good, verify: true) == nil)
    }

    /// A version-1 file cannot hold int8: a version-1 runtime would refuse the dtype anyway,
    /// but the message should say why.
    @Test func int8InAVersion1File() {
        var f = Self.good
        f.editManifest { m in m.pointee.format_version = 1 }
        f.setU32(8, 1)
        f.resealHeader()
        expectRefused(f, "'shared.weight'", "dtype i8 needs format version 2, but the file says version 1")
    }

    @Test func missingScales() {
        var f = Self.good
        var name = ""
        f.editManifest { m in
            let (t, n) = tensor(m, "block.0.layer.0.SelfAttention.q.weight")
            name = n
            skrr__extent__free_unpacked(t.pointee.scales, nil)
            t.pointee.scales = nil
        }
        expectRefused(f, name + ".scales", "an int8 tensor needs its row scales")
    }

    @Test func scalesOfTheWrongLength() {
        var f = Self.good
        f.editManifest { m in tensor(m, "block.0.layer.1.DenseReluDense.wo.weight").0.pointee.scales!.pointee.length -= 4 }
        expectRefused(f, "wo.weight.scales", "f32 scales", "one per row")
    }

    @Test func scalesOnAFloatTensor() {
        var f = Self.good
        f.editManifest { m in
            let (norm, _) = tensor(m, "final_layer_norm.weight")
            let (q, _) = tensor(m, "block.0.layer.0.SelfAttention.q.weight")
            let e = q.pointee.scales!.pointee
            norm.pointee.scales = skrr_extent_new(e.offset, e.length, e.checksum)
        }
        expectRefused(f, "final_layer_norm.weight.scales", "only int8 tensors have row scales")
    }

    /// int8 only where the kernels read row scales: a norm gain, a bias or a head marked int8
    /// is refused by role (checked on the program, where every loader's path meets).
    @Test func int8WhereFloatIsRequired() throws {
        let good = try RuntimeFile(path: Self.good.write()).program
        var names: [String] = []
        if case let .ffn(w, _)? = good.slots.first(where: { if case .ffn = $0 { true } else { false } }) { names.append(good.tensors[w.norm.weight].name) }
        if let final = good.finalNorm { names.append(good.tensors[final.weight].name) }
        if let bias = good.sharedPositionBias { names.append(good.tensors[bias].name) }
        try #require(names.count == 3)
        for name in names {
            var program = good
            let index = program.tensors.firstIndex { $0.name == name }!
            program.tensors[index].dtype = .int8
            do {
                try ProgramValidation.validate(program, file: "p.skrr")
                Issue.record("\(name) as int8 passed")
            } catch let error as SkrrError {
                #expect(error.description.contains(name) && error.description.contains("only linear weights and the token embedding"), "\(error)")
            }
        }
    }

    @Test(arguments: [(Float.nan, "nan"), (-1, "-1.0"), (.infinity, "inf")])
    func badScaleValues(_ value: Float, _ shown: String) {
        var f = Self.good
        let (offset, name) = scalesOffset("block.0.layer.1.DenseReluDense.wo.weight")
        f.bytes.replaceSubrange((offset + 12)..<(offset + 16), with: withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init))
        expectRefused(f, name + ".scales", "row 3 has scale \(shown)", "finite value ≥ 0")
    }

    @Test func scalesOutsideTheDataSection() {
        var f = Self.good
        f.editManifest { m in tensor(m, "wo.weight").0.pointee.scales!.pointee.offset = m.pointee.data_size }
        expectRefused(f, "wo.weight.scales", "lie outside")
        var g = Self.good
        g.editManifest { m in tensor(m, "wo.weight").0.pointee.scales!.pointee.offset += 4 }
        expectRefused(g, "not a multiple of the alignment 64")
    }

    @Test func scalesOverlappingATensor() {
        var f = Self.good
        f.editManifest { m in
            // k's scales moved onto q's (same length: both have inner rows): valid values, shared bytes.
            let (k, _) = tensor(m, "block.0.layer.0.SelfAttention.k.weight")
            let (q, _) = tensor(m, "block.0.layer.0.SelfAttention.q.weight")
            k.pointee.scales!.pointee.offset = q.pointee.scales!.pointee.offset
        }
        expectRefused(f, "overlap")
    }

    /// A flip that leaves the scale finite and positive is caught by `--verify`'s checksum.
    @Test func scaleFlipIsCaughtByVerify() {
        var f = Self.good
        let (offset, name) = scalesOffset("block.0.layer.1.DenseReluDense.wo.weight")
        f.bytes[offset + 1] ^= 0x10
        #expect(loadError(f) == nil, "a finite positive scale is structurally valid")
        expectRefused(f, verify: true, name, "(row scales)", "expected xxh64")
    }

    /// Random flips and truncations of an int8 file never trap.
    @Test func fuzzNeverTraps() {
        var state: UInt64 = 0x1_8EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        var refused = 0, loaded = 0
        for round in 0..<150 {
            var bytes = Self.good.bytes
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(next() % bytes.count))
            } else {
                for _ in 0..<(1 + next() % 3) { bytes[next() % bytes.count] ^= UInt8(1 + next() % 255) }
            }
            do {
                let file = try RuntimeFile(path: FileBytes(bytes: bytes).write())
                loaded += 1
                _ = try? file.verify()
                _ = try? Interpreter(program: file.program, weights: file).run(Compiled.batch, layers: [-2])
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0 && refused + loaded == 150)
    }
}
