import SkrrIR

/// What passes share during one pipeline run: the analyses they may ask for, the records they
/// leave, and a way to report progress. All a pass learns about the outside world comes through
/// here; all it tells the outside world goes into `records`.
public final class PassContext {
    public let analyses: AnalysisManager
    /// One record per pass run, in order.
    public private(set) var records: [any PassRecord] = []
    /// Set by the pass manager around each pass; passes call `reportProgress` and `note`.
    var progressHandler: ((Double, Double) -> Void)?
    var noteHandler: ((String) -> Void)?
    /// The running pass's position in the pipeline (journal keys use it).
    var currentPassIndex = 0

    public init(analyses: AnalysisManager = AnalysisManager()) { self.analyses = analyses }

    /// The analysis for `key`; `pass` names the asker in the error when nothing provides it.
    public func analysis<Value>(_ key: AnalysisKey<Value>, for pass: String) throws -> Value {
        try analyses.get(key, for: pass)
    }

    public func record(_ record: any PassRecord) { records.append(record) }

    /// Tells whoever watches how far the current pass is (`done` of `total`).
    public func reportProgress(_ done: Double, of total: Double) { progressHandler?(done, total) }

    /// A line for the log about the running pass (one per search step, say).
    public func note(_ message: String) { noteHandler?(message) }

    /// Who hears `reportProgress` and `note` while a pass runs outside a `PassManager` (a joint
    /// search over several encoders calls `SkipSearch.search` itself); nil handlers stop it.
    public func observe(progress: ((Double, Double) -> Void)?, note: ((String) -> Void)?) {
        progressHandler = progress
        noteHandler = note
    }

    // MARK: views over the records, for reports

    /// The last record of the given type.
    public func last<R: PassRecord>(_ type: R.Type) -> R? { records.last { $0 is R } as? R }

    public func all<R: PassRecord>(_ type: R.Type) -> [R] { records.compactMap { $0 as? R } }

    /// The removal order of the last pass that removed sub-blocks one by one (empty if none ran).
    public var removalOrder: (order: [Int], discrepancies: [Double]) {
        guard let last = records.last(where: { $0 is any RemovalOrderRecord }) as? any RemovalOrderRecord else { return ([], []) }
        return (last.order, last.orderDiscrepancies)
    }

    /// D of the model after the last pass that measured it.
    public var discrepancy: Double? { records.last { $0.discrepancy != nil }?.discrepancy }

    /// Every merge LaCo accepted, in order.
    public var merges: [MergeRecord.Merge] { all(MergeRecord.self).flatMap(\.merges) }
}
