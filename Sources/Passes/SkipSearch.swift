import SkrrIR
import SkrrSupport

/// Beam search over sub-blocks to skip (docs/architecture.md §4). Starting from the input
/// schedule, each step extends every beam by every sub-block it still runs, scores each candidate
/// by D, and keeps the `beam` best; beams holding the same set are one, and ties break by the
/// skipped set, so results never depend on scoring order. It stops at the first step where a kept
/// beam removes at least the target fraction of the source parameters, returning the best such
/// beam, and records the order in which that beam's sub-blocks were dropped (every lower sparsity
/// along it comes for free).
///
/// Screening (`screen=N`, N > 0): every candidate of a step is first scored on N calibration
/// prompts; only the `rescore` best of them are scored on the whole set, and the beam is chosen
/// among those by their full D. With a journal, the state after every step is saved and a later
/// run of the same compile continues from it.
public struct SkipSearch: ModelPass {
    public static let name = "skip-search"
    public static let summary = "beam search for sub-blocks to skip under the discrepancy D"
    public static let optionNames = ["sparsity", "beam", "screen", "rescore", "rank", "bound"]

    /// How the candidates of a step are ordered.
    public enum Ranking: String, CaseIterable, Sendable {
        /// By D, as the paper ranks them (the default).
        case discrepancy
        /// By D per parameter removed (counted up to the target): for a joint search over
        /// encoders whose sub-blocks differ in size by orders of magnitude, where ranking by D
        /// alone favours many small removals.
        case perParameter = "per-parameter"
    }

    public let sparsity: Double
    public let beam: Int
    /// Calibration prompts candidates are screened on (0: no screening).
    public let screen: Int
    /// Candidates per step rescored on the whole calibration set after screening.
    public let rescore: Int
    public let ranking: Ranking
    /// Let the scorer stop measuring a candidate once a lower bound of its D shows it cannot be
    /// among those a phase keeps (`ScheduleScorer.scoreBest`). The kept candidates and their D are
    /// the same bits either way; off only to measure what it saves.
    public let bound: Bool

    public init(sparsity: Double, beam: Int = 3, screen: Int = 0, rescore: Int? = nil, ranking: Ranking = .discrepancy,
                bound: Bool = true) {
        self.sparsity = sparsity
        self.beam = beam
        self.screen = screen
        self.rescore = rescore ?? SkipSearch.defaultRescore(beam: beam)
        self.ranking = ranking
        self.bound = bound
    }

    public init(options: PassOptions) throws {
        sparsity = try options.double("sparsity", default: nil, in: 0...1)
        beam = try options.int("beam", default: 3, in: 1...64)
        screen = try options.int("screen", default: 0, in: 0...1_000_000)
        rescore = try options.int("rescore", default: SkipSearch.defaultRescore(beam: beam), in: beam...100_000)
        ranking = try options.choice("rank", default: .discrepancy)
        bound = try options.int("bound", default: 1, in: 0...1) == 1
    }

    /// Twice the beam, and never fewer than 4: enough that screening noise rarely drops the
    /// candidate the full set would have kept.
    public static func defaultRescore(beam: Int) -> Int { max(2 * beam, 4) }

    public var requiredAnalyses: [AnalysisID] {
        screen > 0 ? [AnalysisKey.scheduleScorer.id, AnalysisKey.screeningScorers.id] : [AnalysisKey.scheduleScorer.id]
    }

    /// One hypothesis: the sub-blocks it skips, in the order they were added, and D along the way.
    struct Beam: Equatable {
        var order: [Int]
        var discrepancies: [Double]
        var skipped: Set<Int> { Set(order) }
        var key: [Int] { order.sorted() }
    }

    /// A candidate of one step: a beam extended by one sub-block, and the beam it extends.
    struct Candidate {
        var beam: Beam
        var parent: Int
        var screened: Double?
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        var result = model
        result.schedule = try search(SearchSpace(model: model, sparsity: sparsity), context: context)
        return result
    }

