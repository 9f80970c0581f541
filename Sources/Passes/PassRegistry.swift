import SkrrIR
import SkrrSupport

/// A model-to-model transformation. Passes see only the IR and the context: the analyses they
/// declare, and the records they leave. Never files or the command line.
public protocol ModelPass: Sendable {
    /// The registered name (kebab-case), as pipelines spell it.
    static var name: String { get }
    /// One line for `--help`-style listings.
    static var summary: String { get }
    /// The `{key=value}` options it accepts.
    static var optionNames: [String] { get }

    init(options: PassOptions) throws
    /// The analyses it asks the context for (they may depend on its options); the pass manager
    /// checks that they are provided before any pass of the pipeline runs.
    var requiredAnalyses: [AnalysisID] { get }
    func run(_ model: ModelIR, context: PassContext) throws -> ModelIR
}

extension ModelPass {
    public static var optionNames: [String] { [] }
    public var requiredAnalyses: [AnalysisID] { [] }
}

/// Every pass, in one list: name, summary, options, required analyses, and a constructor.
public enum PassRegistry {
    public struct Entry: Sendable {
        public let name: String
        public let summary: String
        public let options: [String]
        let make: @Sendable (PassOptions) throws -> ModelPass

        init<P: ModelPass>(_ type: P.Type) {
            name = P.name
            summary = P.summary
            options = P.optionNames
            make = { try P(options: $0) }
        }
    }

    public static let all: [Entry] = [
        Entry(SkipSearch.self),
        Entry(ReuseRewrite.self),
        Entry(DeadWeightElim.self),
        Entry(ShortGPTPrune.self),
        Entry(LayerCollapse.self),
    ]

    public static func entry(named name: String) throws -> Entry {
        guard let entry = all.first(where: { $0.name == name }) else {
            throw SkrrError(key: name, "unknown pass (available: \(all.map(\.name).joined(separator: ", ")))")
        }
        return entry
    }

    /// Checks names and option keys and values before any work starts, so a typo fails fast.
    public static func validate(_ pipeline: [PassInvocation]) throws {
        for invocation in pipeline { _ = try make(invocation) }
    }

    public static func make(_ invocation: PassInvocation) throws -> ModelPass {
        let entry = try entry(named: invocation.name)
        for option in invocation.options where !entry.options.contains(option.key) {
            let allowed = entry.options.isEmpty ? "it takes none" : "allowed: \(entry.options.joined(separator: ", "))"
            throw SkrrError(key: invocation.name, "unknown option '\(option.key)' (\(allowed))")
        }
        return try entry.make(PassOptions(pass: invocation.name, values: invocation.options))
    }
}
