import ArgumentParser
import SkrrFrontend
import SkrrIR
import SkrrBackend
import SkrrLowering
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// `skrrc MODEL [-O none|prune] ...`: import a model, run a pass pipeline, write the result.
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
            (PartiPrompts, see data/prompts/NOTICE) unless --calib is given.
            """)

    @Argument(help: "The model: .safetensors file, *.safetensors.index.json, or folder.")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder, the text encoder to use (e.g. text_encoder_3).")
    var encoder: String?

    @Option(name: .customShort("O"), help: "none (convert only) | prune.")
    var level: String = "none"

    @Option(name: .long, help: "Target fraction of the encoder's parameters to remove.")
    var sparsity: Double = 0.3

    @Option(name: .long, help: "Beam width of the skip search (1 = greedy).")
    var beam: Int = 3

    @Option(name: .long, help: "skrr | skip-only | finercut | shortgpt | laco.")
    var method: String = "skrr"

    @Option(name: .long, help: "generic | pixart-sigma | sd3 | flux | sdxl: which positions count and how prompts are padded.")
    var pipeline: String = "generic"

    @Option(name: .long, help: "The denoiser (.safetensors, index, or diffusers folder) whose text projection D is measured after.")
    var projection: String?

    @Option(name: .long, help: "Calibration prompts, one per line (default: the built-in set).")
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
    var weightDtype: String?

    @Flag(name: .long, help: "Print the resulting IR to stdout.")
    var emitIR = false

    @Flag(name: .long, help: "Skip the scan of every weight for NaN/Inf (the scan reads the whole checkpoint).")
    var noWeightCheck = false

    func validate() throws {
        if !emitIR && out == nil {
            throw ValidationError("nothing to write: pass -o OUT.skrr, -o OUT.ir and/or --emit-ir")
        }
        if let out, !out.hasSuffix(".ir") && !out.hasSuffix(".skrr") {
            throw ValidationError("-o must name a runtime file (.skrr) or an IR file (.ir), got '\(out)'")
        }
        if let weightDtype {
            guard WeightType(rawValue: weightDtype) != nil else {
                throw ValidationError("--weight-dtype must be f32, f16 or bf16, got '\(weightDtype)'")
            }
            guard out?.hasSuffix(".skrr") == true else { throw ValidationError("--weight-dtype applies to runtime files: pass -o OUT.skrr") }
        }
        if !PipelinePreset.names.contains(pipeline) {
            throw ValidationError("unknown --pipeline '\(pipeline)' (known: \(PipelinePreset.names.joined(separator: ", ")))")
        }
        if !["none", "prune"].contains(level) { throw ValidationError("-O must be none or prune, got '\(level)'") }
        if !(0...1).contains(sparsity) { throw ValidationError("--sparsity must be in 0...1, got \(sparsity)") }
        if beam < 1 { throw ValidationError("--beam must be at least 1") }
        if calibSize < 1 { throw ValidationError("--calib-size must be at least 1") }
        if !PassRegistry.methods.contains(method) {
            throw ValidationError("unknown --method '\(method)' (known: \(PassRegistry.methods.joined(separator: ", ")))")
        }
        _ = try pipelineInvocations()
    }

    /// The pass pipeline this invocation runs, validated before any work starts.
    func pipelineInvocations() throws -> [PassInvocation] {
        do {
            let invocations: [PassInvocation]
            if let passes {
                invocations = try PipelineParser.parse(passes)
            } else {
                invocations = level == "prune" ? try PassRegistry.prunePipeline(method: method, sparsity: sparsity, beam: beam) : []
            }
            try PassRegistry.validate(invocations)
            return invocations
        } catch let error as SkrrError {
            throw ValidationError(error.description)
        }
    }

    /// What the pipeline takes from the encoder (DESIGN.md §3), stored in the runtime file so
    /// `skrrc run FILE.skrr` gives it without --output: SDXL and SD3 read a CLIP encoder's
    /// penultimate hidden states, FLUX reads CLIP's pooled output; everything else the last
    /// hidden states.
    static func defaultOutput(pipeline: String, clipEncoder: Bool) -> OutputSelection {
        guard clipEncoder else { return .hidden }
        switch pipeline {
        case "sdxl", "sd3": return .layer(-2)
        case "flux": return .pooled
        default: return .hidden
        }
    }

    func run() throws {
        try reportingErrors {
            let started = ProgressBar.now()
            let imported = try ModelImporter.importModel(at: model, encoder: encoder)
            if !noWeightCheck { try WeightScan.check(imported) }
            let invocations = try pipelineInvocations()
            let needsScorer = invocations.contains { [SkipSearch.name, ReuseRewrite.name, ShortGPTPrune.name, LayerCollapse.name].contains($0.name) }
            let calibration = needsScorer || eval != nil ? try CalibrationSetup(imported: imported, command: self) : nil
            let context = PassContext(scorer: needsScorer ? try calibration!.scorer(forMethod: method) : nil)
            var result = imported.ir
            for invocation in invocations {
                let bar = StandardStreams.errorIsTerminal || invocation.name == SkipSearch.name
                    ? ProgressBar(invocation.name, total: 1) : nil
                context.progress = { done, total in bar?.update(done / max(total, 1)) }
                result = try PassRegistry.make(invocation).run(result, context: context)
                bar?.update(1)
                bar?.finish()
                if verifyEach { try IRVerifier.verify(result, source: "after \(invocation.name)") }
                if printIRAfter == "all" || printIRAfter == invocation.name {
                    StandardStreams.err("// IR after \(invocation.description)\n" + IRPrinter.print(result))
                }
            }
            try IRVerifier.verify(result, source: "result")
            let text = IRPrinter.print(result)
            if let out, out.hasSuffix(".skrr") {
                let program = try Lowering.lower(result)
                let options = RuntimeFileWriter.Options(
                    weightDType: weightDtype.flatMap(WeightType.init(rawValue:)),
                    preset: try PipelinePreset.named(pipeline, clipEncoder: result.config.causal),
                    defaultOutput: Compile.defaultOutput(pipeline: pipeline, clipEncoder: result.config.causal),
                    sourceModel: result.name, passes: invocations.map(\.description).joined(separator: ","),
                    paramsTotal: result.sourceParameters)
                let summary = try RuntimeFileWriter.write(program, weights: try SourceWeights(model: result), options: options, to: out)
                StandardStreams.err("wrote \(out): \(summary.fileSize) bytes (\(summary.tensorCount) tensors, \(summary.tensorBytes) weight bytes, \(summary.tokenizerBytes) tokenizer bytes)\n")
            } else if let out {
                try AtomicFile.write(out, bytes: Array(text.utf8))
            }
            if emitIR { StandardStreams.out(text) }
            let evalD = try calibration?.evalDiscrepancy(of: result)
            for (pass, summary) in context.statistics { StandardStreams.err("\(pass): \(summary)\n") }
            if level == "prune" || passes != nil {
                let summary = PruneSummary.text(source: imported.ir, result: result, method: passes == nil ? method : "custom pipeline",
                                                context: context, evalDiscrepancy: evalD,
                                                calibrationCount: calibration?.prompts.count, seconds: ProgressBar.now() - started)
                // Results go to stdout, unless stdout already carries the IR.
                if emitIR { StandardStreams.err(summary) } else { StandardStreams.out(summary) }
            }
            if let plot {
                let svg = PlotSVG.render(source: imported.ir, result: result, method: level == "prune" ? method : "none", context: context)
                try AtomicFile.write(plot, bytes: Array(svg.utf8))
            }
            if let report {
                let json = PruneReport.make(source: imported.ir, result: result, method: level == "prune" ? method : "none",
                                            pipeline: pipeline, sparsityTarget: level == "prune" ? sparsity : nil,
                                            context: context, evalDiscrepancy: evalD,
                                            seconds: ProgressBar.now() - started)
                try AtomicFile.write(report, bytes: Array((json.serialized() + "\n").utf8))
            }
        }
    }
}
