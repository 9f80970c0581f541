import Foundation
@testable import SkrrDriver
import SkrrFrontend
import SkrrPasses
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// The compile job as a library call: options in, outcome and files out, no process spawned.
@Suite struct CompileJobTests {
    @Test func usageErrorsAreFoundBeforeAnyWork() {
        var options = CompileOptions(model: "/nonexistent")
        #expect(throws: UsageError.self) { try options.validate() }  // nothing to write
        options.out = "x.bin"
        #expect { try options.validate() } throws: { "\($0)".contains("-o must name a runtime file (.skrr) or an IR file (.ir)") }
        options.out = "x.ir"
        options.weightDType = .bf16
        #expect { try options.validate() } throws: { "\($0)" == "--weight-dtype applies to runtime files: pass -o OUT.skrr" }
        options.weightDType = nil
        options.printIRAfter = "skip-serach"
        #expect { try options.validate() } throws: { "\($0)".contains("got 'skip-serach'") }
        options.printIRAfter = "all"
        options.passes = "skip-search{sparsity=2}"
        #expect { try options.validate() } throws: { "\($0)".contains("option sparsity=2 must be a number in 0.0...1.0") }
        options.passes = nil
        try? options.validate()
        #expect(throws: Never.self) { try options.validate() }
    }

    @Test func levelsAndMethodsNamePipelines() throws {
        var options = CompileOptions(model: "m")
        #expect(try options.pipeline().isEmpty)
        options.level = .prune
        options.sparsity = 0.4
        options.beam = 2
        let expected: [PruneMethod: [String]] = [
            .skrr: ["skip-search{sparsity=0.4 beam=2}", "reuse-rewrite", "dead-weight-elim"],
            .skipOnly: ["skip-search{sparsity=0.4 beam=2}", "dead-weight-elim"],
            .finercut: ["skip-search{sparsity=0.4 beam=1}", "dead-weight-elim"],
            .shortgpt: ["shortgpt{sparsity=0.4}", "dead-weight-elim"],
            .laco: ["laco{sparsity=0.4}", "dead-weight-elim"],
        ]
        for method in PruneMethod.allCases {
            options.method = method
            #expect(try options.pipeline().map(\.description) == expected[method], "\(method)")
        }
        #expect(PruneMethod.allCases.filter { $0.objective == .plainOutputMSE } == [.finercut])
        options.passes = "dead-weight-elim"
        #expect(try options.pipeline().map(\.description) == ["dead-weight-elim"])
    }

    /// The paper's protocol by default: 64 of the built-in long prompts (100-250 T5 tokens), while
    /// `--calib parti` keeps 128 PartiPrompts and an explicit size wins. Tokenising is all this
    /// costs: nothing is scored.
    @Test func longPromptsCalibrateByDefault() throws {
        let model = try ModelImporter.importModel(at: TestPaths.fixture("t5-trained")).ir
        var options = CalibrationOptions()
        #expect(options.source == .long && options.resolvedSize == 64)
        let long = try Calibration(model: model, options: options)
        #expect(long.prompts.count == 64)
        options.source = .parti
        let parti = try Calibration(model: model, options: options)
        #expect(parti.prompts.count == 128)
        let meanTokens = { (c: Calibration) in Double(c.prompts.map(\.count).reduce(0, +)) / Double(c.prompts.count) }
        #expect(meanTokens(long) > 4 * meanTokens(parti), "long \(meanTokens(long)) vs parti \(meanTokens(parti)) tokens")
        options.size = 10
        #expect(try Calibration(model: model, options: options).prompts.count == 10)
        options.source = .long
        #expect(try Calibration(model: model, options: options).prompts.count == 10)
    }

