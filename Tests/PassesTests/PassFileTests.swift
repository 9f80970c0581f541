import Foundation
import SkrrIR
import SkrrPasses
import SkrrTestSupport
import Testing

/// Compiler-style tests: each `Inputs/*.ir` file is a model whose first line `// RUN: PIPELINE`
/// names the passes to run; its `// CHECK` lines describe the printed result, and optional
/// `// COST:`, `// PAIR:`, `// REUSE:` lines script the discrepancy searches see.
@Suite struct PassFileTests {
    static let inputs: [String] = {
        let dir = TestPaths.repositoryRoot + "/Tests/PassesTests/Inputs"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".ir") }.sorted()
    }()

    @Test func thereAreInputs() {
        #expect(PassFileTests.inputs.count >= 3)
    }

    @Test(arguments: inputs)
    func runAndCheck(_ name: String) throws {
        let path = TestPaths.repositoryRoot + "/Tests/PassesTests/Inputs/" + name
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let firstLine = String(text.prefix(while: { $0 != "\n" }))
        #expect(firstLine.hasPrefix("// RUN:"), "first line must be // RUN: PIPELINE")
        let pipeline = try PipelineParser.parse(String(firstLine.dropFirst("// RUN:".count)))
        var model = try IRParser.parse(text, source: name)
        try IRVerifier.verify(model, source: name)
        let context = ScriptedScorer.from(text).map { PassContext(scheduleScorer: $0) } ?? PassContext()
        var manager = try PassManager(pipeline)
        manager.instrumentations.append(VerifyEachPass())
        model = try manager.run(model, context: context)
        let output = IRPrinter.print(model)
        let failure = FileCheck(checkSource: text).match(output)
        #expect(failure == nil, "\(failure ?? "")\n--- output ---\n\(output)")
        // Whatever a pass produces must itself round-trip.
        #expect(try IRPrinter.print(IRParser.parse(output)) == output)
    }
}
