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
    ]

    /// Named pipelines for `-O`.
    public static func pipeline(forLevel level: String, sparsity: Double, beam: Int) throws -> [PassInvocation] {
        switch level {
        case "none": return []
        case "prune":
            return [PassInvocation(name: SkipSearch.name, options: [("sparsity", "\(sparsity)"), ("beam", "\(beam)")]),
                    PassInvocation(name: ReuseRewrite.name), PassInvocation(name: DeadWeightElim.name)]
        default: throw SkrrError(key: "-O \(level)", "unknown optimisation level (known: none, prune)")
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