    /// Screening is on by default from 1 B parameters (T5-XXL: 4.76 B) and off below; an explicit
    /// --screen wins either way, and the resolved value is what the pipeline (and so the report,
    /// the runtime file's pass list and the checkpoint's fingerprint) records.
    @Test func largeModelsAreScreenedByDefault() throws {
        var options = CompileOptions(model: "m")
        options.level = .prune
        options.sparsity = 0.4
        func search(_ parameters: Int?) throws -> String { try options.pipeline(parameters: parameters).first!.description }
        #expect(try search(nil) == "skip-search{sparsity=0.4 beam=3}")
        #expect(try search(999_999_999) == "skip-search{sparsity=0.4 beam=3}")
        #expect(try search(1_000_000_000) == "skip-search{sparsity=0.4 beam=3 screen=16}")
        #expect(try search(4_762_310_656) == "skip-search{sparsity=0.4 beam=3 screen=16}")
        options.screen = 0
        #expect(try search(4_762_310_656) == "skip-search{sparsity=0.4 beam=3}")
        options.screen = 8
        #expect(try search(1_000) == "skip-search{sparsity=0.4 beam=3 screen=8}")
    }

    /// -O prune on the tiny T5: the outcome carries the records the report is made from, and the
    /// written report agrees with them.
    @Test func pruneOutcomeAndReportAgree() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        var options = CompileOptions(model: TestPaths.fixture("t5-v1_1"))
        options.level = .prune
        options.sparsity = 0.3
        options.calibration.source = .parti
        options.calibration.size = 8
        options.out = dir + "/p.ir"
        options.report = dir + "/r.json"
        let outcome = try CompileJob.run(options)
        #expect(outcome.context.records.map(\.pass) == ["skip-search", "reuse-rewrite", "dead-weight-elim"])
        #expect(outcome.result.sparsity >= 0.3)
        let work = try #require(outcome.work)
        #expect(work.subBlockEvaluations > 0 && work.subBlockEvaluations < work.naiveSubBlockEvaluations)
        // Our own parser: Foundation's JSONSerialization rounds the last digit of some doubles.
        let report = try JSONParser.parse(try readWholeFile(dir + "/r.json"))
        #expect(report["search_order"]?.arrayValue?.compactMap(\.intValue) == outcome.context.removalOrder.order)
        #expect(report["discrepancy"]?.doubleValue == outcome.context.discrepancy)
        #expect(report["subblock_evals"]?.intValue == work.subBlockEvaluations)
        #expect(FileManager.default.fileExists(atPath: dir + "/p.ir"))
    }

    /// A compile that measures nothing builds no calibration and no scorer.
    @Test func convertOnlyMeasuresNothing() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        var options = CompileOptions(model: TestPaths.fixture("t5-v1_1"))
        options.out = dir + "/m.skrr"
        options.calibration.source = .file(dir + "/does-not-exist.txt")  // never read
        let outcome = try CompileJob.run(options)
        #expect(outcome.work == nil && outcome.context.records.isEmpty)
        #expect(try RuntimeFile(path: dir + "/m.skrr").preset.name == "generic")
    }
}

/// The prompts compiled into the binary are exactly the files in Sources/Driver/Prompts.
@Suite struct BuiltinPromptsTests {
    @Test func embeddedPromptsMatchTheFiles() throws {
        let folder = TestPaths.repositoryRoot + "/Sources/Driver/Prompts/"
        #expect(BuiltinPrompts.parti == (try PromptFiles.read(folder + "parti-calibration.txt")))
        #expect(BuiltinPrompts.long == (try PromptFiles.read(folder + "long-calibration.txt")))
        #expect(BuiltinPrompts.parti.count == 1232)
        #expect(BuiltinPrompts.parti.first == "a canal in Amsterdam")
    }
}

/// Subset scorers (screening, re-use folds) share the cache budget by their share of the prompts.
@Suite struct SubsetScorerBudgetTests {
    @Test func foldsTogetherStayWithinTheFullBudgetAndAScreenTakesItsShare() throws {
        let model = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1")).ir
        var options = CalibrationOptions()
        options.source = .parti
        options.size = 12
        let calibration = try Calibration(model: model, options: options)
        let full = try calibration.scorer(.skrr).memoryBudget
        let subsets = SubsetScorers(calibration: calibration, objective: .skrr)
        let folds = try subsets.discrepancyScorers(folds: 3)
        #expect(folds.map(\.memoryBudget) == [full / 3, full / 3, full / 3])
        #expect(try subsets.discrepancyScorer(prompts: 4).memoryBudget == full / 3)
        #expect(try subsets.discrepancyScorer(prompts: 12).memoryBudget == full)
    }
}
