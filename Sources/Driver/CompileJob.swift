import SkrrBackend
import SkrrFrontend
import SkrrIR
import SkrrLowering
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// `skrrc MODEL ...`: import a model, run a pass pipeline, write what was asked for. Progress and
/// pass logs go to stderr; the IR (`--emit-ir`) or the pruning summary to stdout; everything else
/// to files, each written atomically.
public enum CompileJob {
    /// What a compile produced, for callers that go on with it (tests, benchmarks).
    public struct Outcome {
        public let source: ModelIR
        public let result: ModelIR
        public let context: PassContext
        public let heldOutDiscrepancy: Double?
        /// Work the scorer did (nil when no pass measured D).
        public let work: ScorerStatistics?
    }

    @discardableResult
    public static func run(_ options: CompileOptions) throws -> Outcome {
        if options.jointFolder != nil {
            throw SkrrError(file: options.model, "several text encoders without --encoder: a joint prune (JointPruneJob.run), not one encoder's compile")
        }
        // MPI hook (Distribution.swift): under mpirun this process is one rank of a job; only
        // rank 0 writes, and an error on any rank ends every rank.
        if let distribution = try Distribution.join() {
            return distribution.running { try compile(distribution.localOptions(options), distribution) }
        }
        return try compile(options, nil)
    }

    static func compile(_ options: CompileOptions, _ distribution: Distribution?) throws -> Outcome {
        let started = ProgressBar.now()
        let imported = try CompileInput.load(options)
        try OutputPaths.check(outputs: options.outputs, inputs: imported.inputFiles + options.otherInputs)
        try TokenizerCheck.check(imported.ir, writesRuntimeFile: options.out?.hasSuffix(".skrr") == true,
                                 allowMissing: options.noTokenizer)
        if options.weightCheck { try imported.scanWeights() }
        var manager = try options.passManager(parameters: imported.ir.sourceParameters)
        manager.instrumentations.append(ProgressBars())
        if options.verifyEach { manager.instrumentations.append(VerifyEachPass()) }
        if let filter = options.printIRAfter { manager.instrumentations.append(PrintIRAfter(filter, sink: StandardStreams.err)) }

        let measures = !manager.requiredAnalyses.isEmpty
        let calibration = measures || options.calibration.heldOut != nil
            ? try Calibration(model: imported.ir, options: options.calibration) : nil
        let context = PassContext()
        // MPI hook (Distribution.swift): the ranks split the search's candidates.
        let scorer = measures ? calibration?.provideAnalyses(to: context, objective: options.method.objective, sharedBy: distribution) : nil
        var journal: CheckpointFile?
        if let path = options.checkpoint, let calibration {
            let file = try CheckpointFile(path: path, fingerprint: Fingerprint.fields(
                model: imported.ir, calibration: calibration, pipeline: manager.pipeline, objective: options.method.objective))
            file.currentWork = { scorer?.statistics }
            // MPI hook: every rank reads the checkpoint before rank 0, the only writer, saves again.
            try distribution?.shareCheckpoint(file)
            context.analyses.register(.journal, file)
            journal = file
        }
        let result = try manager.run(imported.ir, context: context)
        try IRVerifier.verify(result, source: "result")

        let text = IRPrinter.print(result)
        if let out = options.out, out.hasSuffix(".skrr") {
            try writeRuntimeFile(result, pipeline: manager.pipeline, options: options, to: out)
        } else if let out = options.out {
            try AtomicFile.write(out, bytes: Array(IRPrinter.print(IRFiles.relocatingRoot(result, writtenTo: out)).utf8))
        }
        if options.emitIR { StandardStreams.out(text) }

        let heldOut = try calibration?.heldOutDiscrepancy(of: result)
        for record in context.records { StandardStreams.err("\(record.pass): \(record.summary)\n") }
        // MPI hook (Distribution.swift): the work of all ranks, as one process counts it (collective).
        let thisRun = try distribution?.gatheredWork() ?? scorer?.statistics
        let work = journal.map { $0.total(thisRun) } ?? thisRun
        if options.prunes {
            let summary = PruneSummary.text(
                source: imported.ir, result: result, method: options.passes == nil ? options.method.rawValue : "custom pipeline",
                context: context, evalDiscrepancy: heldOut, calibrationCount: calibration?.prompts.count, work: work,
                seconds: ProgressBar.now() - started)
            // Results go to stdout, unless stdout already carries the IR.
            if options.emitIR { StandardStreams.err(summary) } else { StandardStreams.out(summary) }
        }
        let method = options.level == .prune ? options.method.rawValue : "none"
        if let plot = options.plot {
            let svg = PlotSVG.render(source: imported.ir, result: result, method: method, context: context)
            try AtomicFile.write(plot, bytes: Array(svg.utf8))
        }
        if let report = options.report {
            let json = PruneReport.make(
                source: imported.ir, result: result, method: method, pipeline: options.calibration.pipeline.rawValue,
                sparsityTarget: options.level == .prune ? options.sparsity : nil, context: context,
                evalDiscrepancy: heldOut, work: work, searchCompute: options.calibration.searchCompute.rawValue,
                calibration: calibration, seconds: ProgressBar.now() - started)
            try AtomicFile.write(report, bytes: Array((json.serialized() + "\n").utf8))
        }
        return Outcome(source: imported.ir, result: result, context: context, heldOutDiscrepancy: heldOut, work: work)
    }

    /// Lowers the result and writes it as a runtime file with the pipeline's preset and the
    /// output the pipeline reads from this encoder.
    static func writeRuntimeFile(_ result: ModelIR, pipeline: [PassInvocation], options: CompileOptions, to path: String) throws {
        let kind = options.calibration.pipeline
        let clip = result.config.causal
        let program = try Lowering.lower(result)
        let writerOptions = RuntimeFileWriter.Options(
            weightDType: options.weightDType, preset: try PipelinePreset.preset(for: kind, clipEncoder: clip),
            defaultOutput: PipelineReads.of(kind, clip: clip).defaultOutput,
            sourceModel: result.name, passes: pipeline.map(\.description).joined(separator: ","),
            paramsTotal: result.sourceParameters)
        let summary = try RuntimeFileWriter.write(program, weights: try SourceWeights(model: result), options: writerOptions, to: path)
        StandardStreams.err("wrote \(path): \(summary.fileSize) bytes (\(summary.tensorCount) tensors, \(summary.tensorBytes) weight bytes, \(summary.tokenizerBytes) tokenizer bytes)\n")
    }
}