    /// The beam search over `space`: the schedule it ends with (the input's when that is already
    /// sparse enough). The scorer (and screening scorers) come from `context`, and the search is
    /// recorded there.
    public func search(_ space: SearchSpace, context: PassContext) throws -> [Slot] {
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        guard space.reachable >= space.target else {
            let most = Double(space.reachable) / Double(max(space.sourceParameters, 1))
            throw SkrrError(key: Self.name, "target sparsity \(sparsity) is unreachable: skipping every sub-block removes \(percent(most)) of the parameters (embeddings, norms and heads are never pruned)")
        }
        if space.removed(skipping: []) >= space.target {
            context.record(NoteRecord(pass: Self.name, summary: "input already at sparsity ≥ \(sparsity); nothing skipped"))
            return space.base
        }
        let screening = try screeningScorer(context)
        var state = try SearchState.restore(context.restoredState(Self.name)) ?? SearchState()
        let resumed = state.steps.count
        var progress = SearchProgress(space: space, context: context, screening: screening.map { _ in screeningFraction(context) },
                                      beam: beam)

        while state.finished == nil {
            let children = expand(state.beams, space: space)
            guard !children.isEmpty else {
                throw SkrrError(key: Self.name, "ran out of sub-blocks before reaching sparsity \(sparsity)")
            }
            progress.beginStep(children: children.map { ($0.beam.order.last!, state.beams[$0.parent]) },
                               stepsDone: state.steps.count,
                               removed: state.beams.map { space.removed(skipping: $0.skipped) }.max() ?? 0)
            let before = scorer.statistics.subBlockEvaluations
            let screenedBefore = screening?.statistics.subBlockEvaluations ?? 0
            var scored = children
            var rescored = children.count
            if let screening, children.count > rescore {
                scored = try scoreGrouped(children, parents: state.beams, with: screening, space: space, keep: rescore,
                                          into: \.screened) { progress.worked(candidate: $0, share: $1) }
                scored = ranked(scored, space: space) { $0.screened! }
                scored = Array(scored.prefix(rescore))
                rescored = scored.count
                progress.beginRescoring(candidates: scored.map { ($0.beam.order.last!, state.beams[$0.parent]) })
            }
            scored = try scoreGrouped(scored, parents: state.beams, with: scorer, space: space, keep: beam,
                                      into: nil) { progress.worked(candidate: $0, share: $1) }
            // Lowest D (or D per parameter) first; ties broken by the skipped set so results
            // never depend on order.
            scored = ranked(scored, space: space) { $0.beam.discrepancies.last! }
            let kept = scored.prefix(beam).map(\.beam)
            let step = SearchState.Step(
                candidates: children.count, rescored: screening == nil ? 0 : rescored,
                subBlockEvaluations: scorer.statistics.subBlockEvaluations - before,
                screenedSubBlockEvaluations: (screening?.statistics.subBlockEvaluations ?? 0) - screenedBefore)
            state.beams = kept
            state.steps.append(step)
            state.finished = kept.first { space.removed(skipping: $0.skipped) >= space.target }
            try context.saveState(Self.name, state.json)
            let best = kept.map { space.removed(skipping: $0.skipped) }.max() ?? 0
            progress.endStep(number: state.steps.count, bestD: kept[0].discrepancies.last!, removed: best)
        }
        let done = state.finished!
        context.record(SkipSearchRecord(
            pass: Self.name, order: done.order, orderDiscrepancies: done.discrepancies, beam: beam,
            removedFraction: Double(space.removed(skipping: done.skipped)) / Double(space.sourceParameters),
            screen: screening == nil ? nil : SkipSearchRecord.Screen(prompts: screen, rescored: rescore),
            steps: state.steps.map { .init(candidates: $0.candidates, rescored: $0.rescored, subBlockEvaluations: $0.subBlockEvaluations,
                                           screenedSubBlockEvaluations: $0.screenedSubBlockEvaluations) },
            resumedSteps: resumed))
        return space.schedule(skipping: done.skipped)
    }

    /// Every beam extended by every sub-block it still runs, each set once (first parent wins).
    func expand(_ beams: [Beam], space: SearchSpace) -> [Candidate] {
        var seen = Set<[Int]>()
        var children: [Candidate] = []
        for (index, parent) in beams.enumerated() {
            let skipped = parent.skipped
            for slot in space.candidates where !skipped.contains(slot) {
                var child = parent
                child.order.append(slot)
                if seen.insert(child.key).inserted { children.append(Candidate(beam: child, parent: index)) }
            }
        }
        return children
    }

    /// Scores candidates parent by parent (so each resumes from its parent's cached states), and
    /// stores each D as the screened value or as the next entry of the beam's D list. Only the
    /// `keep` best by the search's ranking need exact values: with `bound`, the others may get a
    /// lower bound that ranks them after those (`ScheduleScorer.scoreBest`). `worked(i, share)`:
    /// share of `candidates[i]`'s work done.
    func scoreGrouped(_ candidates: [Candidate], parents: [Beam], with scorer: any ScheduleScorer, space: SearchSpace,
                      keep: Int, into screenedField: WritableKeyPath<Candidate, Double?>?,
                      worked: (Int, Double) -> Void) throws -> [Candidate] {
        // Positions in `candidates`, parent by parent.
        let order = parents.indices.flatMap { parent in candidates.indices.filter { candidates[$0].parent == parent } }
        let groups = parents.indices.compactMap { parent -> CandidateGroup? in
            let members = candidates.filter { $0.parent == parent }
            guard !members.isEmpty else { return nil }
            return CandidateGroup(base: space.schedule(skipping: parents[parent].skipped),
                                  candidates: members.map { space.schedule(skipping: $0.beam.skipped) })
        }
        let scores: [Double]
        if bound {
            scores = try scorer.scoreBest(groups, keep: keep, rankKey: { i, d in rankKey(d, of: candidates[order[i]], space: space) },
                                          worked: { i, share in worked(order[i], share) })
        } else {
            scores = try scorer.scoreEvery(groups) { i, share in worked(order[i], share) }
        }
        return zip(order, scores).map { position, score in
            var candidate = candidates[position]
            if let screenedField {
                candidate[keyPath: screenedField] = score
            } else {
                candidate.beam.discrepancies.append(score)
            }
            return candidate
        }
    }

