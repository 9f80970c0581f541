import SkrrEvaluation
import SkrrIR
import SkrrLowering
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// Where calibration prompts come from (`--calib long|parti|FILE`).
public enum CalibrationSource: Equatable, Sendable, CustomStringConvertible {
    /// The built-in long prompts (100–250 T5 tokens, like the captions T2I users write and the
    /// Skrr paper calibrates on).
    case long
    /// The built-in PartiPrompts (short).
    case parti
    /// A UTF-8 file, one prompt per line.
    case file(String)

    /// `long` and `parti` name the built-in sets; anything else is a path (write `./long` for a
    /// file called `long`).
    public init(_ text: String) {
        switch text {
        case "long": self = .long
        case "parti": self = .parti
        default: self = .file(text)
        }
    }

    public var description: String {
        switch self {
        case .long: return "long"
        case .parti: return "parti"
        case let .file(path): return path
        }
    }

    /// Prompts used when `--calib-size` is not given: 64 long prompts (~9,000 T5 tokens; on
    /// t5-trained 16 to 256 long prompts chose the same 30 % set with the same held-out D,
    /// bench/calib_size.py, so 64 leaves a margin at a quarter of the work of 256), or 128 short
    /// ones (PartiPrompts, ~2,000 tokens) and 128 of a file, as before the long set existed.
    public var defaultSize: Int {
        switch self {
        case .long: return 64
        case .parti, .file: return 128
        }
    }

    func prompts() throws -> [String] {
        switch self {
        case .long: return BuiltinPrompts.long
        case .parti: return BuiltinPrompts.parti
        case let .file(path): return try PromptFiles.readNonEmpty(path)
        }
    }
}

/// How D is measured for a compile: which prompts, which pipeline, which projection.
public struct CalibrationOptions: Sendable {
    public var pipeline: PipelineKind = .generic
    /// The paper's protocol by default: long prompts like the captions T2I users write.
    public var source = CalibrationSource.long
    /// How many of the prompts to use (the first N; nil: the source's `defaultSize`).
    public var size: Int?
    /// The prompts used: `size` or the source's default.
    public var resolvedSize: Int { size ?? source.defaultSize }
    /// The denoiser whose text projection D is measured after (`--projection`).
    public var projection: String?
    /// Held-out prompts the result is also scored on (`--eval`).
    public var heldOut: String?
    /// The arithmetic the search scores candidates with (`--search-compute`).
    public var searchCompute = ComputePrecision.f32
    public init() {}
}

/// How a method scores candidates.
public enum ScoringObjective: Sendable {
    /// Skrr's D: prompts plus the null prompt, after the denoiser's projection.
    case skrr
    /// FinerCut's plain output MSE: no null prompt, no projection.
    case plainOutputMSE
}

extension PruneMethod {
    /// FinerCut measures plain output MSE; every other method is scored by Skrr's D.
    public var objective: ScoringObjective { self == .finercut ? .plainOutputMSE : .skrr }
}

/// The calibration data of one compile, tokenised as the pipeline tokenises: prompts (built-in or
/// `--calib`), the empty prompt, held-out `--eval` prompts, and the denoiser's projection. It
/// makes the scorers passes ask for, and scores results on held-out prompts.
public final class Calibration {
    public let model: ModelIR
    public let preset: PipelinePreset
    public let reads: PipelineReads
    public let prompts: [[Int32]]
    public let nullPrompt: [Int32]
    public let heldOutPrompts: [[Int32]]?
    public let projection: Projection?
    public let source: CalibrationSource
    let searchCompute: ComputePrecision
    let weights: SourceWeights

    public init(model: ModelIR, options: CalibrationOptions) throws {
        self.model = model
        searchCompute = options.searchCompute
        preset = try PipelinePreset.preset(for: options.pipeline, clipEncoder: model.config.causal)
        reads = PipelineReads.of(options.pipeline, clip: model.config.causal)
        let tokenizer = try TokenizerLoading.load(Lowering.tokenizerFiles(model), padId: model.config.padTokenId)
        weights = try SourceWeights(model: model)
        source = options.source
        let texts = try options.source.prompts()
        let limit = preset.truncationLength(maxPositions: model.config.maxPositions)
        // A prompt above the token limit (docs/limits.md) is refused by name here.
        func encode(_ text: String, _ origin: @autoclosure () -> String) throws -> [Int32] {
            try tokenizer.encode(text, maxLength: limit, maxTokens: ResourceLimits.defaultTokensPerSequence, origin: origin(), key: "--calib")
        }
        prompts = try texts.prefix(options.resolvedSize).enumerated().map { try encode($1, "calibration prompt \($0 + 1) of \(options.source)") }
        nullPrompt = try tokenizer.encode("", maxLength: limit)
        projection = try options.projection.map { try ProjectionLoading.load($0, encoderWidth: model.config.hiddenSize) }
        heldOutPrompts = try options.heldOut.map { file in
            try PromptFiles.readNonEmpty(file).enumerated().map { try encode($1, "prompt \($0 + 1) of \(file)") }
        }
    }

