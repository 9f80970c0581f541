import SkrrTestSupport
import Testing

/// Exit status contract (docs/architecture.md §8): 0 success, 1 bad input, 64 bad usage.
@Suite struct UsageTests {
    @Test func helpDescribesTheCommands() throws {
        let result = try runSkrrc(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("compile"))
        #expect(result.stdout.contains("opt"))
        #expect(result.stdout.contains("Exit status: 0 success, 1 bad input or failed check, 64 bad usage."))
    }

    @Test func unknownFlagIsBadUsage() throws {
        let result = try runSkrrc([TestPaths.fixture("t5-v1_1"), "--emit-ir", "--frobnicate"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--frobnicate"))
    }

    @Test func missingModelArgumentIsBadUsage() throws {
        #expect(try runSkrrc(["--emit-ir"]).status == 64)
    }

    @Test func compileWithoutOutputSaysWhatToPass() throws {
        let result = try runSkrrc([TestPaths.fixture("t5-v1_1")])
        #expect(result.status == 64)
        #expect(result.stderr.contains("nothing to write: pass -o OUT.skrr, -o OUT.ir and/or --emit-ir"), "\(result.stderr)")
    }

    @Test func unknownPassIsBadUsageAndListsPasses() throws {
        let result = try runSkrrc(["opt", "-", "--passes", "skip-everything"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown pass (available: skip-search, reuse-rewrite, dead-weight-elim, shortgpt, laco)"), "\(result.stderr)")
    }

    @Test func malformedPipelineIsBadUsage() throws {
        let result = try runSkrrc(["opt", "-", "--passes", "dead-weight-elim{x"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("unclosed '{'"), "\(result.stderr)")
    }

    @Test func optOnBrokenIRIsBadInput() throws {
        let result = try runSkrrc(["opt", "-"], stdin: "model t5 \"x\" {\n  bogus\n}\n")
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: <stdin>: line 2, column 3: unknown declaration 'bogus'"), "\(result.stderr)")
    }

    @Test func optOnMissingFileIsBadInput() throws {
        let result = try runSkrrc(["opt", "/nonexistent/x.ir"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/x.ir: cannot open"), "\(result.stderr)")
    }
}
