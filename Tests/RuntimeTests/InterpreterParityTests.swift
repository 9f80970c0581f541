import SkrrLowering
import SkrrFrontend
import SkrrIR
import SkrrRuntime
import SkrrTestSupport
import Testing

/// The interpreter against transformers on every family: ragged padded batches (one sequence
/// longer than T5's relative_attention_max_distance), single prompts, pooled, projected and
/// penultimate outputs. f32 must agree within 1e-4 relative; the bf16 fixture is compared with
/// a reference run on the same bf16-rounded weights. t5-trained's and t5-deep's references hold
/// real prompts (rows of 136 and more than 150 tokens, past their max_distance of 128) run through
/// trained weights; t5-deep stacks 24 blocks, so errors have 48 sub-blocks to accumulate over.
@Suite struct InterpreterParityTests {
    static let tolerance: Float = 1e-4
    /// Fixtures whose reference holds transformers' `hidden_states[-2]` (the CLIP towers, whose
    /// penultimate layer SDXL and SD3 consume; scripts/make_fixtures.py).
    static let penultimateReferences: Set<String> = ["clip", "clip-proj"]

    func interpreter(_ fixture: String) throws -> Interpreter {
        let imported = try ModelImporter.importModel(at: TestPaths.fixture(fixture))
        return try Interpreter(program: try Lowering.lower(imported.ir), weights: try SourceWeights(model: imported.ir))
    }

    /// Reference ids with the padding removed, as a user would pass them.
    func raggedIds(_ reference: ReferenceFile) throws -> [[Int32]] {
        let ids = try reference.rows("input_ids"), mask = try reference.rows("attention_mask")
        return zip(ids, mask).map { row, m in Array(row.prefix(Int(m.reduce(0, +)))) }
    }

    /// `compute = .bf16` on the bf16 fixture: the bf16 kernel really runs (results differ from
    /// the exact path), stays within bf16 accuracy of transformers' f32 computation on the same
    /// weights, and is deterministic.
    @Test(.enabled(if: Interpreter.bf16ComputeSupported, "this CPU has no AVX-512 BF16"))
    func bf16ComputeStaysWithinBF16Accuracy() throws {
        let reference = try ReferenceFile(fixture: "t5-v1_1-bf16")
        let ids = try raggedIds(reference)
        let encoder = try interpreter("t5-v1_1-bf16")
        encoder.compute = .bf16
        let first = try encoder.run(TokenBatch(ids: ids)).hidden
        let second = try encoder.run(TokenBatch(ids: ids)).hidden
        #expect(first == second)
        let error = relativeError(first, try reference.floats("last_hidden_state"))
        #expect(error > 1e-5, "the bf16 path must actually run (error \(error))")
        #expect(error < 2e-2, "last_hidden_state relative error \(error)")
        // f32-stored weights ignore the setting.
        let f32 = try interpreter("t5-v1_1")
        let exact = try f32.run(TokenBatch(ids: ids)).hidden
        f32.compute = .bf16
        #expect(try f32.run(TokenBatch(ids: ids)).hidden == exact)
    }