    /// Mean tokens per calibration prompt as the preset tokenises them (end token included,
    /// padding not).
    public var meanTokens: Double {
        Double(prompts.reduce(0) { $0 + $1.count }) / Double(max(prompts.count, 1))
    }

    /// What the pipeline reads from this encoder: every method is scored on exactly that.
    public var consumed: ConsumedOutputs {
        reads.consumed(projected: model.heads.contains { $0.kind == .projection })
    }

    public func scorer(_ objective: ScoringObjective) throws -> DiscrepancyScorer {
        try scorer(objective, prompts: prompts)
    }

    /// The scorer of `objective` on some of the calibration prompts (screening, folds). Its cache
    /// budget is the full scorer's times its share of the prompts: it then keeps the same
    /// boundaries (the stride follows bytes per state, which scale the same way), and the K fold
    /// scorers together hold no more than the full scorer, instead of K times as much.
    func scorer(_ objective: ScoringObjective, prompts subset: [[Int32]]) throws -> DiscrepancyScorer {
        var options = DiscrepancyScorer.Options()
        options.memoryBudget = Self.budget(share: subset.count, of: prompts.count, full: options.memoryBudget)
        options.includeNullPrompt = objective == .skrr
        options.consumed = consumed
        options.compute = searchCompute
        return try DiscrepancyScorer(model: model, weights: weights, prompts: subset, nullPrompt: nullPrompt,
                                     preset: preset, projection: objective == .skrr ? projection : nil, options: options)
    }

    static func budget(share: Int, of total: Int, full: Int) -> Int {
        guard total > 0, share < total else { return full }
        return max(1, Int((Double(full) * Double(share) / Double(total)).rounded(.down)))
    }

    /// `count` prompts spread evenly over the calibration set (the same ones for a given count).
    func evenlySpread(_ count: Int) -> [[Int32]] {
        let n = min(count, prompts.count)
        return (0..<n).map { prompts[$0 * prompts.count / n] }
    }

    /// D of a result (schedule and weights) on the held-out prompts, with the null term, as Skrr
    /// defines D; nil without `--eval`.
    public func heldOutDiscrepancy(of result: ModelIR) throws -> Double? {
        guard let heldOutPrompts else { return nil }
        var options = DiscrepancyScorer.Options()
        options.consumed = consumed
        let scorer = try DiscrepancyScorer(model: model, weights: weights, prompts: heldOutPrompts, nullPrompt: nullPrompt,
                                           preset: preset, projection: projection, options: options)
        return try scorer.discrepancy(of: result)
    }

    /// Registers the scorer for `objective` as the provider of every analysis a pruning pass may
    /// ask for. It is built on first use (its dense reference run is the expensive part); the
    /// returned handle gives the report its work counters afterwards.
    public func provideAnalyses(to context: PassContext, objective: ScoringObjective) -> ScorerHandle {
        let handle = ScorerHandle()
        context.analyses.registerScoring { () throws -> DiscrepancyScorer in
            let scorer = try self.scorer(objective)
            handle.built.append(scorer)
            return scorer
        }
        let subsets = SubsetScorers(calibration: self, objective: objective)
        context.analyses.register(.screeningScorers, subsets)
        context.analyses.register(.foldScorers, subsets)
        return handle
    }
}

/// The same D on parts of the calibration prompts: evenly spread subsets (screening) and
/// disjoint folds (robust re-use).
final class SubsetScorers: ScreeningScorers, FoldScorers {
    let calibration: Calibration
    let objective: ScoringObjective
    private var built: [Int: DiscrepancyScorer] = [:]
    private var folds: [Int: [DiscrepancyScorer]] = [:]

    init(calibration: Calibration, objective: ScoringObjective) {
        self.calibration = calibration
        self.objective = objective
    }

    var calibrationPromptCount: Int { calibration.prompts.count }

    func scorer(prompts: Int) throws -> any ScheduleScorer { try discrepancyScorer(prompts: prompts) }

    func scorers(folds count: Int) throws -> [any ScheduleScorer] { try discrepancyScorers(folds: count) }

    func discrepancyScorer(prompts: Int) throws -> DiscrepancyScorer {
        if let scorer = built[prompts] { return scorer }
        let scorer = try calibration.scorer(objective, prompts: calibration.evenlySpread(prompts))
        built[prompts] = scorer
        return scorer
    }

    /// Prompt i goes to fold i mod `count`.
    func discrepancyScorers(folds count: Int) throws -> [DiscrepancyScorer] {
        if let made = folds[count] { return made }
        let prompts = calibration.prompts
        guard count <= prompts.count else {
            throw SkrrError(key: "reuse-rewrite", "folds=\(count) needs at least \(count) calibration prompts, got \(prompts.count)")
        }
        let made = try (0..<count).map { fold in
            try calibration.scorer(objective, prompts: prompts.indices.filter { $0 % count == fold }.map { prompts[$0] })
        }
        folds[count] = made
        return made
    }
}

/// The full-set scorer a compile built, if any pass asked for one: the report reads its work
/// counters (screening work is in skip-search's own record, per step).
public final class ScorerHandle {
    var built: [any ScheduleScorer] = []

    public var statistics: ScorerStatistics? { built.first?.statistics }
}
