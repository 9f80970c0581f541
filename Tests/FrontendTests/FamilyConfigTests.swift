import SkrrFrontend
import SkrrIR
import SkrrTestSupport
import Testing

/// Per-family facts the importer must set because nothing below the Frontend may ask the
/// family: here, whether transformers' last `hidden_states` entry is taken after the final norm.
@Suite struct FamilyConfigTests {
    /// T5Stack applies final_layer_norm before it appends the last hidden state; CLIP's text
    /// transformer applies it after its encoder returns; BERT is post-norm and has none.
    @Test(arguments: [
        ("t5-v1_1", true), ("t5-relu", true), ("umt5", true),
        ("clip", false), ("clip-proj", false), ("bert", false),
    ])
    func importerSetsWhetherTheLastLayerIncludesTheFinalNorm(_ fixture: String, _ expected: Bool) throws {
        let ir = try ModelImporter.importModel(at: TestPaths.fixture(fixture)).ir
        #expect(ir.config.lastLayerIncludesFinalNorm == expected, "\(fixture) (\(ir.family.rawValue))")
    }
}