    @Test(arguments: ["t5-v1_1", "t5-v1_1-bf16", "t5-v1_1-sharded", "t5-relu", "umt5", "t5-full", "t5-trained", "t5-deep", "clip", "clip-proj", "bert"])
    func paddedBatchMatchesTransformers(_ fixture: String) throws {
        let reference = try ReferenceFile(fixture: fixture)
        let encoder = try interpreter(fixture)
        let ids = try raggedIds(reference)
        #expect(ids.map(\.count).max()! > 16, "one sequence must be longer than max_distance")
        // Which outputs are compared follows from the fixture and its heads, not from what the
        // reference happens to hold: a reference that lost one fails here instead of skipping it.
        let penultimate = Self.penultimateReferences.contains(fixture)
        #expect(reference.has("hidden_states_penultimate") == penultimate)
        #expect(reference.has("pooler_output") == (encoder.program.pooling != nil))
        #expect(reference.has("text_embeds") == (encoder.program.projection != nil))
        let output = try encoder.run(TokenBatch(ids: ids), layers: penultimate ? [-2] : [])
        #expect(output.length == reference.shape("input_ids")[1])
        let hiddenError = relativeError(output.hidden, try reference.floats("last_hidden_state"))
        #expect(hiddenError <= Self.tolerance, "last_hidden_state relative error \(hiddenError)")
        if penultimate {
            let resolved = encoder.program.blockCount - 1
            let error = relativeError(try #require(output.layers[resolved]), try reference.floats("hidden_states_penultimate"))
            #expect(error <= Self.tolerance, "hidden_states[-2] relative error \(error)")
        }
        if encoder.program.pooling != nil {
            let error = relativeError(try #require(output.pooled), try reference.floats("pooler_output"))
            #expect(error <= Self.tolerance, "pooler_output relative error \(error)")
        }
        if encoder.program.projection != nil {
            let error = relativeError(try #require(output.projected), try reference.floats("text_embeds"))
            #expect(error <= Self.tolerance, "text_embeds relative error \(error)")
        }
    }

    @Test(arguments: ["t5-v1_1", "umt5", "t5-trained", "t5-deep", "clip", "clip-proj", "bert"])
    func singlePromptMatchesTransformers(_ fixture: String) throws {
        let reference = try ReferenceFile(fixture: fixture)
        let output = try interpreter(fixture).run(TokenBatch(ids: try reference.rows("single_input_ids")))
        let error = relativeError(output.hidden, try reference.floats("single_last_hidden_state"))
        #expect(error <= Self.tolerance, "relative error \(error)")
    }

    @Test func outOfVocabularyIdIsRefused() throws {
        #expect {
            try interpreter("t5-v1_1").run(TokenBatch(ids: [[5, 100_000, 1]]))
        } throws: { error in
            "\(error)".contains("token id 100000 (sequence 0, position 1) is outside the vocabulary of 277")
        }
    }

    @Test func tooManyPositionsIsRefused() throws {
        #expect {
            try interpreter("clip").run(TokenBatch(ids: [[Int32](repeating: 5, count: 78)]))
        } throws: { error in
            "\(error)".contains("sequences of 78 tokens exceed the encoder's 77 positions")
        }
    }

    /// Skipping every slot leaves the (normed) embeddings; a re-used slot equals running the
    /// source's weights twice. Checked against the interpreter's own dense pieces.
    @Test func skippedAndReusedSlotsFollowTheSchedule() throws {
        var imported = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1"))
        let dense = try Interpreter(program: try Lowering.lower(imported.ir), weights: try SourceWeights(model: imported.ir))
        let ids: [[Int32]] = [[5, 17, 9, 1]]
        let denseOut = try dense.run(TokenBatch(ids: ids), layers: [0])

        imported.ir.schedule = imported.ir.schedule.map { _ in .skip }
        let empty = try Interpreter(program: try Lowering.lower(imported.ir), weights: try SourceWeights(model: imported.ir))
        let emptyOut = try empty.run(TokenBatch(ids: ids), layers: [0])
        #expect(emptyOut.layers[0] == denseOut.layers[0])

        // Slot 3 (ffn of block 1) re-uses sub-block 1: output differs from dense, and equals a
        // model whose block-1 FFN tensors are block 0's.
        imported.ir.schedule = (0..<6).map { $0 == 3 ? .run(1) : .run($0) }
        let reused = try Interpreter(program: try Lowering.lower(imported.ir), weights: try SourceWeights(model: imported.ir))
        var swapped = imported.ir
        swapped.schedule = (0..<6).map { .run($0) }
        swapped.subBlocks[3].operands = imported.ir.subBlocks[1].operands
        let viaSwap = try Interpreter(program: try Lowering.lower(swapped), weights: try SourceWeights(model: swapped))
        let a = try reused.run(TokenBatch(ids: ids)).hidden, b = try viaSwap.run(TokenBatch(ids: ids)).hidden
        #expect(a == b)
        #expect(a != denseOut.hidden)
    }
}
