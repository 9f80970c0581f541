import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// `-O`: names for pass pipelines.
public enum OptimizationLevel: String, CaseIterable, Sendable {
    /// Convert only: import, verify, write.
    case none
    /// The `--method`'s pruning pipeline (Skrr: skip-search, reuse-rewrite, dead-weight-elim).
    case prune
}

/// A command-line mistake: the CLI reports it as a usage error (exit 64).
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `skrrc MODEL ...` can be asked to do, typed. The CLI binds arguments to this; tests
/// and other tools build it directly.
public struct CompileOptions: Sendable {
    /// A .safetensors file, a *.safetensors.index.json, a model folder or a diffusers pipeline.
    public var model: String
    /// In a pipeline folder, the text encoder (`text_encoder_3`).
    public var encoder: String?
    public var level: OptimizationLevel = .none
    public var method: PruneMethod = .skrr
    public var sparsity = 0.3
    public var beam = 3
    /// Screen skip-search's candidates on this many calibration prompts (0: off; nil: the default,
    /// `defaultScreen(parameters:)`).
    public var screen: Int?
    /// Where the search saves its state after every step, and resumes from.
    public var checkpoint: String?
    /// Calibration folds a re-use must lower D on (1: the paper's plain rule; nil: the default).
    public var reuseFolds: Int?
    public var calibration = CalibrationOptions()
    /// A pass pipeline run instead of `-O`.
    public var passes: String?
    /// `--print-ir-after`: a pass name or `all`.
    public var printIRAfter: String?
    public var verifyEach = false
    public var report: String?
    public var plot: String?
    /// `.skrr` (runtime file) or `.ir`.
    public var out: String?
    /// Stored dtype of a runtime file's weights (nil: as in the model).
    public var weightDType: WeightType?
    public var emitIR = false
    /// Scan every weight for NaN/Inf before compiling.
    public var weightCheck = true
    /// Write a runtime file without tokenizer files (it encodes only `--ids`).
    public var noTokenizer = false
    /// Joint prune only: also prune each encoder alone to the same fraction, by its own D, and
    /// report the joint D of that result beside the joint search's (`--compare-separate`).
    public var compareSeparate = false
    /// Joint prune only: how the search ranks candidates (`--rank`; nil: per-parameter, see
    /// BENCHMARKS "Joint pruning").
    public var ranking: SkipSearch.Ranking?
    /// The search options the user set (`--sparsity`, `--calib` ...): they are refused, not
    /// silently ignored, when the run does not prune, and those that set pass options
    /// (`pipelineOptions`) also when it names its own pipeline with `--passes`.
    public var searchOptionsGiven: [String] = []
    /// Options `-O prune` turns into pass options.
    public static let pipelineOptions: Set<String> = ["--sparsity", "--beam", "--screen", "--reuse-folds"]

    public init(model: String) { self.model = model }

    /// The pipeline folder a joint job works on (JointPruneJob): a folder with several text
    /// encoders and no `--encoder`, pruned together (`-O prune`) or converted into one runtime
    /// file (`-o FILE.skrr` without `--passes`).
    public var jointFolder: PipelineFolder? {
        guard encoder == nil, level == .prune || (passes == nil && out?.hasSuffix(".skrr") == true),
              let folder = try? PipelineFolder.read(model), folder.isJoint else { return nil }
        return folder
    }

    /// Every check that needs no file: what the CLI reports as usage errors before any work.
    public func validate() throws {
        if let folder = jointFolder {
            try JointPruneJob.validate(self)
            try validateSearchNumbers()
            if let kind = calibration.pipeline == .generic ? nil : calibration.pipeline, folder.kind != nil, kind != folder.kind {
                throw UsageError("--pipeline \(kind.rawValue) does not match \(folder.className) in \(folder.path)/model_index.json")
            }
            return
        }
        if ranking != nil {
            throw UsageError("--rank applies to a joint prune: -O prune on a pipeline folder with several encoders and no --encoder")
        }
        if compareSeparate {
            throw UsageError("--compare-separate applies to a joint prune: -O prune on a pipeline folder with several encoders and no --encoder")
        }
        if !emitIR && out == nil { throw UsageError("nothing to write: pass -o OUT.skrr, -o OUT.ir and/or --emit-ir") }
        if let out, !out.hasSuffix(".ir") && !out.hasSuffix(".skrr") {
            throw UsageError("-o must name a runtime file (.skrr) or an IR file (.ir), got '\(out)'")
        }
        if weightDType != nil && out?.hasSuffix(".skrr") != true {
            throw UsageError("--weight-dtype applies to runtime files: pass -o OUT.skrr")
        }
        try validateSearchNumbers()
        if calibration.searchCompute == .int8 {
            throw UsageError("--search-compute int8 is not supported: int8 compute needs int8-stored weights, and a search scores the model's own (use f32 or bf16)")
        }
        if let reuseFolds, reuseFolds < 1 { throw UsageError("--reuse-folds must be at least 1 (1: the plain rule), got \(reuseFolds)") }
        if reuseFolds != nil && passes != nil {
            throw UsageError("--reuse-folds applies to -O prune; with --passes write it as reuse-rewrite{folds=K}")
        }
        if screen != nil && passes != nil {
            throw UsageError("--screen applies to -O prune; with --passes write it as skip-search{... screen=N}")
        }
        if let option = searchOptionsGiven.first(where: Self.pipelineOptions.contains), passes != nil {
            throw UsageError("\(option) applies to -O prune; with --passes write it as an option of the pass (docs/ir.md)")
        }
        if let option = searchOptionsGiven.first, !prunes {
            throw UsageError("\(option) applies to -O prune, and this run does not prune (add -O prune)")
        }
        if checkpoint != nil && (try? passManager().requiredAnalyses.isEmpty) == true {
            throw UsageError("--checkpoint applies to searches: the pipeline measures nothing")
        }
        do {
            try OutputPaths.check(outputs: outputs, inputs: [])
        } catch let error as SkrrError {
            throw UsageError(error.description)
        }
        if let printIRAfter { try Self.validatePrintIRAfter(printIRAfter) }
        _ = try passManager()
    }

