import CManifest
import Foundation
import SkrrBackend
import SkrrFrontend
import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// Pipeline files (format 3, issue 16): several encoders in one runtime file, each a complete
/// single-encoder file inside the data section.
enum PipelineFiles {
    static let sd3 = ["text_encoder", "text_encoder_2", "text_encoder_3"]

    /// The writer's member for `encoder` of `fixture`, with `kind`'s preset (or `preset`).
    static func member(_ fixture: String, _ encoder: String, kind: PipelineKind, preset: PipelineKind? = nil,
                       schedule: ((Int) -> [Slot])? = nil) throws -> PipelineFileWriter.Member {
        var ir = try ModelImporter.importModel(at: TestPaths.fixture(fixture), encoder: encoder).ir
        if let schedule { ir.schedule = schedule(ir.schedule.count) }
        let options = RuntimeFileWriter.Options(
            preset: try PipelinePreset.preset(for: preset ?? kind, clipEncoder: ir.config.causal),
            sourceModel: ir.name, passes: "", paramsTotal: ir.sourceParameters)
        return .init(name: encoder, program: try Lowering.lower(ir), weights: try SourceWeights(model: ir), options: options)
    }

    /// The SD3 fixture's three encoders in one file (T5's schedule skips and re-uses); its path.
    static func sd3File() throws -> String {
        let members = try [member("sd3-full", sd3[0], kind: .sd3), member("sd3-full", sd3[1], kind: .sd3),
                           member("sd3-full", sd3[2], kind: .sd3, schedule: Compiled.skipAndReuse)]
        let path = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/sd3.skrr"
        try PipelineFileWriter.write(kind: .sd3, members: members, sourceModel: "sd3-full", passes: "test", to: path)
        return path
    }
}

@Suite struct PipelineFileTests {
    func contents(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }

    /// Each member is byte for byte the file `RuntimeFileWriter` writes for that encoder alone,
    /// and lies where the manifest says.
    @Test func membersAreTheSingleEncoderFiles() throws {
        let path = try PipelineFiles.sd3File()
        let file = try PipelineRuntimeFile(path: path)
        #expect(file.kind == .sd3 && file.members.map(\.name) == PipelineFiles.sd3)
        #expect(file.roles.clip == ["text_encoder", "text_encoder_2"] && file.roles.t5 == "text_encoder_3")
        let bytes = contents(path)
        for (index, name) in PipelineFiles.sd3.enumerated() {
            let member = try PipelineFiles.member("sd3-full", name, kind: .sd3, schedule: index == 2 ? { Compiled.skipAndReuse($0) } : nil)
            let single = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/\(name).skrr"
            try RuntimeFileWriter.write(member.program, weights: member.weights, options: member.options, to: single)
            let extent = file.info.members[index].extent
            let start = Int(file.info.header.dataOffset) + extent.offset
            #expect(Array(bytes[start..<(start + extent.length)]) == contents(single), "\(name)")
            #expect(extent.offset % 64 == 0)
        }
        // The header: magic, version 3, read byte by byte.
        #expect(Array(bytes[0..<8]) == [0x89, 0x53, 0x4B, 0x52, 0x52, 0x0D, 0x0A, 0x1A] && bytes[8] == 3 && bytes[9] == 0)
        #expect(file.info.paramsTotal == file.members.reduce(0) { $0 + $1.file.info.paramsTotal })
        try file.verify()
    }

    /// A member runs exactly as the same encoder's own file does.
    @Test func membersRunLikeTheirOwnFiles() throws {
        let file = try PipelineRuntimeFile(path: try PipelineFiles.sd3File())
        for (index, member) in file.members.enumerated() {
            let own = try PipelineFiles.member("sd3-full", member.name, kind: .sd3, schedule: index == 2 ? { Compiled.skipAndReuse($0) } : nil)
            let single = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/own.skrr"
            try RuntimeFileWriter.write(own.program, weights: own.weights, options: own.options, to: single)
            let alone = try RuntimeFile(path: single)
            let batch = TokenBatch(ids: [[5, 17, 9, 3, 1], [7, 2]])
            let a = try Interpreter(program: member.file.program, weights: member.file).run(batch, layers: [1])
            let b = try Interpreter(program: alone.program, weights: alone).run(batch, layers: [1])
            expectIdentical(a, b, member.name)
        }
    }

    @Test func writingTwiceGivesTheSameBytes() throws {
        #expect(contents(try PipelineFiles.sd3File()) == contents(try PipelineFiles.sd3File()))
    }

