import ArgumentParser
import SkrrDriver
import SkrrPasses
import SkrrRuntime

/// `skrrc MODEL [-O none|prune] ...`: binds the command line to `CompileOptions`; the work is
/// `CompileJob` (SkrrDriver).
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Import a model, optionally prune it (-O prune), and print or write its IR.",
        discussion: """
            MODEL is a .safetensors file with config.json beside it, a *.safetensors.index.json \
            (sharded), a model folder with config.json, or a diffusers pipeline folder \
            (model_index.json with text_encoder*/ and tokenizer*/; pick one with --encoder), \
            or an IR file (.ir) as skrrc wrote it, e.g. a pruned one to write again as a runtime \
            file in another --weight-dtype without searching again.
            -O prune runs skip-search, reuse-rewrite and dead-weight-elim (--method picks a \
            baseline instead). Discrepancy is measured on calibration prompts: 64 of the built-in \
            long prompts (like the captions T2I users write, as the Skrr paper calibrates) unless \
            --calib and --calib-size say otherwise (Sources/Driver/Prompts/NOTICE).
            An SD3 or FLUX pipeline folder without --encoder is taken whole: -o FILE.skrr writes \
            every text encoder into one pipeline runtime file (skrrc run FILE gives the joint \
            conditioning), and -O prune prunes them all under one budget (--sparsity of their \
            parameters together), scored by D on the joint conditioning after the pipeline's own \
            transformer/ projections; -o FOLDER writes each pruned encoder's IR there instead.
            """)

    @Argument(help: "The model: .safetensors file, *.safetensors.index.json, folder, or .ir file.")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder, the text encoder to use (e.g. text_encoder_3).")
    var encoder: String?

    @Option(name: .customShort("O"), help: "none (convert only) | prune.")
    var level: OptimizationLevel = .none

    // Numbers are parsed unconditionally: a value may start with '-' ("-0.1") and is then
    // refused with the range, not taken for an unknown option ("Missing value").
    @Option(name: .long, parsing: .unconditional, help: "Target fraction of the encoder's parameters to remove (-O prune; default 0.3).")
    var sparsity: Double?

    @Option(name: .long, parsing: .unconditional, help: "Beam width of the skip search (1 = greedy; -O prune; default 3).")
    var beam: Int?

    @Option(name: .long, help: "skrr | skip-only | finercut | shortgpt | laco (-O prune; default skrr).")
    var method: PruneMethod?

    @Option(name: .long, parsing: .unconditional, help: "Screen each search step's candidates on N calibration prompts and rescore only the best on all of them (0: off; default: 16 for models of 1 B parameters or more, else off).")
    var screen: Int?

    @Option(name: .long, parsing: .unconditional, help: "Accept a re-use only if it lowers D on each of K folds of the calibration prompts (1: the paper's plain rule).")
    var reuseFolds: Int?

    @Option(name: .long, help: "f32 | bf16: the arithmetic candidates are scored with (bf16: bf16-stored weights multiply in bf16).")
    var searchCompute: ComputePrecision?

    @Option(name: .long, help: "Save the search after every step to FILE and resume from it when run again with the same arguments.")
    var checkpoint: String?

    @Option(name: .long, help: "generic | pixart-sigma | sd3 | flux | sdxl: which positions count and how prompts are padded.")
    var pipeline: PipelineKind = .generic

    @Option(name: .long, help: "The denoiser (.safetensors, index, or diffusers folder) whose text projection D is measured after.")
    var projection: String?

    @Option(name: .long, help: "Calibration prompts: long (built-in, 100-250 tokens; the default) | parti (built-in PartiPrompts, short) | FILE (one prompt per line).")
    var calib: String?

    @Option(name: .long, parsing: .unconditional, help: "How many calibration prompts to use (the first N; default: 64 long, 128 parti or 128 of a FILE).")
    var calibSize: Int?

    @Option(name: .long, help: "Held-out prompts to score the result on (not used to calibrate).")
    var eval: String?

    @Option(name: .long, help: "A pass pipeline to run instead of -O, e.g. 'skip-search{sparsity=0.4 beam=3},dead-weight-elim'.")
    var passes: String?

    @Option(name: .long, help: "Print the IR after the named pass (or 'all') to stderr.")
    var printIRAfter: String?

    @Flag(name: .long, help: "Run the verifier after every pass.")
    var verifyEach = false

    @Option(name: .long, help: "Write a JSON report of the run.")
    var report: String?

    @Option(name: .long, help: "Write an SVG of the slot map and, after a search, of D along the search order.")
    var plot: String?

    @Option(name: .shortAndLong, help: "Write the result: a runtime file (.skrr) or its IR (.ir).")
    var out: String?

    @Option(name: .long, help: "f32 | f16 | bf16 | int8: the dtype weights are stored in (.skrr output; default: as in the model). int8: linear weights and the token table, per-row scales; the rest keeps its dtype.")
    var weightDtype: WeightType?

    @Flag(name: .long, help: "Print the resulting IR to stdout.")
    var emitIR = false

    @Flag(name: .long, help: "Skip the scan of every weight for NaN/Inf (the scan reads the whole checkpoint).")
    var noWeightCheck = false

    @Flag(name: .long, help: "Write a runtime file even though the model has no tokenizer files (it then encodes only --ids).")
    var noTokenizer = false

    @Flag(name: .long, help: "Joint prune of a pipeline: also prune each encoder alone to the same fraction and report that result's joint D.")
    var compareSeparate = false

    @Option(name: .long, help: "Joint prune of a pipeline: rank a step's candidates by discrepancy or per-parameter (D per parameter removed; the default there).")
    var rank: SkipSearch.Ranking?

    var options: CompileOptions {
        var o = CompileOptions(model: model)
        o.encoder = encoder
        o.level = level
        o.method = method ?? o.method
        o.sparsity = sparsity ?? o.sparsity
        o.beam = beam ?? o.beam
        o.screen = screen
        o.reuseFolds = reuseFolds
        o.checkpoint = checkpoint
        o.calibration.searchCompute = searchCompute ?? o.calibration.searchCompute
        o.calibration.pipeline = pipeline
        o.calibration.projection = projection
        o.calibration.source = calib.map(CalibrationSource.init) ?? o.calibration.source
        o.calibration.size = calibSize
        o.calibration.heldOut = eval
        o.passes = passes
        o.printIRAfter = printIRAfter
        o.verifyEach = verifyEach
        o.report = report
        o.plot = plot
        o.out = out
        o.weightDType = weightDtype
        o.emitIR = emitIR
        o.weightCheck = !noWeightCheck
        o.noTokenizer = noTokenizer
        o.compareSeparate = compareSeparate
        o.ranking = rank
        let given: [(String, Bool)] = [
            ("--sparsity", sparsity != nil), ("--beam", beam != nil), ("--method", method != nil), ("--screen", screen != nil),
            ("--reuse-folds", reuseFolds != nil), ("--search-compute", searchCompute != nil), ("--calib", calib != nil),
            ("--calib-size", calibSize != nil),
        ]
        o.searchOptionsGiven = given.filter(\.1).map(\.0)
        return o
    }

    // Checked in run, not validate: ArgumentParser reports unknown options only after validate,
    // so a misspelt option would otherwise be hidden behind a message about what is missing.
    func run() throws {
        try usage(of: Compile.self) { try options.validate() }
        try reportingErrors {
            if let folder = options.jointFolder {
                if options.level == .prune { try JointPruneJob.run(options, folder: folder) } else { try JointPruneJob.convert(options, folder: folder) }
            } else {
                try CompileJob.run(options)
            }
        }
    }
}
