import SkrrIR

extension FuzzTargets {
    /// The IR text reader (lexer, parser) and the verifier, as `skrrc opt`/`run` read an IR file.
    /// The text form round-trips exactly (docs/ir.md), so a verified model must print to a text
    /// that parses back and prints identically. (Only verified models: every command verifies
    /// what it parsed before printing or using it.)
    static let ir = FuzzTarget(name: "ir", summary: "IR lexer + parser + verifier (IRParser, IRVerifier)", maxLength: 65_536) { input, check in
        let text = String(decoding: input, as: UTF8.self)
        let model = try IRParser.parse(text, source: "fuzz.ir")
        try IRVerifier.verify(model, source: "fuzz.ir")
        let printed = IRPrinter.print(model)
        let reparsed: ModelIR
        do { reparsed = try IRParser.parse(printed, source: "printed.ir") } catch {
            throw check.violation("printed IR does not parse: \(error)")
        }
        try check(IRPrinter.print(reparsed) == printed, "printed IR prints differently after parsing it again")
    }
}