    /// The single-encoder loader refuses a pipeline file with the names it holds; the pipeline
    /// loader refuses a single-encoder file.
    @Test func eachLoaderRefusesTheOtherKindOfFile() throws {
        let path = try PipelineFiles.sd3File()
        #expect(PipelineRuntimeFile.isPipelineFile(path))
        #expect { try RuntimeFile(path: path) } throws: {
            "\($0)".contains("is a pipeline file (format 3) holding several encoders (text_encoder, text_encoder_2, text_encoder_3)")
        }
        let single = try Compiled.file("t5-v1_1")
        #expect(!PipelineRuntimeFile.isPipelineFile(single))
        #expect { try PipelineRuntimeFile(path: single) } throws: { "\($0)".contains("expected 3 (a pipeline file), got 1") }
        let file = try PipelineRuntimeFile(path: path)
        #expect { try file.member(named: "text_encoder_9") } throws: {
            "\($0)".contains("this sd3 pipeline file holds text_encoder, text_encoder_2, text_encoder_3")
        }
    }

    @Test func writerRefusesFewerThanTwoOrRepeatedMembers() throws {
        let path = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/x.skrr"
        let one = try PipelineFiles.member("sd3-full", "text_encoder", kind: .sd3)
        #expect { try PipelineFileWriter.write(kind: .sd3, members: [one], sourceModel: "", passes: "", to: path) } throws: {
            "\($0)".contains("at least two encoders, got 1")
        }
        #expect { try PipelineFileWriter.write(kind: .sd3, members: [one, one], sourceModel: "", passes: "", to: path) } throws: {
            "\($0)".contains("encoder name 'text_encoder' appears twice")
        }
        #expect(!FileManager.default.fileExists(atPath: path), "no file is left behind")
    }
}

/// The broken-file corpus of pipeline files: each way the outer file or a member can be wrong
/// is refused with a message naming the field (and the member), never a crash.
@Suite struct PipelineBrokenFileTests {
    static let good = FileBytes(path: try! PipelineFiles.sd3File())

    func refusal(_ file: FileBytes, verify: Bool = false) -> String? {
        let path = file.write()
        do {
            let loaded = try PipelineRuntimeFile(path: path)
            if verify { try loaded.verify() }
            return nil
        } catch let error as SkrrError {
            #expect(error.file?.hasPrefix(path) == true, "errors name the file: \(error)")
            return error.description
        } catch {
            return "unexpected error type \(error)"
        }
    }

    func expectRefused(_ file: FileBytes, verify: Bool = false, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = refusal(file, verify: verify) else {
            Issue.record("the broken file loaded", sourceLocation: sourceLocation)
            return
        }
        for fragment in fragments {
            #expect(message.contains(fragment), "message lacks '\(fragment)': \(message)", sourceLocation: sourceLocation)
        }
    }

    /// Member `index`'s first byte in the file.
    func memberStart(_ index: Int) -> Int {
        let file = try! PipelineRuntimeFile(path: Self.good.write())
        return Int(file.info.header.dataOffset) + file.info.members[index].extent.offset
    }

    func members(_ m: UnsafeMutablePointer<Skrr__Manifest>) -> UnsafeMutablePointer<Skrr__Pipeline> { m.pointee.pipeline! }

    @Test func goodFileLoads() {
        #expect(refusal(Self.good, verify: true) == nil)
    }

    @Test func truncatedInsideAMember() {
        var file = Self.good
        file.bytes.removeLast(1000)
        expectRefused(file, "header.data_length", "(truncated)")
    }

    @Test func memberHeaderChangedUnderTheManifest() {
        var file = Self.good
        file.bytes[memberStart(1) + 20] ^= 0x01  // manifest_length of text_encoder_2's header
        expectRefused(file, "manifest.pipeline.members[1].header_checksum", "the member 'text_encoder_2' starts with a header hashing to")
    }

    @Test func memberManifestCorrupt() {
        var file = Self.good
        file.bytes[memberStart(2) + 64 + 10] ^= 0xFF  // inside text_encoder_3's manifest
        expectRefused(file, "(encoder text_encoder_3)", "manifest", "checksum mismatch")
    }

    /// A flipped weight byte loads (checksums are verify's job) and fails `verify`, naming the
    /// member and the tensor.
    @Test func memberTensorCorruptFailsVerify() throws {
        var file = Self.good
        let loaded = try PipelineRuntimeFile(path: Self.good.write())
        let member = loaded.members[0].file
        let extent = member.info.tensorExtents[0]
        let at = memberStart(0) + Int(member.info.header.dataOffset) + extent.offset
        file.bytes[at] ^= 0x40
        #expect(refusal(file) == nil)
        expectRefused(file, verify: true, "1 of 3 encoders fail verification", "(encoder text_encoder)", "'\(member.program.tensors[0].name)'")
    }

    @Test func singleEncoderFieldInAPipelineManifest() {
        var file = Self.good
        file.editManifest { $0.pointee.hyper = skrr_model_hyper_new() }
        expectRefused(file, "manifest.hyper", "is set in a pipeline file")
    }

    @Test func pipelineMessageMissing() {
        var file = Self.good
        file.editManifest { $0.pointee.pipeline = nil }  // (leaks the small message; a test)
        expectRefused(file, "manifest.pipeline", "is missing")
    }

    @Test func pipelineFieldInASingleEncoderFile() throws {
        var file = FileBytes(path: try Compiled.file("t5-v1_1"))
        file.editManifest { $0.pointee.pipeline = skrr_pipeline_new("sd3") }
        let path = file.write()
        #expect { try RuntimeFile(path: path) } throws: { "\($0)".contains("manifest.pipeline") && "\($0)".contains("is set in a format 1 file") }
    }