    /// Candidates in the order the search keeps them: by `score` (D), or by D per parameter
    /// removed; ties broken by the skipped set.
    func ranked(_ candidates: [Candidate], space: SearchSpace, score: (Candidate) -> Double) -> [Candidate] {
        let keyed = candidates.map { (rankKey(score($0), of: $0, space: space), $0) }
        return keyed.sorted { a, b in
            a.0 != b.0 ? a.0 < b.0 : a.1.beam.key.lexicographicallyPrecedes(b.1.beam.key)
        }.map(\.1)
    }

    /// What the search ranks a candidate by, given its D (never decreasing as D grows).
    func rankKey(_ d: Double, of candidate: Candidate, space: SearchSpace) -> Double {
        switch ranking {
        case .discrepancy: return d
        case .perParameter:
            // Removal beyond the target earns nothing: a large sub-block that overshoots a
            // small remaining budget is charged its D over the budget, not over its size.
            let useful = min(space.removed(skipping: candidate.beam.skipped), space.target)
            return d / Double(max(useful, 1))
        }
    }

    func screeningScorer(_ context: PassContext) throws -> (any ScheduleScorer)? {
        guard screen > 0 else { return nil }
        let scorers = try context.analysis(.screeningScorers, for: Self.name)
        guard screen < scorers.calibrationPromptCount else { return nil }
        return try scorers.scorer(prompts: screen)
    }

    func screeningFraction(_ context: PassContext) -> Double {
        guard let scorers = try? context.analysis(.screeningScorers, for: Self.name) else { return 1 }
        return Double(screen) / Double(max(scorers.calibrationPromptCount, 1))
    }
}

/// What a search runs on: which sub-blocks it may drop, what dropping them removes, and the
/// schedule a set of dropped sub-blocks gives. One encoder's space comes from its IR; a joint
/// search over several encoders (issue 16) builds one whose slots number every encoder's
/// sub-blocks in turn.
public struct SearchSpace {
    /// The schedule nothing has been dropped from.
    public let base: [Slot]
    /// Parameters of the source: the denominator of sparsity.
    public let sourceParameters: Int
    public let target: Int
    /// Sub-blocks a search may drop, ascending.
    public let candidates: [Int]
    public let reachable: Int
    /// Parameters removed by a schedule derived from `base`.
    let removedBy: ([Slot]) -> Int
    /// Parameters of one droppable sub-block (for the progress estimate).
    let size: (Int) -> Int
    /// Slots a candidate diverging at `slot` recomputes (of those still running in `schedule`).
    let suffix: (Int, [Slot]) -> Int

    public init(base: [Slot], sourceParameters: Int, sparsity: Double, candidates: [Int],
                removed: @escaping ([Slot]) -> Int, subBlockSize: @escaping (Int) -> Int,
                suffixLength: @escaping (Int, [Slot]) -> Int) {
        self.base = base
        self.sourceParameters = sourceParameters
        target = Int((sparsity * Double(sourceParameters)).rounded(.up))
        self.candidates = candidates
        removedBy = removed
        size = subBlockSize
        suffix = suffixLength
        reachable = removed(base.enumerated().map { candidates.contains($0.offset) ? .skip : $0.element })
    }

    /// One encoder's space.
    public init(model: ModelIR, sparsity: Double) {
        self.init(
            base: model.schedule, sourceParameters: model.sourceParameters, sparsity: sparsity,
            candidates: model.schedule.indices.filter(model.isDroppable),
            removed: { schedule in
                var copy = model
                copy.schedule = schedule
                return model.sourceParameters - copy.keptParameters
            },
            subBlockSize: { model.parameterCount(ofSubBlock: $0) },
            suffixLength: { slot, schedule in (slot..<schedule.count).filter { schedule[$0] != .skip }.count })
    }

    public func schedule(skipping set: Set<Int>) -> [Slot] {
        base.enumerated().map { set.contains($0.offset) ? .skip : $0.element }
    }

    public func removed(skipping set: Set<Int>) -> Int { removedBy(schedule(skipping: set)) }

    func parameterCount(ofSubBlock slot: Int) -> Int { size(slot) }

    /// Sub-blocks that still run at or after `slot` when `set` is skipped: the suffix a
    /// candidate diverging at `slot` recomputes.
    func suffixLength(from slot: Int, skipping set: Set<Int>) -> Int { suffix(slot, schedule(skipping: set)) }
}

extension ModelIR {
    /// Whether a pass may remove sub-block `slot`: it runs in its own slot and no other slot
    /// re-uses it (removing a re-use source would change the slots that borrow it).
    public func isDroppable(_ slot: Int) -> Bool {
        schedule.indices.contains(slot) && schedule[slot] == .run(slot)
            && !schedule.enumerated().contains { $0.offset != slot && $0.element == .run(slot) }
    }
}
