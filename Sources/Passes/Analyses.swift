import SkrrIR
import SkrrSupport

/// Names an analysis a pass can ask for, typed by what it gives back. Passes declare the keys
/// they need (`ModelPass.requiredAnalyses`); whoever runs the pipeline registers providers for
/// them on the context (`AnalysisManager.register`). A pass never learns how an analysis is
/// computed, and never downcasts one capability to find another.
public struct AnalysisKey<Value>: Sendable {
    public let id: AnalysisID
    public init(_ name: String) { id = AnalysisID(name) }
}

/// The untyped identity of an analysis, for declaring requirements and for messages.
public struct AnalysisID: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }
}

extension AnalysisKey where Value == any ScheduleScorer {
    /// D of candidate schedules of the model being compiled (skip-search, reuse-rewrite).
    public static var scheduleScorer: Self { Self("schedule-scorer") }
}

extension AnalysisKey where Value == any ModelScorer {
    /// D and output cosine of whole models, weights included (LaCo's merged layers).
    public static var modelScorer: Self { Self("model-scorer") }
}

extension AnalysisKey where Value == any BlockSimilarityMeter {
    /// Cosine between each block's input and output on the dense model (ShortGPT).
    public static var blockSimilarity: Self { Self("block-similarity") }
}

/// Resolves analyses from registered providers. Providers run at most once, on first use, so
/// registering one costs nothing when no pass of the pipeline asks for it (a `-O none` compile
/// never loads calibration prompts).
public final class AnalysisManager {
    private var providers: [AnalysisID: () throws -> Any] = [:]
    private var resolved: [AnalysisID: Any] = [:]

    public init() {}

    public func register<Value>(_ key: AnalysisKey<Value>, provider: @escaping () throws -> Value) {
        providers[key.id] = provider
        resolved[key.id] = nil
    }

    /// Registers an already-built value.
    public func register<Value>(_ key: AnalysisKey<Value>, _ value: Value) {
        register(key) { value }
    }

    public func provides(_ id: AnalysisID) -> Bool { providers[id] != nil }

    /// The analysis for `key`, computed on first use. `pass` names the asker in the error.
    public func get<Value>(_ key: AnalysisKey<Value>, for pass: String) throws -> Value {
        if let value = resolved[key.id] as? Value { return value }
        guard let provider = providers[key.id] else { throw AnalysisManager.unavailable(key.id, pass: pass) }
        guard let value = try provider() as? Value else {
            throw SkrrError(key: pass, "the provider of \(key.id) returned the wrong kind of value")
        }
        resolved[key.id] = value
        return value
    }

    static func unavailable(_ id: AnalysisID, pass: String) -> SkrrError {
        SkrrError(key: pass, "this pass measures discrepancy and needs calibration data (\(id)); it cannot run from 'skrrc opt' without a model")
    }
}

extension AnalysisManager {
    /// Registers one object as the provider of every scoring analysis, built on first use and
    /// shared (the driver's calibrated scorer; tests' scripted ones).
    public func registerScoring<S: ScheduleScorer & ModelScorer & BlockSimilarityMeter>(_ make: @escaping () throws -> S) {
        var built: S?
        let shared = { () throws -> S in
            if let built { return built }
            let made = try make()
            built = made
            return made
        }
        register(.scheduleScorer) { try shared() }
        register(.modelScorer) { try shared() }
        register(.blockSimilarity) { try shared() }
    }
}

extension PassContext {
    /// A context whose schedule scorer is `scorer` (passes that ask for more fail clearly).
    public convenience init(scheduleScorer scorer: any ScheduleScorer) {
        self.init()
        analyses.register(.scheduleScorer, scorer)
    }

    /// A context whose every scoring analysis is answered by `scorer`.
    public convenience init<S: ScheduleScorer & ModelScorer & BlockSimilarityMeter>(scoringWith scorer: S) {
        self.init()
        analyses.registerScoring { scorer }
    }
}
