import Foundation
import SkrrDriver
import SkrrEvaluation
import SkrrFrontend
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// Joint encoding of a whole pipeline (issue 16) against diffusers' own `encode_prompt` on the
/// complete SD3 and FLUX fixtures (scripts/make_pipeline_fixtures.py): every encoder, tokenizer
/// and pad rule at once, f32 within 1e-4 relative.
@Suite struct JointEncodeTests {
    struct Reference {
        let file: SafeTensorsFile
        init(_ fixture: String) throws { file = try SafeTensorsFile(path: TestPaths.fixture(fixture + "/reference.safetensors")) }

        func floats(_ name: String) throws -> (shape: [Int], values: [Float]) {
            let entry = try #require(file.entry(named: name))
            let bytes = file.data(of: entry)
            return (entry.shape, (0..<entry.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) })
        }

        func idRows(_ name: String) throws -> [[Int32]] {
            let entry = try #require(file.entry(named: name))
            let bytes = file.data(of: entry)
            return (0..<entry.shape[0]).map { r in
                (0..<entry.shape[1]).map { Int32(bytes.loadUnaligned(fromByteOffset: (r * entry.shape[1] + $0) * 8, as: Int64.self)) }
            }
        }

        /// The prompts the reference was made from (JSON list in the metadata).
        func prompts() throws -> [String] {
            let text = try #require(file.metadata.first { $0.key == "prompts" }?.value)
            return try #require(try JSONParser.parse(text).arrayValue).compactMap(\.stringValue)
        }
    }

    func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        var worst: Float = 0, scale: Float = 0
        for i in expected.indices {
            worst = max(worst, abs(actual[i] - expected[i]))
            scale = max(scale, abs(expected[i]))
        }
        return worst / scale
    }

    func floats(_ array: NamedArray) -> [Float] {
        if case let .float32(values) = array.values { return values }
        return []
    }

    /// Encodes `prompts` with the whole pipeline (its folder, or `file`) and compares both arrays
    /// with the reference.
    func checkParity(_ fixture: String, prompts: [String], prefix: String, file: String? = nil) throws {
        let reference = try Reference(fixture)
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture(fixture)))
        let session = try file.map { try PipelineSession(file: try PipelineRuntimeFile(path: $0)) } ?? PipelineSession(folder: folder)
        let arrays = try session.encode(prompts: prompts.enumerated().map { ($1, "prompt \($0 + 1)") })
        #expect(arrays.map(\.name) == ["prompt_embeds", "pooled_prompt_embeds"])
        for (array, name) in zip(arrays, [prefix + "prompt_embeds", prefix + "pooled_prompt_embeds"]) {
            let expected = try reference.floats(name)
            #expect(array.shape == expected.shape, "\(fixture) \(name)")
            guard array.shape == expected.shape else { continue }
            let error = relativeError(floats(array), expected.values)
            #expect(error <= 1e-4, "\(fixture) \(name): relative error \(error)")
        }
    }

    @Test(arguments: ["sd3-full", "flux-full"])
    func jointConditioningMatchesDiffusers(_ fixture: String) throws {
        let prompts = try Reference(fixture).prompts()
        #expect(prompts.count == 2)
        try checkParity(fixture, prompts: prompts, prefix: "")
        // The null prompt classifier-free guidance uses (and the joint D's second term).
        try checkParity(fixture, prompts: ["", ""], prefix: "negative_")
    }

    /// The whole pipeline converted into one runtime file (`skrrc PIPELINE -o FILE.skrr`) matches
    /// diffusers as the folder does, and each member is the file `--encoder NAME` writes alone.
    @Test(arguments: ["sd3-full", "flux-full"])
    func pipelineFileMatchesDiffusers(_ fixture: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture(fixture)))
        var options = CompileOptions(model: folder.path)
        options.out = dir + "/pipeline.skrr"
        try options.validate()
        try JointPruneJob.convert(options, folder: folder)
        let prompts = try Reference(fixture).prompts()
        try checkParity(fixture, prompts: prompts, prefix: "", file: dir + "/pipeline.skrr")
        try checkParity(fixture, prompts: ["", ""], prefix: "negative_", file: dir + "/pipeline.skrr")
        let file = try PipelineRuntimeFile(path: dir + "/pipeline.skrr")
        let bytes = try #require(FileManager.default.contents(atPath: dir + "/pipeline.skrr"))
        let kind: PipelineKind = fixture == "sd3-full" ? .sd3 : .flux
        for (member, placed) in zip(file.members, file.info.members) {
            var single = CompileOptions(model: folder.path)
            single.encoder = member.name
            single.calibration.pipeline = kind
            single.out = dir + "/\(member.name).skrr"
            try CompileJob.run(single)
            let start = Int(file.info.header.dataOffset) + placed.extent.offset
            #expect(bytes[start..<(start + placed.extent.length)] == (try #require(FileManager.default.contents(atPath: single.out!))),
                    "\(member.name)")
        }
    }

    /// Every member of a pipeline file needs its tokenizer: `run FILE` tokenizes each prompt for
    /// each encoder. A folder without one is refused, naming the encoder's folder.
    @Test func pipelineFileNeedsEveryTokenizer() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let copy = dir + "/sd3"
        try FileManager.default.copyItem(atPath: TestPaths.fixture("sd3-full"), toPath: copy)
        try FileManager.default.removeItem(atPath: copy + "/tokenizer_3")
        let folder = try #require(try PipelineFolder.read(copy))
        var options = CompileOptions(model: copy)
        options.out = dir + "/x.skrr"
        #expect { try JointPruneJob.convert(options, folder: folder) } throws: {
            "\($0)".contains("text_encoder_3") && "\($0)".contains("every encoder of a pipeline file needs its tokenizer")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.skrr"))
    }

    /// SD3's CLIP-G tokenizer pads with "!" and, as transformers does, treats a "!" in the prompt
    /// as that special token; CLIP-L pads with its end token. The long reference prompt starts
    /// with "Epic!", so both rules show in the ids.
    @Test func eachCLIPTokenizerPadsAsDiffusersDoes() throws {
        let reference = try Reference("sd3-full")
        let prompts = try reference.prompts()
        for (encoder, idsName) in [("text_encoder", "clip_l_input_ids"), ("text_encoder_2", "clip_g_input_ids")] {
            let session = try EncoderSession(model: TestPaths.fixture("sd3-full"), encoder: encoder, pipeline: .sd3)
            let batch = try session.batch(prompts: prompts.map { ($0, "prompt") }, maxTokens: 512)
            let pad = Int32(try #require(session.program.spec.padTokenId))
            let padded = batch.ids.map { $0 + [Int32](repeating: pad, count: batch.length - $0.count) }
            #expect(padded == (try reference.idRows(idsName)), "\(encoder)")
        }
        let clipG = try reference.idRows("clip_g_input_ids"), clipL = try reference.idRows("clip_l_input_ids")
        #expect(clipG[1].contains(0) && clipG[1].last == 813 && clipL[1][4] != clipG[1][4], "the fixture exercises the \"!\" rule")
        #expect(clipG[0].last == 0 && clipL[0].last == 813)
    }

    @Test func pipelineFolderNamesItsKindAndEncoders() throws {
        let sd3 = try #require(try PipelineFolder.read(TestPaths.fixture("sd3-full")))
        #expect(sd3.kind == .sd3 && sd3.encoders == ["text_encoder", "text_encoder_2", "text_encoder_3"] && sd3.isJoint)
        let flux = try #require(try PipelineFolder.read(TestPaths.fixture("flux-full")))
        #expect(flux.kind == .flux && flux.encoders == ["text_encoder", "text_encoder_2"])
        // [null, null] components are left out.
        let partial = try #require(try PipelineFolder.read(TestPaths.fixture("sd3-pipeline")))
        #expect(partial.encoders == ["text_encoder", "text_encoder_3"])
        #expect(try PipelineFolder.read(TestPaths.fixture("t5-v1_1")) == nil)
        #expect(PipelineFolder.kind(ofClass: "StableDiffusion3Img2ImgPipeline") == .sd3)
        #expect(PipelineFolder.kind(ofClass: "FluxImg2ImgPipeline") == .flux)
        #expect(PipelineFolder.kind(ofClass: "KandinskyPipeline") == nil)
    }

    @Test func incompletePipelinesAreRefusedByName() throws {
        // SD3 without CLIP-G: the message names what is there.
        let partial = try #require(try PipelineFolder.read(TestPaths.fixture("sd3-pipeline")))
        #expect { try PipelineSession(folder: partial) } throws: {
            "\($0)".contains("sd3 combines 2 CLIP encoder(s) and one T5 encoder; this pipeline has 1 CLIP (text_encoder)")
        }
        let flux = try #require(try PipelineFolder.read(TestPaths.fixture("flux-full")))
        #expect { try PipelineSession(folder: flux, pipeline: .sd3) } throws: {
            "\($0)".contains("is FluxPipeline (flux), but --pipeline sd3 was given")
        }
    }
}

