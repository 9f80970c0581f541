import SkrrLowering
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// The Skrr discrepancy (docs/architecture.md §4): `D = MSE(f(C), f̂(C)) + MSE(f(∅), f̂(∅))`, the squared
/// error of the candidate's embeddings against the dense model's over the calibration prompts,
/// plus the same for the empty prompt, each averaged over the positions the pipeline consumes and
/// all features. `f` is the identity or the denoiser's projection.
///
/// Work is shared through a cache of hidden states at sub-block boundaries: a candidate that
/// differs from a cached schedule only from slot `p` on resumes at `p`. Under a mask, prompts are
/// grouped by exact length and run unpadded, so padding is never computed.
public final class DiscrepancyScorer: ScheduleScorer {
    public struct Options: Sendable {
        /// Include the empty-prompt term (FinerCut-style scoring leaves it out).
        public var includeNullPrompt = true
        /// Upper bound on bytes of cached hidden states (the most recent run is kept even when it
        /// alone exceeds it; the stride between kept boundaries is chosen so a run takes about a
        /// quarter of it).
        public var memoryBudget = 2 << 30
        /// Largest number of tokens run in one batch.
        public var maxBatchTokens = 8192
        /// Threads the batches are spread over (nil: OpenBLAS's configured count). Scores do not
        /// depend on it: every batch is computed on one thread the same way.
        public var threads: Int?
        /// What the pipeline reads from the encoder; D compares exactly that.
        public var consumed = ConsumedOutputs()
        /// The arithmetic of every run, the dense reference included (`--search-compute`): bf16
        /// multiplies bf16-stored weights with activations rounded to bf16.
        public var compute = ComputePrecision.f32
        /// Run feed-forward slots with bf16/f16 weights over all batches' rows at once where that
        /// gives the same bits (BatchRunner); off only to compare against the per-batch path.
        public var fuseRows = true
        /// Measure candidates chunk by chunk of the calibration batches when only the best few
        /// of them matter (`scoreBest`), stopping once a lower bound of D rules one out. Same
        /// results either way; off to measure what it saves.
        public var bound = true
        /// Fewest rows in a chunk of `scoreBest` (but the last): smaller products run slower
        /// than the bound saves.
        public var boundMinimumRows = 256
        public init() {}
    }

    /// Runs slots on all batches, spread over the threads.
    let runner: BatchRunner
    /// `runner`'s first interpreter: embedding and finishing single states.
    var interpreter: Interpreter { runner.primary }
    /// The dense model and its weights, for candidates whose weights differ (merged tensors).
    public let denseModel: ModelIR
    let denseWeights: WeightSource
    /// Final hidden states of the dense model on the calibration batches (before any
    /// projection), computed on the first `measure`.
    var denseHidden: [[Float]]?
    /// `program.slots[j]` holds sub-block `j`'s weights (the program is lowered dense).
    let denseSlots: [ProgramSlot]
    let options: Options
    /// Bytes of hidden states its cache may hold (`Options.memoryBudget`).
    public var memoryBudget: Int { options.memoryBudget }
    let projection: Projection?
    let calibration: [TokenBatch]
    let null: TokenBatch?
    /// What the pipeline reads from the dense model, per calibration batch and then the null prompt.
    var denseMeasured: [MeasuredOutputs] = []
    public internal(set) var statistics = ScorerStatistics()
    /// Sub-block runs over part of the calibration set, in whole-set runs, not yet counted in
    /// `statistics` (which counts whole runs).
    var partialRuns = 0.0
    /// The calibration batches `scoreBest` measures a candidate on, chunk after chunk, and each
    /// chunk's share of the rows (the null prompt's in the first).
    let boundChunks: [Range<Int>]
    let boundChunkShares: [Double]

    /// A schedule with states kept before some of its slots (`boundaries[k]` = before slot k).
    final class CachedRun {
        let schedule: [Slot]
        var boundaries: [Int: [ForwardState]] = [:]
        var lastUse = 0
        init(schedule: [Slot]) { self.schedule = schedule }
    }
    var cache: [CachedRun] = []
    var clock = 0
    /// Keep states before every `stride`-th slot so the cache fits the budget.
    let stride: Int
    /// Bytes of one boundary: every calibration batch's hidden states.
    let stateBytes: Int

