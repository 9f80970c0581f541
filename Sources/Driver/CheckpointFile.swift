import SkrrPasses
import SkrrSupport

/// `--checkpoint FILE`: the journal long searches save into after every step, and restore from on
/// the next run of the same compile. The whole file is rewritten atomically (temporary file,
/// fsync, rename) on every save, so a `kill -9` at any moment leaves either the previous state or
/// the new one, never a torn file. It carries a fingerprint of everything that changes results;
/// a file written for another model, calibration or pipeline is refused, naming what differs.
public final class CheckpointFile: SearchJournal {
    static let format = "skrrc-checkpoint 1"

    let path: String
    let fingerprint: [(key: String, value: String)]
    private var entries: [(key: String, value: JSONValue)] = []
    /// Search work done by the runs that wrote the restored state.
    public private(set) var restoredWork = ScorerStatistics()
    /// Work done so far by this run, read when saving (so the file carries the total).
    var currentWork: () -> ScorerStatistics? = { nil }
    /// Only one process of an MPI job writes the file; the others only read it.
    var writes = true

    public init(path: String, fingerprint: [(key: String, value: String)]) throws {
        self.path = path
        self.fingerprint = fingerprint
        guard FileSystem.exists(path) else { return }
        let value: JSONValue
        do {
            value = try JSONParser.parse(try readWholeFile(path))
        } catch let error as SkrrError {
            throw error.inFile(path)
        }
        guard value["format"]?.stringValue == Self.format else {
            throw SkrrError(file: path, key: "format", "expected \"\(Self.format)\" (a skrrc search checkpoint), got \(value["format"].map { "\($0)" } ?? "none")")
        }
        for (key, expected) in fingerprint {
            let found = value["fingerprint"]?[key]?.stringValue
            guard found == expected else {
                throw SkrrError(file: path, key: key,
                                "the checkpoint was written for a different \(Self.meaning(key)) (checkpoint \(found ?? "none"), this run \(expected)); use another --checkpoint file or the same arguments")
            }
        }
        entries = value["entries"]?.objectMembers ?? []
        if let work = value["work"] {
            restoredWork.subBlockEvaluations = work["subblock_evals"]?.intValue ?? 0
            restoredWork.naiveSubBlockEvaluations = work["subblock_evals_naive"]?.intValue ?? 0
            restoredWork.candidatesScored = work["candidates_scored"]?.intValue ?? 0
        }
    }

    public func restore(_ key: String) -> JSONValue? { entries.first { $0.key == key }?.value }

    public func save(_ key: String, _ state: JSONValue) throws {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = state
        } else {
            entries.append((key, state))
        }
        guard writes else { return }
        let work = total(currentWork())
        let file = JSONValue.object([
            ("format", .string(Self.format)),
            ("fingerprint", .object(fingerprint.map { ($0.key, .string($0.value)) })),
            ("work", .object([("subblock_evals", .number(work.subBlockEvaluations)),
                              ("subblock_evals_naive", .number(work.naiveSubBlockEvaluations)),
                              ("candidates_scored", .number(work.candidatesScored))])),
            ("entries", .object(entries)),
        ])
        try AtomicFile.write(path, bytes: Array((file.serialized() + "\n").utf8))
    }

    /// This run's work plus what the restored runs did.
    public func total(_ current: ScorerStatistics?) -> ScorerStatistics {
        var sum = restoredWork
        if let current {
            sum.subBlockEvaluations += current.subBlockEvaluations
            sum.naiveSubBlockEvaluations += current.naiveSubBlockEvaluations
            sum.candidatesScored += current.candidatesScored
        }
        return sum
    }

    static func meaning(_ key: String) -> String {
        switch key {
        case "model": return "model (weights or structure)"
        case "calibration": return "calibration (prompts, pipeline preset, projection or objective)"
        case "pipeline": return "pass pipeline (method, sparsity, beam or screening)"
        case "search_compute": return "search arithmetic (--search-compute)"
        default: return key
        }
    }
}

/// One encoder's share of a joint prune's checkpoint: its re-use decisions are saved under its
/// name, since every encoder's pass runs at the same pipeline position.
final class PrefixedJournal: SearchJournal {
    let base: any SearchJournal
    let prefix: String

    init(_ base: any SearchJournal, prefix: String) {
        self.base = base
        self.prefix = prefix
    }

    func restore(_ key: String) -> JSONValue? { base.restore(prefix + key) }

    func save(_ key: String, _ state: JSONValue) throws { try base.save(prefix + key, state) }
}