/// The denoiser's reading of the joint conditioning (issue 16's D): the fixtures' own
/// `context_embedder` and `time_text_embed.text_embedder`, against the same modules run by
/// diffusers on the reference conditioning.
@Suite struct JointDiscrepancyTests {
    func arrays(_ reference: JointEncodeTests.Reference, prefix: String) throws -> JointConditioning.Arrays {
        let prompt = try reference.floats(prefix + "prompt_embeds"), pooled = try reference.floats(prefix + "pooled_prompt_embeds")
        return JointConditioning.Arrays(promptEmbeds: prompt.values, tokens: prompt.shape[1], width: prompt.shape[2],
                                        pooled: pooled.values, pooledWidth: pooled.shape[1])
    }

    @Test(arguments: ["sd3-full", "flux-full"])
    func projectionsMatchTheDenoisersModules(_ fixture: String) throws {
        let reference = try JointEncodeTests.Reference(fixture)
        let conditioning = try arrays(reference, prefix: "")
        let (context, pooled) = try ProjectionLoading.loadJoint(TestPaths.fixture(fixture), promptWidth: conditioning.width,
                                                                pooledWidth: conditioning.pooledWidth)
        let joint = JointDiscrepancy(context: try #require(context), pooled: try #require(pooled))
        let features = try joint.features(conditioning)
        let tests = JointEncodeTests()
        #expect(tests.relativeError(features.prompt, try reference.floats("context").values) <= 1e-5)
        #expect(tests.relativeError(features.pooled, try reference.floats("pooled_projected").values) <= 1e-5)
    }

    @Test func discrepancyIsBothMeanSquaredErrorsOverPromptsAndTheNullPrompt() throws {
        let reference = try JointEncodeTests.Reference("sd3-full")
        let (context, pooled) = try ProjectionLoading.loadJoint(TestPaths.fixture("sd3-full"), promptWidth: 96, pooledWidth: 80)
        let joint = JointDiscrepancy(context: context, pooled: pooled)
        let dense = try joint.features(try arrays(reference, prefix: ""))
        let null = try joint.features(try arrays(reference, prefix: "negative_"))
        #expect(try JointDiscrepancy.discrepancy(calibration: [dense], dense: [dense], null: (null, null)) == 0)
        // Shift one projected prompt value by 0.5 and one pooled value by 2: D = 0.25 / n + 4 / m.
        var changed = dense
        changed.prompt[7] += 0.5
        changed.pooled[3] += 2
        // (The shifts as f32 actually stored them.)
        let dp = Double(changed.prompt[7]) - Double(dense.prompt[7]), dq = Double(changed.pooled[3]) - Double(dense.pooled[3])
        #expect(abs(dp - 0.5) < 1e-3 && abs(dq - 2) < 1e-3)
        let expected = dp * dp / Double(dense.prompt.count) + dq * dq / Double(dense.pooled.count)
        let d = try JointDiscrepancy.discrepancy(calibration: [changed], dense: [dense], null: (null, null))
        #expect(abs(d - expected) <= 1e-9 * expected)
        // The null term is its own mean: the same change on the empty prompt counts per its size.
        var changedNull = null
        changedNull.pooled[0] += 1
        let withNull = try JointDiscrepancy.discrepancy(calibration: [dense], dense: [dense], null: (changedNull, null))
        let dn = Double(changedNull.pooled[0]) - Double(null.pooled[0])
        #expect(abs(withNull - dn * dn / Double(null.pooled.count)) <= 1e-12)
        #expect(throws: SkrrError.self) { try JointDiscrepancy.discrepancy(calibration: [dense, dense], dense: [dense], null: nil) }
    }

    @Test func mismatchedDenoisersAreRefusedByKey() throws {
        #expect { try ProjectionLoading.loadJoint(TestPaths.fixture("sd3-full"), promptWidth: 64, pooledWidth: 80) } throws: {
            "\($0)".contains("context_embedder.weight") && "\($0)".contains("takes inputs of width 96, but prompt_embeds are 64 wide")
        }
        #expect { try ProjectionLoading.loadJoint(TestPaths.fixture("flux-full"), promptWidth: 64, pooledWidth: 80) } throws: {
            "\($0)".contains("time_text_embed.text_embedder.linear_1.weight") && "\($0)".contains("width 32, but pooled_prompt_embeds are 80 wide")
        }
    }
}