    /// `model` is the dense model (schedule as imported); `prompts` are token ids of the
    /// calibration prompts and `nullPrompt` those of the empty prompt.
    public init(model: ModelIR, weights: WeightSource, prompts: [[Int32]], nullPrompt: [Int32]?, preset: PipelinePreset,
                projection: Projection? = nil, options: Options = Options()) throws {
        var dense = model
        dense.schedule = model.subBlocks.map { .run($0.index) }
        denseModel = dense
        denseWeights = weights
        let program = try Lowering.lower(dense)
        runner = try BatchRunner(program: program, weights: weights, threads: options.threads ?? Interpreter.defaultThreads,
                                 compute: options.compute, fuseRows: options.fuseRows)
        denseSlots = program.slots
        self.options = options
        self.projection = projection
        guard !prompts.isEmpty else { throw SkrrError(key: "calibration", "no calibration prompts") }
        calibration = DiscrepancyScorer.batches(prompts, preset: preset, maxTokens: options.maxBatchTokens)
        null = options.includeNullPrompt ? nullPrompt.map {
            TokenBatch(ids: [$0], padToLength: preset.padToMax ? preset.maxLength : nil, maskPadding: preset.useMask)
        } : nil
        let batchRows = calibration.map { $0.ids.count * $0.length }
        boundChunks = DiscrepancyScorer.boundChunks(rows: batchRows, minimumRows: options.boundMinimumRows)
        let nullRows = null.map { $0.ids.count * $0.length } ?? 0
        let tokensPerState = batchRows.reduce(0, +) + nullRows
        boundChunkShares = boundChunks.enumerated().map { c, chunk in
            Double(batchRows[chunk].reduce(0, +) + (c == 0 ? nullRows : 0)) / Double(max(tokensPerState, 1))
        }
        stateBytes = tokensPerState * model.config.hiddenSize * 4
        // A few schedules (the beams) each keep up to L+1 boundaries.
        let perRun = max(options.memoryBudget / 4, 1)
        stride = max(1, Int((Double(stateBytes) * Double(model.subBlocks.count + 1) / Double(perRun)).rounded(.up)))
        var denseStates = try runner.begin(allBatches)
        let slots = denseSlots
        let penultimate = try advance(&denseStates, from: 0, with: runner) { slots[$0] }
        denseMeasured = try measured(denseStates, penultimate: penultimate, finishedBy: interpreter)
        statistics = ScorerStatistics()  // the dense reference is not search work
    }

    /// Groups prompts for execution. With a mask, equal-length prompts share a batch and are
    /// run unpadded; without one, every prompt is padded to the preset's length as the pipeline does.
    static func batches(_ prompts: [[Int32]], preset: PipelinePreset, maxTokens: Int) -> [TokenBatch] {
        if !preset.useMask || preset.maxLength == nil || !preset.padToMax {
            if preset.useMask {
                return groupByLength(prompts, maxTokens: maxTokens).map { TokenBatch(ids: $0) }
            }
            let length = preset.padToMax ? preset.maxLength : nil
            let perBatch = max(1, maxTokens / max(length ?? prompts.map(\.count).max()!, 1))
            return Swift.stride(from: 0, to: prompts.count, by: perBatch).map {
                TokenBatch(ids: Array(prompts[$0..<min($0 + perBatch, prompts.count)]), padToLength: length, maskPadding: false)
            }
        }
        return groupByLength(prompts, maxTokens: maxTokens).map { TokenBatch(ids: $0) }
    }

    static func groupByLength(_ prompts: [[Int32]], maxTokens: Int) -> [[[Int32]]] {
        var byLength: [Int: [[Int32]]] = [:]
        for prompt in prompts { byLength[prompt.count, default: []].append(prompt) }
        var groups: [[[Int32]]] = []
        for length in byLength.keys.sorted() {
            let members = byLength[length]!
            let perBatch = max(1, maxTokens / length)
            for start in Swift.stride(from: 0, to: members.count, by: perBatch) {
                groups.append(Array(members[start..<min(start + perBatch, members.count)]))
            }
        }
        return groups
    }

    // MARK: ScheduleScorer

