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

    /// Found by mutation (issue 15): negative numbers read as options ("Missing value"), checks
    /// of missing values hid misspelt options, and some options were silently ignored.
    @Test(arguments: [
        (["-O", "prune", "--sparsity", "-0.1", "-o", "x.skrr"], "--sparsity must be in 0...1, got -0.1"),
        (["-O", "prune", "--beam", "-1", "-o", "x.skrr"], "--beam must be at least 1"),
        (["-O", "prune", "--screen", "-2", "-o", "x.skrr"], "--screen must be 0 (off) or a number of prompts, got -2"),
        (["--sparsity", "0.3", "-o", "x.skrr"], "--sparsity applies to -O prune, and this run does not prune (add -O prune)"),
        (["--calib", "parti", "-o", "x.skrr"], "--calib applies to -O prune, and this run does not prune"),
        (["--passes", "dead-weight-elim", "--beam", "2", "-o", "x.skrr"], "--beam applies to -O prune; with --passes write it as an option of the pass"),
        (["--bogus"], "Unknown option '--bogus'"),
    ])
    func compileOptionMistakesAreNamed(_ arguments: [String], _ message: String) throws {
        let result = try runSkrrc([TestPaths.fixture("t5-v1_1")] + arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: skrrc compile"), "\(result.stderr)")
    }

    @Test(arguments: [
        (["--ids", "-1 5"], "-1 is negative; token ids are 0...2147483647"),
        (["--ids", "4294967296"], "4294967296 is above the largest token id, 2147483647"),
        (["--ids", "5 x"], "'x' is not an integer"),
        (["--promt", "a"], "Unknown option '--promt'"),
    ])
    func runOptionMistakesAreNamed(_ arguments: [String], _ message: String) throws {
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "-o", "never-written.npy"] + arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func optRefusesAnUnknownPrintIRAfter() throws {
        let result = try runSkrrc(["opt", "-", "--print-ir-after", "bogus"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--print-ir-after must be 'all' or a pass name (skip-search, reuse-rewrite, dead-weight-elim, shortgpt, laco), got 'bogus'"), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: skrrc opt"), "\(result.stderr)")
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
