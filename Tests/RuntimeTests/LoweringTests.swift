import SkrrFrontend
import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrTestSupport
import Testing

/// Lowering executes config attributes, never the family name.
@Suite struct LoweringTests {
    func lowered(_ fixture: String, lastLayerIncludesFinalNorm: Bool) throws -> (ModelIR, EncoderProgram) {
        var ir = try ModelImporter.importModel(at: TestPaths.fixture(fixture)).ir
        ir.config.lastLayerIncludesFinalNorm = lastLayerIncludesFinalNorm
        return (ir, try Lowering.lower(ir))
    }

    /// A T5 IR edited to false (and a CLIP IR edited to true) lowers to what the attribute
    /// says, not to what the family would suggest.
    @Test(arguments: [("t5-v1_1", false), ("t5-v1_1", true), ("clip", true), ("clip", false)])
    func finalNormPlacementFollowsTheAttribute(_ fixture: String, _ value: Bool) throws {
        let (_, program) = try lowered(fixture, lastLayerIncludesFinalNorm: value)
        #expect(program.spec.finalNormInsideStack == value)
    }

    /// What the flag means at run time: the last layer's state is the normed output when the
    /// norm is inside the stack, and the last block's raw output otherwise.
    @Test(arguments: [false, true])
    func lastLayerOutputFollowsTheAttribute(_ value: Bool) throws {
        let (ir, program) = try lowered("t5-v1_1", lastLayerIncludesFinalNorm: value)
        let encoder = try Interpreter(program: program, weights: try SourceWeights(model: ir))
        let output = try encoder.run(TokenBatch(ids: [[5, 17, 9, 1]]), layers: [-1])
        let last = try #require(output.layers[program.blockCount])
        #expect((last == output.hidden) == value)
    }
}
