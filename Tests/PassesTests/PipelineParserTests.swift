import SkrrPasses
import SkrrSupport
import Testing

@Suite struct PipelineParserTests {
    @Test func parsesNamesAndOptions() throws {
        let pipeline = try PipelineParser.parse("skip-search{sparsity=0.4 beam=3},reuse-rewrite, dead-weight-elim")
        #expect(pipeline.map(\.name) == ["skip-search", "reuse-rewrite", "dead-weight-elim"])
        #expect(pipeline[0].options.map(\.key) == ["sparsity", "beam"])
        #expect(pipeline[0].options.map(\.value) == ["0.4", "3"])
        #expect(pipeline[0].description == "skip-search{sparsity=0.4 beam=3}")
    }

    @Test func emptyIsTheIdentityPipeline() throws {
        #expect(try PipelineParser.parse("") == [])
        #expect(try PipelineParser.parse("   ") == [])
    }

    @Test(arguments: [
        ("a,,b", "expected a pass name"),
        ("a{x=1", "unclosed '{'"),
        ("a{x}", "option 'x' of pass 'a' is not key=value"),
        ("a{x=1 x=2}", "option 'x' of pass 'a' is given twice"),
        ("a b", "expected ',' between passes"),
        ("a,", "expected a pass name"),
    ])
    func malformedPipelinesAreRefused(_ testCase: (String, String)) {
        #expect {
            try PipelineParser.parse(testCase.0)
        } throws: { error in
            "\(error)".contains(testCase.1)
        }
    }

    @Test func registryRefusesUnknownPassesAndOptions() throws {
        #expect(throws: SkrrError.self) { try PassRegistry.validate([PassInvocation(name: "nope")]) }
        let withOption = PassInvocation(name: "dead-weight-elim", options: [("x", "1")])
        #expect {
            try PassRegistry.validate([withOption])
        } throws: { error in
            "\(error)".contains("unknown option 'x' (it takes none)")
        }
    }
}
