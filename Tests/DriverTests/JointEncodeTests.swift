import SkrrDriver
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

    /// Encodes `prompts` with the whole pipeline and compares both arrays with the reference.
    func checkParity(_ fixture: String, prompts: [String], prefix: String) throws {
        let reference = try Reference(fixture)
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture(fixture)))
        let session = try PipelineSession(folder: folder)
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
            "\($0)".contains("sd3 combines 2 CLIP encoder(s) and one T5 encoder; this folder has 1 CLIP (text_encoder)")
        }
        let flux = try #require(try PipelineFolder.read(TestPaths.fixture("flux-full")))
        #expect { try PipelineSession(folder: flux, pipeline: .sd3) } throws: {
            "\($0)".contains("is FluxPipeline (flux), but --pipeline sd3 was given")
        }
    }
}
