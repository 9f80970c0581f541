import SkrrIR
import SkrrSupport
import SkrrTestSupport
import Testing

/// Merged tensors (LaCo's `merge base %a deltas [...]`): text form, verifier rules, parameter
/// accounting and dead-weight elimination of their inputs.
@Suite struct MergedTensorTests {
    static let q0 = "%encoder.block.0.layer.0.SelfAttention.q.weight"
    static let q1 = "%encoder.block.1.layer.0.SelfAttention.q.weight"
    static let lastTensor = "%encoder.final_layer_norm.weight f32[4] file 0 offset 1504 bytes 16"

    /// t5-tiny with `declaration` appended to the tensors and sub-block 0's q.weight pointing at `%m`.
    func model(_ declaration: String, useIt: Bool = true) throws -> String {
        var text = try IRInputs.mutated(Self.lastTensor, Self.lastTensor + "\n    " + declaration)
        if useIt { text = text.replacingOccurrences(of: "q.weight \(Self.q0)", with: "q.weight %m") }
        return text
    }

    @Test func mergeRoundTripsThroughText() throws {
        let text = try model("%m f32[6, 4] merge base \(Self.q0) deltas [\(Self.q1)]")
        let parsed = try IRParser.parse(text)
        try IRVerifier.verify(parsed)
        let merged = try #require(parsed.tensor(named: "m"))
        #expect(merged.origin == .merge(base: "encoder.block.0.layer.0.SelfAttention.q.weight",
                                        deltas: ["encoder.block.1.layer.0.SelfAttention.q.weight"]))
        #expect(merged.location == nil)
        let printed = IRPrinter.print(parsed)
        #expect(printed.contains("%m f32[6, 4] merge base \(Self.q0) deltas [\(Self.q1)]"))
        #expect(try IRPrinter.print(IRParser.parse(printed)) == printed)
    }

    @Test func nestedMergesAndQuotedNamesRoundTrip() throws {
        let text = try model("%m1 f32[6, 4] merge base \(Self.q0) deltas [\(Self.q1)]\n    "
            + "%\"m 2\" bf16[6, 4] merge base %m1 deltas [\(Self.q0), \(Self.q1)]", useIt: false)
            .replacingOccurrences(of: "q.weight \(Self.q0)", with: "q.weight %\"m 2\"")
        let parsed = try IRParser.parse(text)
        #expect(IRVerifier.problems(in: parsed) == [])
        let printed = IRPrinter.print(parsed)
        #expect(try IRPrinter.print(IRParser.parse(printed)) == printed)
        #expect(parsed.requiredTensors.isSuperset(of: ["m1", "m 2"]))
    }

    @Test func mergeInputsAreNeitherCountedNorDroppedWhileNeeded() throws {
        // Sub-block 2 (block 1's attention) is skipped; its q feeds the merge run in slot 0.
        let text = try model("%m f32[6, 4] merge base \(Self.q0) deltas [\(Self.q1)]")
            .replacingOccurrences(of: "slot 2 run 2", with: "slot 2 skip")
        let parsed = try IRParser.parse(text)
        try IRVerifier.verify(parsed)
        // Kept: 380 source params − sub-block 2 (100) + the merge replaces q0 one for one (24 − 24).
        #expect(parsed.keptParameters == 380 - 100)
        #expect(!parsed.referencedTensors.contains("encoder.block.1.layer.0.SelfAttention.q.weight"))
        #expect(parsed.requiredTensors.contains("encoder.block.1.layer.0.SelfAttention.q.weight"))
        #expect(parsed.requiredTensors.contains("encoder.block.0.layer.0.SelfAttention.q.weight"))
        #expect(!parsed.requiredTensors.contains("encoder.block.1.layer.0.SelfAttention.k.weight"))
    }

    @Test(arguments: [
        ("%m f32[6, 4] merge base %nope deltas [\(q1)]", "tensor %m: merge input %nope is not declared before it"),
        ("%m f32[6, 4] merge base \(q0) deltas []", "tensor %m: a merge needs at least one delta"),
        ("%m f32[6, 4] merge base \(q0) deltas [\(q0)]", "tensor %m: merge input %encoder.block.0.layer.0.SelfAttention.q.weight appears twice"),
        ("%m f32[6, 4] merge base %m deltas [\(q1)]", "tensor %m: merge input %m is not declared before it"),
        ("%m f32[4, 6] merge base \(q0) deltas [\(q1)]", "tensor %m [4, 6]: merge input %encoder.block.0.layer.0.SelfAttention.q.weight has shape [6, 4]"),
    ])
    func badMergesAreReported(_ example: (String, String)) throws {
        let found = IRVerifier.problems(in: try IRParser.parse(try model(example.0)))
        #expect(found.contains(example.1), "\(found)")
    }

    @Test func forwardReferencesAreRefusedSoMergesCannotCycle() throws {
        let text = try model("%m f32[6, 4] merge base \(Self.q0) deltas [%later]\n    "
            + "%later f32[6, 4] merge base \(Self.q1) deltas [%m]")
        let found = IRVerifier.problems(in: try IRParser.parse(text))
        #expect(found.contains("tensor %m: merge input %later is not declared before it"), "\(found)")
    }

    @Test func unknownOriginIsASyntaxError() throws {
        do {
            _ = try IRParser.parse(try model("%m f32[6, 4] sum base \(Self.q0)"), source: "in.ir")
            Issue.record("parsed")
        } catch let error as SkrrError {
            #expect(error.description.contains("expected 'file' or 'merge' after the shape of %m, found 'sum'"), "\(error)")
        }
    }
}
