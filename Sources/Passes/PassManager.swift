import SkrrIR
import SkrrSupport

/// Watches a pipeline run: verification, IR dumps, progress bars and timing hook in here, so
/// the loop that runs passes exists once (`PassManager.run`) for the compiler, `skrrc opt` and
/// the tests alike.
public protocol PassInstrumentation: AnyObject {
    func willRun(_ invocation: PassInvocation, on model: ModelIR)
    /// Called after each pass with its result; throwing stops the pipeline.
    func didRun(_ invocation: PassInvocation, result: ModelIR) throws
    /// Progress the running pass reports (`done` of `total`).
    func progress(_ invocation: PassInvocation, done: Double, total: Double)
    /// A line the running pass wants logged.
    func note(_ invocation: PassInvocation, _ message: String)
}

extension PassInstrumentation {
    public func willRun(_ invocation: PassInvocation, on model: ModelIR) {}
    public func didRun(_ invocation: PassInvocation, result: ModelIR) throws {}
    public func progress(_ invocation: PassInvocation, done: Double, total: Double) {}
    public func note(_ invocation: PassInvocation, _ message: String) {}
}

/// Runs a parsed pipeline. Construction validates every pass name and option (a typo fails
/// before any work); `run` checks that the context provides every analysis the pipeline needs,
/// then runs the passes in order with the instrumentations around each.
public struct PassManager {
    public let pipeline: [PassInvocation]
    private let passes: [ModelPass]
    public var instrumentations: [any PassInstrumentation] = []

    public init(_ pipeline: [PassInvocation]) throws {
        self.pipeline = pipeline
        passes = try pipeline.map(PassRegistry.make)
    }

    /// A pipeline of pass values that need not be registered (tools and tests composing their own).
    public init(passes: [any ModelPass]) {
        pipeline = passes.map { PassInvocation(name: type(of: $0).name) }
        self.passes = passes
    }

    /// Parses and validates a pipeline string (`skip-search{sparsity=0.4},dead-weight-elim`).
    public init(parsing text: String) throws {
        try self.init(PipelineParser.parse(text))
    }

    /// The analyses some pass of the pipeline asks for, in first-use order, each once.
    public var requiredAnalyses: [AnalysisID] {
        var seen = Set<AnalysisID>()
        return passes.flatMap(\.requiredAnalyses).filter { seen.insert($0).inserted }
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        for (invocation, pass) in zip(pipeline, passes) {
            for id in pass.requiredAnalyses where !context.analyses.provides(id) {
                throw AnalysisManager.unavailable(id, pass: invocation.name)
            }
        }
        var current = model
        for (index, (invocation, pass)) in zip(pipeline, passes).enumerated() {
            for instrumentation in instrumentations { instrumentation.willRun(invocation, on: current) }
            let watchers = instrumentations
            context.currentPassIndex = index
            context.progressHandler = { done, total in
                for watcher in watchers { watcher.progress(invocation, done: done, total: total) }
            }
            context.noteHandler = { message in
                for watcher in watchers { watcher.note(invocation, message) }
            }
            defer {
                context.progressHandler = nil
                context.noteHandler = nil
            }
            current = try pass.run(current, context: context)
            for instrumentation in instrumentations { try instrumentation.didRun(invocation, result: current) }
        }
        return current
    }
}

/// `--verify-each`: the verifier after every pass, naming the pass in the error.
public final class VerifyEachPass: PassInstrumentation {
    public init() {}
    public func didRun(_ invocation: PassInvocation, result: ModelIR) throws {
        try IRVerifier.verify(result, source: "after \(invocation.name)")
    }
}

/// `--print-ir-after NAME|all`: the printed IR after the matching passes, to a sink (stderr).
public final class PrintIRAfter: PassInstrumentation {
    let filter: String
    let sink: (String) -> Void

    public init(_ filter: String, sink: @escaping (String) -> Void) {
        self.filter = filter
        self.sink = sink
    }

    public func didRun(_ invocation: PassInvocation, result: ModelIR) throws {
        guard filter == "all" || filter == invocation.name else { return }
        sink("// IR after \(invocation.description)\n" + IRPrinter.print(result))
    }
}
