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
            (model_index.json with text_encoder*/ and tokenizer*/; pick one with --encoder).
            -O prune runs skip-search, reuse-rewrite and dead-weight-elim (--method picks a \
            baseline instead). Discrepancy is measured on calibration prompts: the built-in set \
            (PartiPrompts, see Sources/Driver/Prompts/NOTICE) unless --calib is given.
            """)

    @Argument(help: "The model: .safetensors file, *.safetensors.index.json, or folder.")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder, the text encoder to use (e.g. text_encoder_3).")
    var encoder: String?

    @Option(name: .customShort("O"), help: "none (convert only) | prune.")
    var level: OptimizationLevel = .none

    @Option(name: .long, help: "Target fraction of the encoder's parameters to remove.")
    var sparsity: Double = 0.3

    @Option(name: .long, help: "Beam width of the skip search (1 = greedy).")
    var beam: Int = 3

    @Option(name: .long, help: "skrr | skip-only | finercut | shortgpt | laco.")
    var method: PruneMethod = .skrr

    @Option(name: .long, help: "Screen each search step's candidates on N calibration prompts and rescore only the best on all of them (0: off; default: 16 for models of 1 B parameters or more, else off).")
    var screen: Int?

    @Option(name: .long, help: "Accept a re-use only if it lowers D on each of K folds of the calibration prompts (1: the paper's plain rule).")
    var reuseFolds: Int?

    @Option(name: .long, help: "f32 | bf16: the arithmetic candidates are scored with (bf16: bf16-stored weights multiply in bf16).")
    var searchCompute: ComputePrecision = .f32

    @Option(name: .long, help: "Save the search after every step to FILE and resume from it when run again with the same arguments.")
    var checkpoint: String?

    @Option(name: .long, help: "generic | pixart-sigma | sd3 | flux | sdxl: which positions count and how prompts are padded.")
    var pipeline: PipelineKind = .generic

    @Option(name: .long, help: "The denoiser (.safetensors, index, or diffusers folder) whose text projection D is measured after.")
    var projection: String?

    @Option(name: .long, help: "Calibration prompts: long | parti (built-in sets) | FILE (one prompt per line).")
    var calib: String?

    @Option(name: .long, help: "How many calibration prompts to use.")
    var calibSize: Int = 128

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

    @Option(name: .long, help: "f32 | f16 | bf16: the dtype weights are stored in (.skrr output; default: as in the model).")
    var weightDtype: WeightType?

    @Flag(name: .long, help: "Print the resulting IR to stdout.")
    var emitIR = false

    @Flag(name: .long, help: "Skip the scan of every weight for NaN/Inf (the scan reads the whole checkpoint).")
    var noWeightCheck = false

    var options: CompileOptions {
        var o = CompileOptions(model: model)
        o.encoder = encoder
        o.level = level
        o.method = method
        o.sparsity = sparsity
        o.beam = beam
        o.screen = screen
        o.reuseFolds = reuseFolds
        o.checkpoint = checkpoint
        o.calibration.searchCompute = searchCompute
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
        return o
    }

    func validate() throws { try usage { try options.validate() } }

    func run() throws { try reportingErrors { try CompileJob.run(options) } }
}
