import SkrrIR
import SkrrSupport

/// A model-to-model transformation. Passes see only the IR and the context's scorer: never
/// files or the command line.
public protocol ModelPass {
    func run(_ model: ModelIR, context: PassContext) throws -> ModelIR
}

/// Every pass, in one list: name, summary, the options it takes, and a constructor.
public enum PassRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let options: [String]
        let make: @Sendable (PassOptions) throws -> ModelPass
    }

    public static let all: [Entry] = [
        Entry(name: SkipSearch.name, summary: SkipSearch.summary, options: SkipSearch.optionNames,
              make: { try SkipSearch(options: $0) }),
        Entry(name: ReuseRewrite.name, summary: ReuseRewrite.summary, options: [], make: { _ in ReuseRewrite() }),
        Entry(name: DeadWeightElim.name, summary: DeadWeightElim.summary, options: [], make: { _ in DeadWeightElim() }),
        Entry(name: ShortGPTPrune.name, summary: ShortGPTPrune.summary, options: ShortGPTPrune.optionNames,
              make: { try ShortGPTPrune(options: $0) }),
        Entry(name: LayerCollapse.name, summary: LayerCollapse.summary, options: LayerCollapse.optionNames,
              make: { try LayerCollapse(options: $0) }),
    ]

    /// The pruning methods `-O prune --method M` compares on the same data and report.
    public static let methods = ["skrr", "skip-only", "finercut", "shortgpt", "laco"]

    /// The pipeline `-O prune` runs for a method: Skrr is skip-search, reuse-rewrite and
    /// dead-weight-elim; skip-only drops re-use; FinerCut is greedy (beam 1) under plain output
    /// MSE (its scorer leaves out the null prompt and the projection); ShortGPT removes blocks;
    /// LaCo folds layers into merged weights.
    public static func prunePipeline(method: String, sparsity: Double, beam: Int) throws -> [PassInvocation] {
        let search = { (beam: Int) in PassInvocation(name: SkipSearch.name, options: [("sparsity", "\(sparsity)"), ("beam", "\(beam)")]) }
        let dwe = PassInvocation(name: DeadWeightElim.name)
        switch method {
        case "skrr": return [search(beam), PassInvocation(name: ReuseRewrite.name), dwe]
        case "skip-only": return [search(beam), dwe]
        case "finercut": return [search(1), dwe]
        case "shortgpt": return [PassInvocation(name: ShortGPTPrune.name, options: [("sparsity", "\(sparsity)")]), dwe]
        case "laco": return [PassInvocation(name: LayerCollapse.name, options: [("sparsity", "\(sparsity)")]), dwe]
        default: throw SkrrError(key: "--method \(method)", "unknown method (known: \(methods.joined(separator: ", ")))")
        }
    }

    /// Checks names and option keys and values before any work starts, so a typo fails fast.
    public static func validate(_ pipeline: [PassInvocation]) throws {
        for invocation in pipeline { _ = try make(invocation) }
    }

    public static func make(_ invocation: PassInvocation) throws -> ModelPass {
        guard let entry = all.first(where: { $0.name == invocation.name }) else {
            throw SkrrError(key: invocation.name, "unknown pass (available: \(all.map(\.name).joined(separator: ", ")))")
        }
        for option in invocation.options where !entry.options.contains(option.key) {
            let allowed = entry.options.isEmpty ? "it takes none" : "allowed: \(entry.options.joined(separator: ", "))"
            throw SkrrError(key: invocation.name, "unknown option '\(option.key)' (\(allowed))")
        }
        return try entry.make(PassOptions(pass: invocation.name, values: invocation.options))
    }
}
