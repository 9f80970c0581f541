import SkrrSupport

/// Where long searches keep their state between runs (`--checkpoint FILE`). A pass saves after
/// every step it would not want to repeat, and on the next run of the same compile restores and
/// continues; whoever provides the journal makes each save durable (atomic, fsynced) and refuses
/// a journal written for a different model, calibration or pipeline.
public protocol SearchJournal: AnyObject {
    /// What the pass saved under `key` in an earlier run of this compile, if anything.
    func restore(_ key: String) -> JSONValue?
    /// Replaces the state under `key` and makes it durable before returning.
    func save(_ key: String, _ state: JSONValue) throws
}

extension AnalysisKey where Value == any SearchJournal {
    /// Optional: passes that find no journal simply do not save.
    public static var journal: Self { Self("journal") }
}

extension AnalysisKey where Value == any ScreeningScorers {
    /// Subset scorers for skip-search's screening (`screen=N`).
    public static var screeningScorers: Self { Self("screening-scorers") }
}

extension AnalysisKey where Value == any FoldScorers {
    /// Fold scorers for reuse-rewrite's robust acceptance (`folds=K`).
    public static var foldScorers: Self { Self("fold-scorers") }
}

extension PassContext {
    /// The journal entry of the running pass: `<position in the pipeline>:<pass name>`, so two
    /// runs of the same pass in one pipeline keep separate states.
    func journalKey(_ pass: String) -> String { "\(currentPassIndex):\(pass)" }

    /// The running pass's state from an earlier run, when a journal is provided.
    public func restoredState(_ pass: String) throws -> JSONValue? {
        guard analyses.provides(AnalysisKey.journal.id) else { return nil }
        return try analysis(.journal, for: pass).restore(journalKey(pass))
    }

    /// Saves the running pass's state, when a journal is provided.
    public func saveState(_ pass: String, _ state: JSONValue) throws {
        guard analyses.provides(AnalysisKey.journal.id) else { return }
        try analysis(.journal, for: pass).save(journalKey(pass), state)
    }
}
