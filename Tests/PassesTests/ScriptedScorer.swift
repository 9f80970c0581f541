import SkrrIR
import SkrrPasses

/// A scorer with a known answer: D = Σ cost of skipped slots + Σ pair penalties for pairs that
/// are both skipped + for re-used slots (cost of the slot + the scripted change for that source).
/// Pair terms make greedy and beam search disagree, so beam width matters.
final class ScriptedScorer: ScheduleScorer {
    var cost: [Int: Double]
    var pairs: [Set<Int>: Double]
    /// `reuse[slot][source]`: change of D when `slot` runs `source` instead of being skipped.
    var reuse: [Int: [Int: Double]]
    private(set) var calls = 0
    var statistics = ScorerStatistics()

    init(cost: [Int: Double], pairs: [Set<Int>: Double] = [:], reuse: [Int: [Int: Double]] = [:]) {
        self.cost = cost
        self.pairs = pairs
        self.reuse = reuse
    }

    func discrepancy(_ schedule: [Slot]) -> Double {
        var d = 0.0
        var skipped = Set<Int>()
        for (slot, entry) in schedule.enumerated() {
            switch entry {
            case .skip:
                d += cost[slot] ?? 0
                skipped.insert(slot)
            case let .run(source) where source != slot:
                d += (cost[slot] ?? 0) + (reuse[slot]?[source] ?? 0)
            case .run:
                break
            }
        }
        for (pair, penalty) in pairs where pair.isSubset(of: skipped) { d += penalty }
        return d
    }

    func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
        calls += 1
        statistics.candidatesScored += candidates.count
        return candidates.map(discrepancy)
    }

    /// Reads `// COST: 0=5 1=2.5`, `// PAIR: 1+3=4` and `// REUSE: 2<-0=-1.5` lines.
    static func from(_ text: String) -> ScriptedScorer? {
        var cost: [Int: Double] = [:], pairs: [Set<Int>: Double] = [:], reuse: [Int: [Int: Double]] = [:]
        var found = false
        for line in text.split(separator: "\n") {
            for (tag, handler) in [
                ("// COST:", { (item: Substring) in
                    let kv = item.split(separator: "="); cost[Int(kv[0])!] = Double(kv[1])! }),
                ("// PAIR:", { (item: Substring) in
                    let kv = item.split(separator: "="); let ab = kv[0].split(separator: "+").map { Int($0)! }
                    pairs[Set(ab)] = Double(kv[1])! }),
                ("// REUSE:", { (item: Substring) in
                    let kv = item.split(separator: "="); let parts = kv[0].components(separatedBy: "<-").map { Int($0)! }
                    reuse[parts[0], default: [:]][parts[1]] = Double(kv[1])! }),
            ] as [(String, (Substring) -> Void)] where line.hasPrefix(tag) {
                found = true
                line.dropFirst(tag.count).split(separator: " ").forEach(handler)
            }
        }
        return found ? ScriptedScorer(cost: cost, pairs: pairs, reuse: reuse) : nil
    }
}
