import SkrrIR
import SkrrPasses
import SkrrSupport
import Testing

/// The one pass loop: analyses checked before any work, instrumentations around every pass in
/// order, records one per pass, verify-each naming the pass that broke the IR.
@Suite struct PassManagerTests {
    /// Logs what the manager tells it.
    final class Log: PassInstrumentation {
        var events: [String] = []
        func willRun(_ invocation: PassInvocation, on model: ModelIR) { events.append("will \(invocation.name)") }
        func didRun(_ invocation: PassInvocation, result: ModelIR) throws { events.append("did \(invocation.name)") }
        func progress(_ invocation: PassInvocation, done: Double, total: Double) {
            events.append("progress \(invocation.name) \(Int(done))/\(Int(total))")
        }
    }

    /// A pass that breaks the IR: slot 0 runs an FFN sub-block in an attention slot.
    struct Vandal: ModelPass {
        static let name = "vandal"
        static let summary = "breaks the schedule"
        init() {}
        init(options: PassOptions) {}
        func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
            var broken = model
            broken.schedule[0] = .run(1)
            context.record(NoteRecord(pass: Self.name, summary: "broke slot 0"))
            return broken
        }
    }

    let model = TinyModels.t5(layers: 3)

    @Test func instrumentationsSeeEveryPassInOrder() throws {
        let scorer = ScriptedScorer(cost: [0: 5, 1: 1, 2: 4, 3: 2, 4: 6, 5: 3])
        var manager = try PassManager(parsing: "skip-search{sparsity=0.2 beam=1},reuse-rewrite,dead-weight-elim")
        let log = Log()
        manager.instrumentations = [log]
        let context = PassContext(scheduleScorer: scorer)
        _ = try manager.run(model, context: context)
        let passEvents = log.events.filter { !$0.hasPrefix("progress") }
        #expect(passEvents == ["will skip-search", "did skip-search", "will reuse-rewrite", "did reuse-rewrite",
                               "will dead-weight-elim", "did dead-weight-elim"])
        // The search reported progress while it ran, between its will and did.
        let progress = try #require(log.events.firstIndex { $0.hasPrefix("progress skip-search") })
        #expect(progress > log.events.firstIndex(of: "will skip-search")! && progress < log.events.firstIndex(of: "did skip-search")!)
        #expect(context.records.map(\.pass) == ["skip-search", "reuse-rewrite", "dead-weight-elim"])
        #expect(context.records[0] is SkipSearchRecord && context.records[1] is ReuseRecord && context.records[2] is EliminationRecord)
    }

    @Test func missingAnalysesFailBeforeAnyPassRuns() throws {
        var manager = try PassManager(parsing: "dead-weight-elim,skip-search{sparsity=0.2}")
        let log = Log()
        manager.instrumentations = [log]
        #expect(manager.requiredAnalyses == [AnalysisKey.scheduleScorer.id])
        #expect {
            try manager.run(model, context: PassContext())
        } throws: { error in
            "\(error)" == "'skip-search': this pass measures discrepancy and needs calibration data (schedule-scorer); it cannot run from 'skrrc opt' without a model"
        }
        #expect(log.events.isEmpty)
    }

    @Test func analysesAreResolvedOnceFromTheirProvider() throws {
        let context = PassContext()
        var built = 0
        context.analyses.register(.scheduleScorer) { () -> any ScheduleScorer in
            built += 1
            return ScriptedScorer(cost: [0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6])
        }
        _ = try PassManager(parsing: "skip-search{sparsity=0.2},reuse-rewrite").run(model, context: context)
        #expect(built == 1)
    }

    @Test func verifyEachNamesThePassThatBrokeTheIR() throws {
        var manager = PassManager(passes: [DeadWeightElim(), Vandal()])
        manager.instrumentations = [VerifyEachPass()]
        #expect {
            try manager.run(model, context: PassContext())
        } throws: { error in
            "\(error)".contains("after vandal")
        }
        // Without verification the broken IR is returned as is.
        #expect(try PassManager(passes: [Vandal()]).run(model, context: PassContext()).schedule[0] == .run(1))
    }

    @Test func printIRAfterPrintsOnlyTheNamedPass() throws {
        var printed: [String] = []
        var manager = try PassManager(parsing: "dead-weight-elim,dead-weight-elim")
        manager.instrumentations = [PrintIRAfter("dead-weight-elim") { printed.append($0) }]
        _ = try manager.run(model, context: PassContext())
        #expect(printed.count == 2)
        #expect(printed.allSatisfy { $0.hasPrefix("// IR after dead-weight-elim\n") && $0.contains("model t5 \"tiny-3\"") })
        printed = []
        manager.instrumentations = [PrintIRAfter("skip-search") { printed.append($0) }]
        _ = try manager.run(model, context: PassContext())
        #expect(printed.isEmpty)
    }

    @Test func recordsKeepEveryPassResultApart() throws {
        let scorer = ScriptedScorer(cost: [0: 5, 1: 1, 2: 4, 3: 2, 4: 6, 5: 3], reuse: [1: [3: -0.5]])
        let context = PassContext(scheduleScorer: scorer)
        _ = try PassManager(parsing: "skip-search{sparsity=0.1 beam=1},reuse-rewrite").run(model, context: context)
        let search = try #require(context.last(SkipSearchRecord.self))
        let reuse = try #require(context.last(ReuseRecord.self))
        #expect(search.order == [1])
        #expect(search.discrepancy == 1)
        #expect(reuse.rewrites == [ReuseRecord.Rewrite(slot: 1, source: 3)])
        #expect(reuse.discrepancy == 0.5)
        // The search's order survives the re-use pass; D is the latest measured.
        #expect(context.removalOrder.order == [1])
        #expect(context.discrepancy == 0.5)
    }
}
