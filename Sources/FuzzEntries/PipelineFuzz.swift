import SkrrPasses

extension FuzzTargets {
    /// The textual pass-pipeline spec of `skrrc opt --passes` / `-O`: parse, resolve every pass
    /// and its typed options. A parsed pipeline must print back to a string that parses the same.
    static let pipeline = FuzzTarget(name: "pipeline", summary: "pass-pipeline spec (PipelineParser, PassRegistry)", maxLength: 1_024) { input, check in
        let text = String(decoding: input, as: UTF8.self)
        let invocations = try PipelineParser.parse(text)
        let printed = invocations.map(\.description).joined(separator: ",")
        let again: [PassInvocation]
        do { again = try PipelineParser.parse(printed) } catch {
            throw check.violation("printed pipeline '\(printed)' does not parse: \(error)")
        }
        try check(again == invocations, "printed pipeline '\(printed)' parses differently")
        let manager = try PassManager(invocations)
        _ = manager.requiredAnalyses
    }
}
