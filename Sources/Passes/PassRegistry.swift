import SkrrIR
import SkrrSupport

/// A model-to-model transformation. Passes see only the IR (and, for searches, an evaluator
/// interface): never files or the command line.
public protocol ModelPass: Sendable {
    func run(_ model: ModelIR) throws -> ModelIR
}

/// Every pass, in one list: name, one-line summary, and a constructor from parsed options.
public enum PassRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let options: [String]
        let make: @Sendable ([(key: String, value: String)]) throws -> ModelPass
    }

    public static let all: [Entry] = [
        Entry(name: DeadWeightElim.name, summary: DeadWeightElim.summary, options: [],
              make: { _ in DeadWeightElim() }),
    ]

    /// Checks names and option keys before any work starts, so a typo fails fast as bad usage.
    public static func validate(_ pipeline: [PassInvocation]) throws {
        for invocation in pipeline {
            guard let entry = all.first(where: { $0.name == invocation.name }) else {
                throw SkrrError(key: invocation.name, "unknown pass (available: \(all.map(\.name).joined(separator: ", ")))")
            }
            for option in invocation.options where !entry.options.contains(option.key) {
                let allowed = entry.options.isEmpty ? "it takes none" : "allowed: \(entry.options.joined(separator: ", "))"
                throw SkrrError(key: invocation.name, "unknown option '\(option.key)' (\(allowed))")
            }
        }
    }

    public static func make(_ invocation: PassInvocation) throws -> ModelPass {
        try validate([invocation])
        return try all.first(where: { $0.name == invocation.name })!.make(invocation.options)
    }
}
