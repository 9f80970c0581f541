import SkrrBackend
import SkrrLowering
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

@Suite struct OutputSelectionTests {
    @Test func parsesTheSpellingsAndGivesThemBack() {
        let spellings: [(String, OutputSelection)] = [
            ("hidden", .hidden), ("pooled", .pooled), ("projected", .projected), ("layer:0", .layer(0)),
            ("layer:-2", .layer(-2)), ("layer:12", .layer(12)),
        ]
        for (text, selection) in spellings {
            #expect(OutputSelection(text) == selection, "\(text)")
            #expect(selection.description == text)
        }
    }

    @Test func refusesTypos() {
        for text in ["", "hiden", "Hidden", "pooled ", "layer", "layer:", "layer:x", "layer:1.5", "layers:1", "last"] {
            #expect(OutputSelection(text) == nil, "'\(text)' parsed")
        }
    }

    /// What the writer stores is what the loader reads back, for every kind of selection.
    @Test(arguments: [OutputSelection.hidden, .pooled, .projected, .layer(-2), .layer(2)])
    func runtimeFileStoresTheDefaultOutput(_ selection: OutputSelection) throws {
        let ir = try Compiled.ir("clip-proj")
        let options = RuntimeFileWriter.Options(
            preset: try PipelinePreset.preset(for: .generic, clipEncoder: true), defaultOutput: selection,
            sourceModel: ir.name, passes: "", paramsTotal: ir.sourceParameters)
        let path = TestPaths.makeTemporaryDirectory("skrr-output") + "/o.skrr"
        try RuntimeFileWriter.write(try Lowering.lower(ir), weights: try SourceWeights(model: ir), options: options, to: path)
        #expect(try RuntimeFile(path: path).info.defaultOutput == selection)
    }
}