    public func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
        let baseRun = try ensureCached(base)
        var scores: [Double] = []
        for candidate in candidates {
            let divergence = firstDifference(candidate, base)
            scores.append(try discrepancy(candidate, resumingFrom: baseRun, at: divergence))
            countCandidate(candidate)
        }
        return scores
    }

    /// Counts a candidate scored, and what scoring it without caching would run.
    func countCandidate(_ schedule: [Slot]) {
        statistics.candidatesScored += 1
        statistics.naiveSubBlockEvaluations += schedule.filter { $0 != .skip }.count
    }

    // MARK: execution

    func weights(for slot: Int, _ entry: Slot) -> ProgramSlot {
        switch entry {
        case .skip: return .skip
        case let .run(source): return denseSlots[source]
        }
    }

    /// The batches of the calibration set, null prompt last.
    var allBatches: [TokenBatch] { calibration + (null.map { [$0] } ?? []) }

    /// Makes sure `schedule` has cached boundary states, computing it from the cached run that
    /// shares the longest prefix with it.
    func ensureCached(_ schedule: [Slot]) throws -> CachedRun {
        clock += 1
        if let hit = cache.first(where: { $0.schedule == schedule }) {
            hit.lastUse = clock
            return hit
        }
        var start = 0
        var states: [ForwardState]
        if let (donor, boundary) = bestDonor(for: schedule) {
            start = boundary
            states = donor.boundaries[boundary]!
        } else {
            states = try runner.begin(allBatches)
        }
        let run = CachedRun(schedule: schedule)
        run.lastUse = clock
        for slot in start..<schedule.count {
            if slot % stride == 0 { run.boundaries[slot] = states }
            let weights = weights(for: slot, schedule[slot])
            if weights != .skip {
                try runner.apply(weights, to: &states)
                statistics.subBlockEvaluations += 1
            }
        }
        // Boundaries before `start` are shared with the donor's.
        if let (donor, boundary) = bestDonor(for: schedule) {
            for (k, value) in donor.boundaries where k <= boundary && run.boundaries[k] == nil { run.boundaries[k] = value }
        }
        cache.append(run)
        evict()
        return run
    }

    /// The cached run sharing the longest prefix, and the last stored boundary within it.
    func bestDonor(for schedule: [Slot]) -> (CachedRun, Int)? {
        var best: (CachedRun, Int)?
        for run in cache {
            let common = firstDifference(run.schedule, schedule)
            guard let boundary = run.boundaries.keys.filter({ $0 <= common }).max() else { continue }
            if boundary > (best?.1 ?? -1) { best = (run, boundary) }
        }
        return best
    }

    /// Keeps the most recently used runs (the current beams and their parents): at most 8, and
    /// no more than fit the memory budget. A run's bytes count every boundary it holds, those it
    /// shares with its donor included, so the sum can only overstate what is resident. On small
    /// models the 8 runs bind; on T5-XXL with long prompts (one boundary ~150 MB) the budget does.
    func evict() {
        let keep = 8
        guard cache.count > keep || cachedBytes > options.memoryBudget else { return }
        cache.sort { $0.lastUse > $1.lastUse }
        var bytes = 0, kept = 0
        for run in cache {
            let runBytes = run.boundaries.count * stateBytes
            guard kept < keep, kept == 0 || bytes + runBytes <= options.memoryBudget else { break }
            bytes += runBytes
            kept += 1
        }
        cache.removeLast(cache.count - kept)
    }

    /// Bytes of hidden states the cache holds (shared boundaries counted once per run).
    var cachedBytes: Int { cache.reduce(0) { $0 + $1.boundaries.count * stateBytes } }

    func discrepancy(_ schedule: [Slot], resumingFrom base: CachedRun, at divergence: Int) throws -> Double {
        discrepancy(of: try outputs(schedule, resumingFrom: base, at: divergence))
    }

    /// `batches`: indices into `allBatches` to run (nil: all of them), `share` of the calibration
    /// set (for the work statistics).
    func outputs(_ schedule: [Slot], resumingFrom base: CachedRun, at divergence: Int, batches: [Int]? = nil,
                 share: Double = 1) throws -> [MeasuredOutputs] {
        let limit = resumeLimit(divergence)
        let boundary = base.boundaries.keys.filter { $0 <= limit }.max()
        func picked<T>(_ all: [T]) -> [T] { batches.map { $0.map { all[$0] } } ?? all }
        var states = try boundary.map { picked(base.boundaries[$0]!) } ?? runner.begin(picked(allBatches))
        let penultimate = try advance(&states, from: boundary ?? 0, with: runner, share: share) { self.weights(for: $0, schedule[$0]) }
        return try measured(states, penultimate: penultimate, finishedBy: interpreter)
    }

    /// What the pipeline reads under `schedule`, per calibration batch and then the null prompt
    /// (not projected unless the scorer has a projection), resuming from `base`'s cached states:
    /// for a joint search, which combines several encoders' outputs before measuring D.
    public func outputs(_ schedule: [Slot], base: [Slot]) throws -> [MeasuredOutputs] {
        let baseRun = try ensureCached(base)
        statistics.naiveSubBlockEvaluations += schedule.filter { $0 != .skip }.count
        return try outputs(schedule, resumingFrom: baseRun, at: firstDifference(schedule, base))
    }

    /// The dense model's outputs, as `outputs` gives them.
    public var denseOutputs: [MeasuredOutputs] { denseMeasured }

    /// Calibration batches (the null prompt, when included, comes after them in `outputs`).
    public var calibrationBatchCount: Int { calibration.count }

    /// `f(·)` of a final state: the consumed positions' embeddings, projected when configured.
    func embeddingsOf(_ state: ForwardState, finishedBy runner: Interpreter? = nil) throws -> [Float] {
        try projected(consumedHidden(state, finishedBy: runner ?? interpreter))
    }

    /// The final hidden states of the positions the pipeline consumes, row after row.
    func consumedHidden(_ state: ForwardState, finishedBy runner: Interpreter) throws -> [Float] {
        consumedRows(try runner.finish(state), of: state)
    }
}

/// The first slot where two schedules differ (their common length when one is a prefix).
func firstDifference(_ a: [Slot], _ b: [Slot]) -> Int {
    for i in 0..<min(a.count, b.count) where a[i] != b[i] { return i }
    return min(a.count, b.count)
}
