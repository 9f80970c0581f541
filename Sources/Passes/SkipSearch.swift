import SkrrIR
import SkrrSupport

/// Beam search over sub-blocks to skip (docs/architecture.md §4). Starting from the input schedule, each
/// step extends every beam by every sub-block it still runs, scores each candidate by D, and
/// keeps the `beam` best; beams holding the same set are one. It stops at the first step where
/// a kept beam removes at least the target fraction of the source parameters, returning the
/// best such beam, and records the order in which that beam's sub-blocks were dropped (every
/// lower sparsity along it comes for free).
public struct SkipSearch: ModelPass {
    public static let name = "skip-search"
    public static let summary = "beam search for sub-blocks to skip under the discrepancy D"
    public static let optionNames = ["sparsity", "beam"]
    public static let requiredAnalyses = [AnalysisKey.scheduleScorer.id]

    public let sparsity: Double
    public let beam: Int

    public init(sparsity: Double, beam: Int = 3) {
        self.sparsity = sparsity
        self.beam = beam
    }

    public init(options: PassOptions) throws {
        sparsity = try options.double("sparsity", default: nil, in: 0...1)
        beam = try options.int("beam", default: 3, in: 1...64)
    }

    /// One hypothesis: the sub-blocks it skips, in the order they were added, and D along the way.
    struct Beam {
        var order: [Int]
        var skipped: Set<Int>
        var discrepancies: [Double]
        var key: [Int] { skipped.sorted() }
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        let target = Int((sparsity * Double(model.sourceParameters)).rounded(.up))
        func removed(_ schedule: [Slot]) -> Int {
            var copy = model
            copy.schedule = schedule
            return model.sourceParameters - copy.keptParameters
        }
        func schedule(skipping set: Set<Int>) -> [Slot] {
            model.schedule.enumerated().map { set.contains($0.offset) ? .skip : $0.element }
        }
        let candidates = model.schedule.indices.filter(model.isDroppable)
        let reachable = removed(schedule(skipping: Set(candidates)))
        guard reachable >= target else {
            let most = Double(reachable) / Double(max(model.sourceParameters, 1))
            throw SkrrError(key: Self.name, "target sparsity \(sparsity) is unreachable: skipping every sub-block removes \(percent(most)) of the parameters (embeddings, norms and heads are never pruned)")
        }
        if removed(model.schedule) >= target {
            context.record(NoteRecord(pass: Self.name, summary: "input already at sparsity ≥ \(sparsity); nothing skipped"))
            return model
        }

        var beams = [Beam(order: [], skipped: [], discrepancies: [])]
        var steps = 0
        while true {
            steps += 1
            var seen = Set<[Int]>()
            var scored: [(beam: Beam, removed: Int)] = []
            for parent in beams {
                let base = schedule(skipping: parent.skipped)
                var children: [Beam] = []
                for slot in candidates where !parent.skipped.contains(slot) {
                    var child = parent
                    child.order.append(slot)
                    child.skipped.insert(slot)
                    if seen.insert(child.key).inserted { children.append(child) }
                }
                let scores = try scorer.score(children.map { schedule(skipping: $0.skipped) }, base: base)
                for (child, score) in zip(children, scores) {
                    var child = child
                    child.discrepancies.append(score)
                    scored.append((child, removed(schedule(skipping: child.skipped))))
                }
            }
            guard !scored.isEmpty else {
                throw SkrrError(key: Self.name, "ran out of sub-blocks before reaching sparsity \(sparsity)")
            }
            // Lowest D first; ties broken by the skipped set so results never depend on order.
            scored.sort { a, b in
                let da = a.beam.discrepancies.last!, db = b.beam.discrepancies.last!
                return da != db ? da < db : a.beam.key.lexicographicallyPrecedes(b.beam.key)
            }
            let kept = Array(scored.prefix(beam))
            let best = kept.map(\.removed).max() ?? 0
            context.reportProgress(Double(min(best, target)), of: Double(target))
            if let done = kept.first(where: { $0.removed >= target }) {
                var result = model
                result.schedule = schedule(skipping: done.beam.skipped)
                context.record(SkipSearchRecord(
                    pass: Self.name, order: done.beam.order, orderDiscrepancies: done.beam.discrepancies, steps: steps, beam: beam,
                    removedFraction: Double(done.removed) / Double(model.sourceParameters)))
                return result
            }
            beams = kept.map(\.beam)
        }
    }
}

extension ModelIR {
    /// Whether a pass may remove sub-block `slot`: it runs in its own slot and no other slot
    /// re-uses it (removing a re-use source would change the slots that borrow it).
    func isDroppable(_ slot: Int) -> Bool {
        schedule.indices.contains(slot) && schedule[slot] == .run(slot)
            && !schedule.enumerated().contains { $0.offset != slot && $0.element == .run(slot) }
    }
}