    /// `--sparsity`, `--beam`, `--calib-size` and `--screen` in range (one encoder or a joint prune).
    func validateSearchNumbers() throws {
        if !(0...1).contains(sparsity) { throw UsageError("--sparsity must be in 0...1, got \(sparsity)") }
        if beam < 1 { throw UsageError("--beam must be at least 1") }
        if let size = calibration.size, size < 1 { throw UsageError("--calib-size must be at least 1") }
        if let screen, screen < 0 { throw UsageError("--screen must be 0 (off) or a number of prompts, got \(screen)") }
    }

    /// The files this run writes, by option (`--checkpoint` is also read, to resume).
    public var outputs: [(option: String, path: String)] {
        [("-o", out), ("--report", report), ("--plot", plot), ("--checkpoint", checkpoint)].compactMap { option, path in
            path.map { (option, $0) }
        }
    }

    /// Files read besides the model: prompt files and the denoiser's projection.
    var otherInputs: [String] {
        var files = [calibration.heldOut, calibration.projection].compactMap { $0 }
        if case let .file(path) = calibration.source { files.append(path) }
        if let projection = calibration.projection, let weights = try? ProjectionLoading.weightsPath(projection) { files.append(weights) }
        return files
    }

    /// `--print-ir-after` names a pass or `all` (compile and opt).
    public static func validatePrintIRAfter(_ name: String) throws {
        if name != "all", !PassRegistry.all.contains(where: { $0.name == name }) {
            throw UsageError("--print-ir-after must be 'all' or a pass name (\(PassRegistry.all.map(\.name).joined(separator: ", "))), got '\(name)'")
        }
    }

    /// Models at least this large are screened by default.
    public static let screenedModelParameters = 1_000_000_000
    /// Calibration prompts a default screen scores every candidate on.
    public static let defaultScreenPrompts = 16

    /// `--screen`'s default for a model of `parameters` parameters: 16 prompts from 1 B parameters
    /// up (T5-XXL and the other encoders of SD3, FLUX and PixArt), off below. Screening on 16
    /// prompts chose the same sets with the same held-out D as the full search on t5-trained and
    /// all-MiniLM-L6-v2 at 25/33/40 % with ~3× less total work (bench/screening.py, BENCHMARKS.md);
    /// small models keep the paper's exhaustive step, where the saving is minutes, and a large
    /// model's search is hours per step without it. nil (model unknown yet): off.
    public static func defaultScreen(parameters: Int?) -> Int {
        guard let parameters, parameters >= screenedModelParameters else { return 0 }
        return defaultScreenPrompts
    }

    /// The pass pipeline: `--passes` when given, else what `-O` names for a model of `parameters`
    /// parameters (which sets the default screen).
    public func pipeline(parameters: Int? = nil) throws -> [PassInvocation] {
        if let passes { return try PipelineParser.parse(passes) }
        guard level == .prune else { return [] }
        return method.pipeline(sparsity: sparsity, beam: beam, screen: screen ?? Self.defaultScreen(parameters: parameters),
                               reuseFolds: reuseFolds ?? 1)
    }

    /// The pipeline, validated (names, options), as a manager ready to run.
    public func passManager(parameters: Int? = nil) throws -> PassManager {
        do {
            return try PassManager(pipeline(parameters: parameters))
        } catch let error as SkrrError {
            throw UsageError(error.description)
        }
    }

    /// Whether the run prunes (and so prints a summary and reports a method).
    var prunes: Bool { level == .prune || passes != nil }
}