    @Test func unknownOrUncombinedKind() {
        var file = Self.good
        file.editManifest { _ = skrr_pb_set_string(&members($0).pointee.kind, "sdxl") }
        expectRefused(file, "manifest.pipeline.kind", "expected sd3 or flux, got 'sdxl'")
        // FLUX combines one CLIP tower with T5; these are SD3's three encoders.
        file = Self.good
        file.editManifest { _ = skrr_pb_set_string(&members($0).pointee.kind, "flux") }
        expectRefused(file, "(encoder text_encoder)", "manifest.preset.name", "expected 'flux' (the pipeline's kind), got 'sd3'")
    }

    @Test func versionDisagreesWithTheHeader() {
        var file = Self.good
        file.editManifest { $0.pointee.format_version = 2 }
        expectRefused(file, "manifest.format_version", "expected 3 (the header's version), got 2")
    }

    @Test func memberCountOutOfRange() {
        var file = Self.good
        file.editManifest { members($0).pointee.n_members = 1 }
        expectRefused(file, "manifest.pipeline.members", "expected 2...8 encoders, got 1")
    }

    @Test func repeatedOrEmptyName() {
        var file = Self.good
        file.editManifest { _ = skrr_pb_set_string(&members($0).pointee.members[2]!.pointee.name, "text_encoder") }
        expectRefused(file, "manifest.pipeline.members[2].name", "'text_encoder' names two members")
        file = Self.good
        file.editManifest { _ = skrr_pb_set_string(&members($0).pointee.members[0]!.pointee.name, "") }
        expectRefused(file, "manifest.pipeline.members[0].name", "expected a name of 1...256 bytes")
    }

    @Test func memberRangeWrong() {
        var file = Self.good
        file.editManifest { members($0).pointee.members[1]!.pointee.offset += 1 }
        expectRefused(file, "manifest.pipeline.members[1]", "is not a multiple of the alignment 64")
        file = Self.good
        file.editManifest { members($0).pointee.members[2]!.pointee.length += 64 }
        expectRefused(file, "manifest.pipeline.members[2]", "lie outside its")
        file = Self.good
        file.editManifest { members($0).pointee.members[1]!.pointee.offset = 0 }
        expectRefused(file, "manifest.pipeline.members[1]", "overlaps 'text_encoder'")
        file = Self.good
        file.editManifest { members($0).pointee.members[0]!.pointee.length = 32 }
        expectRefused(file, "manifest.pipeline.members[0].length", "expected at least 64 bytes")
    }

    /// A member that claims to be a pipeline file itself (format 3) is refused before it is read.
    @Test func nestedPipelineMember() {
        var file = Self.good
        let start = memberStart(1)
        file.setU32(start + 8, 3)
        file.setU64(start + 56, XXH64.hash(Array(file.bytes[start..<(start + 56)])))
        let header = XXH64.hash(Array(file.bytes[start..<(start + 64)]))
        file.editManifest { members($0).pointee.members[1]!.pointee.header_checksum = header }
        expectRefused(file, "(encoder text_encoder_2)", "header.format_version", "a pipeline file's member holds one encoder (format 1 or 2), got format 3")
    }

    /// A member compiled with another pipeline's preset would give a joint conditioning that is
    /// not the pipeline's: refused.
    @Test func memberWithAnotherPreset() throws {
        let members = try [PipelineFiles.member("sd3-full", "text_encoder", kind: .sd3),
                           PipelineFiles.member("sd3-full", "text_encoder_2", kind: .sd3, preset: .generic),
                           PipelineFiles.member("sd3-full", "text_encoder_3", kind: .sd3)]
        let path = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/generic.skrr"
        try PipelineFileWriter.write(kind: .sd3, members: members, sourceModel: "", passes: "", to: path)
        expectRefused(FileBytes(path: path), "(encoder text_encoder_2)", "manifest.preset.name", "expected 'sd3' (the pipeline's kind), got 'generic'")
    }

    /// SD3 without its second CLIP tower: the roles do not add up.
    @Test func membersThatAreNotThePipeline() throws {
        let members = try [PipelineFiles.member("sd3-full", "text_encoder", kind: .sd3),
                           PipelineFiles.member("sd3-full", "text_encoder_3", kind: .sd3)]
        let path = TestPaths.makeTemporaryDirectory("skrr-pipeline") + "/partial.skrr"
        try PipelineFileWriter.write(kind: .sd3, members: members, sourceModel: "", passes: "", to: path)
        expectRefused(FileBytes(path: path), "manifest.pipeline.members", "sd3 combines 2 CLIP encoder(s) and one T5 encoder; this pipeline has 1 CLIP (text_encoder)")
    }

    /// Random byte flips anywhere: refused or loaded, never a crash.
    @Test func randomFlipsNeverCrash() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<64 {
            var file = Self.good
            let at = next() % file.bytes.count
            file.bytes[at] ^= UInt8(truncatingIfNeeded: next() | 1)
            _ = refusal(file, verify: true)
        }
    }
}
