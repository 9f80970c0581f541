import SkrrDistributed
import SkrrEvaluation
import SkrrFrontend
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// `skrrc PIPELINE_FOLDER -O prune --sparsity F` without `--encoder` (issue 16): every text
/// encoder of an SD3 or FLUX pipeline pruned under one budget, F of the encoders' parameters
/// together. One beam search (the same `SkipSearch`) runs over the union of their sub-blocks,
/// scored by D on the joint conditioning the denoiser reads (`JointScheduleScorer`), after the
/// denoiser's own projections when the pipeline has its `transformer/` (or `--projection` names
/// one). Re-use then runs per encoder, still judged by the joint D, and dead weights are dropped
/// per encoder.
///
/// `-o FILE.skrr` writes every encoder into one pipeline runtime file (`PipelineFileOutput`);
/// `-o FOLDER` writes each encoder's IR there. Without `-O prune` (`convert`), the encoders are
/// written into one pipeline file as they are.
///
/// `--screen N` screens each step's candidates on N of the prompts (`JointSubsetScorers`).
/// `--checkpoint FILE` saves the search after every step and each encoder's re-use after every
/// decision, and resumes. Not yet: MPI ranks for the joint search.
public enum JointPruneJob {
    public struct Outcome {
        public let sources: [ModelIR]
        public let results: [ModelIR]
        public let names: [String]
        public let discrepancy: Double?
        public let work: ScorerStatistics
        public let context: PassContext
        /// `--compare-separate`: the per-encoder baseline.
        public let separate: Separate?
    }

    /// The joint mode's own checks (CompileOptions.validate hands over to it).
    static func validate(_ options: CompileOptions) throws {
        if options.level == .none {
            try validateConversion(options)
            return
        }
        if options.out == nil && options.report == nil {
            throw UsageError("a joint prune writes -o FILE.skrr (one runtime file holding every encoder), -o FOLDER (each encoder's IR) and/or the --report; pass at least one")
        }
        if let out = options.out, out.hasSuffix(".ir") {
            throw UsageError("-o \(out): a joint prune writes every encoder into one runtime file (-o FILE.skrr) or one IR file per encoder into a folder (-o FOLDER); or pass --encoder NAME to prune one encoder")
        }
        if options.weightDType != nil && options.out?.hasSuffix(".skrr") != true {
            throw UsageError("--weight-dtype applies to runtime files: pass -o OUT.skrr")
        }
        for (given, option) in [(options.emitIR, "--emit-ir"), (options.passes != nil, "--passes"),
                                (options.plot != nil, "--plot"), ((options.reuseFolds ?? 1) > 1, "--reuse-folds")] where given {
            throw UsageError("\(option) is not available for a joint prune of several encoders yet; name one with --encoder")
        }
        guard options.method == .skrr || options.method == .skipOnly else {
            throw UsageError("--method \(options.method.rawValue) prunes one encoder; a joint prune runs skrr or skip-only")
        }
    }

    /// `skrrc PIPELINE -o FILE.skrr` without `-O prune` or `--encoder`: only a runtime file, no
    /// search options.
    static func validateConversion(_ options: CompileOptions) throws {
        guard let out = options.out, out.hasSuffix(".skrr") else {
            throw UsageError("a pipeline folder with several encoders converts into one runtime file: pass -o FILE.skrr (or --encoder NAME for one encoder)")
        }
        if let option = options.searchOptionsGiven.first {
            throw UsageError("\(option) applies to -O prune, and this run does not prune (add -O prune)")
        }
        for (given, option) in [(options.emitIR, "--emit-ir"), (options.report != nil, "--report"), (options.plot != nil, "--plot"),
                                (options.checkpoint != nil, "--checkpoint"), (options.calibration.heldOut != nil, "--eval"),
                                (options.calibration.projection != nil, "--projection"), (options.compareSeparate, "--compare-separate"),
                                (options.ranking != nil, "--rank"), (options.printIRAfter != nil, "--print-ir-after")] where given {
            throw UsageError("\(option) applies to -O prune; converting a pipeline only writes -o FILE.skrr")
        }
    }

    /// Converts every encoder of the pipeline, unpruned, into one runtime file.
    public static func convert(_ options: CompileOptions, folder: PipelineFolder) throws {
        let encoders = try Encoders(folder, options: options)
        let out = options.out!
        try OutputPaths.check(outputs: [("-o", out)], inputs: encoders.inputs)
        for imported in encoders.imported where options.weightCheck { try WeightScan.check(imported) }
        try PipelineFileOutput.write(kind: encoders.kind, names: encoders.names, encoders: encoders.imported.map(\.ir), folder: folder,
                                     passes: "", weightDType: options.weightDType, to: out)
    }

    /// Everything a joint search measures with: each encoder's source IR and calibration, and
    /// the joint scorer over them (the dense reference runs here).
    public struct Prepared {
        public let kind: PipelineKind
        public let names: [String]
        public let sources: [ModelIR]
        public let calibrations: [Calibration]
        public let scorer: JointScheduleScorer
        /// The same D on the `--eval` prompts (never calibrated on), if given.
        public let heldOut: JointScheduleScorer?
        /// The same D on subsets of the calibration prompts (`--screen`).
        let subsets: JointSubsetScorers
        /// What the D is measured after (the denoiser's projections, if any).
        let joint: JointDiscrepancy
    }

    /// The pipeline's encoders imported (metadata only) in diffusers' order, with the kind and
    /// their roles checked: cheap, so outputs can be checked against these inputs before any
    /// dense reference runs.
    public struct Encoders {
        public let folder: PipelineFolder
        public let kind: PipelineKind
        public let imported: [ImportedModel]
        public let names: [String]
        public let t5: String

        public init(_ folder: PipelineFolder, options: CompileOptions) throws {
            kind = try PipelineSession.kind(of: folder, asked: options.calibration.pipeline == .generic ? nil : options.calibration.pipeline)
            let all = try folder.encoders.map { ($0, try ModelImporter.importModel(at: folder.path, encoder: $0)) }
            let roles = try PipelineSession.roles(
                all.map { PipelineRoles.Encoder(name: $0.0, clip: $0.1.ir.config.causal, projected: $0.1.ir.heads.contains { $0.kind == .projection }) },
                kind: kind, folder: folder)
            let used = Set(roles.clip + [roles.t5])
            self.folder = folder
            names = folder.encoders.filter(used.contains)
            imported = all.filter { used.contains($0.0) }.map(\.1)
            t5 = roles.t5
        }

        /// Every file the joint prune reads.
        public var inputs: [String] { imported.flatMap(\.inputFiles) + [FileSystem.join(folder.path, "model_index.json")] }
    }

    public static func prepare(_ options: CompileOptions, folder: PipelineFolder) throws -> Prepared {
        try prepare(options, encoders: try Encoders(folder, options: options))
    }

    public static func prepare(_ options: CompileOptions, encoders: Encoders) throws -> Prepared {
        let (folder, order) = (encoders.folder, encoders.names)
        var sources: [ModelIR] = [], members: [JointScheduleScorer.Member] = []
        var calibrations: [Calibration] = []
        for (name, imported) in zip(order, encoders.imported) {
            if options.weightCheck { try WeightScan.check(imported) }
            var calibrationOptions = options.calibration
            calibrationOptions.pipeline = encoders.kind
            calibrationOptions.projection = nil  // the denoiser's projections apply to the joint conditioning
            let calibration = try Calibration(model: imported.ir, options: calibrationOptions)
            sources.append(imported.ir)
            calibrations.append(calibration)
            members.append(.init(name: name, scorer: try calibration.scorer(.skrr), clip: imported.ir.config.causal))
        }
        let promptWidth = sources[order.firstIndex(of: encoders.t5)!].config.hiddenSize
        let joint = try jointDiscrepancy(options, folder: folder, sources: sources, members: members, kind: encoders.kind,
                                         promptWidth: promptWidth)
        let scorer = try JointScheduleScorer(kind: encoders.kind, members: members, prompts: calibrations[0].prompts.count, joint: joint)
        var heldOut: JointScheduleScorer?
        if let count = calibrations[0].heldOutPrompts?.count {
            let heldOutMembers = try zip(members, calibrations).map { member, calibration in
                JointScheduleScorer.Member(name: member.name, scorer: try calibration.scorer(.skrr, prompts: calibration.heldOutPrompts!),
                                           clip: member.clip)
            }
            heldOut = try JointScheduleScorer(kind: encoders.kind, members: heldOutMembers, prompts: count, joint: joint)
        }
        return Prepared(kind: encoders.kind, names: order, sources: sources, calibrations: calibrations, scorer: scorer, heldOut: heldOut,
                        subsets: JointSubsetScorers(kind: encoders.kind, members: members, calibrations: calibrations, joint: joint),
                        joint: joint)
    }

    @discardableResult
    public static func run(_ options: CompileOptions, folder: PipelineFolder) throws -> Outcome {
        // Every rank would run the whole search and write the same files.
        if let variable = MPIWorld.launcherVariable {
            throw SkrrError(key: "mpirun", "a joint prune of several encoders runs in one process for now (\(variable) is set); run it without mpirun, or prune one encoder with --encoder across ranks")
        }
        let started = ProgressBar.now()
        // No output may replace an input: checked on the imports (metadata only), before the
        // dense reference runs.
        let encoders = try Encoders(folder, options: options)
        let outputs = (options.out.map { out in
            out.hasSuffix(".skrr") ? [("-o", out)] : encoders.names.map { ("-o", FileSystem.join(out, $0 + ".ir")) }
        } ?? []) + (options.report.map { [("--report", $0)] } ?? []) + (options.checkpoint.map { [("--checkpoint", $0)] } ?? [])
        try OutputPaths.check(outputs: outputs, inputs: encoders.inputs)
        let prepared = try prepare(options, encoders: encoders)
        let (order, sources, calibrations, scorer) = (prepared.names, prepared.sources, prepared.calibrations, prepared.scorer)
        let members = scorer.members
        // One search over every encoder's sub-blocks, the budget a fraction of all their parameters.
        let space = Self.space(sources, scorer: scorer, sparsity: options.sparsity)
        let context = PassContext()
        context.analyses.register(.scheduleScorer, scorer)
        context.analyses.register(.screeningScorers, prepared.subsets)
        // `--checkpoint`: the search saves after every step and each encoder's re-use after every
        // decision, under its own name; a rerun with the same arguments resumes.
        var journal: CheckpointFile?
        if let path = options.checkpoint {
            let file = try CheckpointFile(path: path, fingerprint: Fingerprint.jointFields(
                models: sources, calibrations: calibrations, joint: prepared.joint, passes: passes(options, space: space)))
            file.currentWork = { scorer.statistics }
            context.analyses.register(.journal, file)
            journal = file
        }
        let bar = ProgressBar(SkipSearch.name, total: 1)
        context.observe(progress: { done, total in bar.update(done / max(total, 1)) },
                        note: { bar.log("\(SkipSearch.name): \($0)") })
        let searched = try search(options, space: space).search(space, context: context)
        bar.update(1)
        bar.finish()
        context.observe(progress: nil, note: nil)

        var joined = searched
        var results: [ModelIR] = []
        for m in sources.indices {
            var model = sources[m]
            model.schedule = scorer.local(joined, member: m)
            if options.method == .skrr {
                let memberContext = PassContext()
                memberContext.analyses.register(.scheduleScorer, scorer.view(member: m, within: joined))
                if let journal { memberContext.analyses.register(.journal, PrefixedJournal(journal, prefix: order[m] + "/")) }
                model = try ReuseRewrite().run(model, context: memberContext)
                for record in memberContext.records { context.record(record) }
                joined = Array(joined.prefix(scorer.offsets[m])) + scorer.joint(model.schedule, member: m)
                    + Array(joined.dropFirst(scorer.offsets[m] + model.schedule.count))
            }
            model = try DeadWeightElim().run(model, context: PassContext())
            try IRVerifier.verify(model, source: "result (\(order[m]))")
            results.append(model)
        }
        let discrepancy = try scorer.score([joined], base: joined)[0]
        // Parameters removed after each step of the search's path, beside its D.
        let removalOrder = context.removalOrder.order
        let pathRemoved = removalOrder.indices.map { space.removed(skipping: Set(removalOrder[...$0])) }
        let separate = options.compareSeparate
            ? try separately(sources, members: members, scorer: scorer, options: options, names: order) : nil
        // Held-out D (`--eval`) of the joint result and of the separate one.
        func heldOutD(_ schedule: [Slot]) throws -> Double? {
            guard let heldOut = prepared.heldOut else { return nil }
            return try heldOut.score([schedule], base: heldOut.denseSchedule)[0]
        }
        let evalDiscrepancy = try heldOutD(joined)
        let separateEval = try separate.map { separate in
            try heldOutD(separate.results.indices.flatMap { scorer.joint(separate.results[$0].schedule, member: $0) })
        } ?? nil

        if let out = options.out, out.hasSuffix(".skrr") {
            try PipelineFileOutput.write(kind: prepared.kind, names: order, encoders: results, folder: folder,
                                         passes: passes(options, space: space),
                                         weightDType: options.weightDType, to: out)
        } else if let out = options.out {
            for (name, result) in zip(order, results) {
                let path = FileSystem.join(out, name + ".ir")
                try FileSystem.createDirectory(out)
                try AtomicFile.write(path, bytes: Array(IRPrinter.print(IRFiles.relocatingRoot(result, writtenTo: path)).utf8))
            }
        }
        let seconds = ProgressBar.now() - started
        let total = sources.reduce(0) { $0 + $1.sourceParameters }, kept = results.reduce(0) { $0 + $1.keptParameters }
        StandardStreams.out("joint prune of \(prepared.kind.rawValue) (\(order.joined(separator: " + "))): "
                            + "\(Formatting.percent(Double(total - kept) / Double(max(total, 1)))) of \(total) parameters removed, D \(discrepancy)"
                            + (evalDiscrepancy.map { ", held-out D \($0)" } ?? "") + "\n")
        for (name, (source, result)) in zip(order, zip(sources, results)) {
            StandardStreams.out("  \(name): \(Formatting.percent(result.sparsity)) of \(source.sourceParameters) removed, skipped \(result.skippedSlots), re-used \(result.reusedSlots.map { "\($0.slot)←\($0.source)" })\n")
        }
        if let separate {
            let keptSeparately = separate.results.reduce(0) { $0 + $1.keptParameters }
            let removedSeparately = total - keptSeparately
            StandardStreams.out("each encoder pruned alone by its own D to the same fraction: "
                                + "\(Formatting.percent(Double(removedSeparately) / Double(max(total, 1)))) removed, joint D \(separate.discrepancy)"
                                + (separateEval.map { ", held-out D \($0)" } ?? "") + "\n")
            let ds = context.removalOrder.discrepancies
            if let step = pathRemoved.firstIndex(where: { $0 >= removedSeparately }) {
                StandardStreams.out("the joint search's path at step \(step + 1): \(Formatting.percent(Double(pathRemoved[step]) / Double(max(total, 1)))) removed, joint D \(ds[step])\n")
            }
        }
        if let report = options.report {
            let json = JointReport.make(pipeline: prepared.kind.rawValue, names: order, sources: sources, results: results,
                                        sparsityTarget: options.sparsity, method: options.method.rawValue, context: context,
                                        discrepancy: discrepancy, work: journal.map { $0.total(scorer.statistics) } ?? scorer.statistics,
                                        calibration: calibrations[0],
                                        separate: separate, pathRemoved: pathRemoved, evalDiscrepancy: evalDiscrepancy,
                                        separateEval: separateEval, seconds: seconds)
            try AtomicFile.write(report, bytes: Array((json.serialized() + "\n").utf8))
        }
        return Outcome(sources: sources, results: results, names: order, discrepancy: discrepancy, work: scorer.statistics,
                       context: context, separate: separate)
    }

    /// What runs, as a pass pipeline: the search's ranking beside its options.
    static func passes(_ options: CompileOptions, space: SearchSpace) -> String {
        var steps = options.method.pipeline(sparsity: options.sparsity, beam: options.beam, screen: screen(options, space: space),
                                            reuseFolds: 1).map(\.description)
        if let search = steps.first, search.hasSuffix("}") {
            steps[0] = search.dropLast() + " rank=\((options.ranking ?? .perParameter).rawValue)}"
        }
        return "joint " + steps.joined(separator: ",")
    }

    /// The joint skip search: `--screen`, or the default for the encoders' parameters together.
    static func search(_ options: CompileOptions, space: SearchSpace) -> SkipSearch {
        SkipSearch(sparsity: options.sparsity, beam: options.beam, screen: screen(options, space: space),
                   ranking: options.ranking ?? .perParameter)
    }

    static func screen(_ options: CompileOptions, space: SearchSpace) -> Int {
        options.screen ?? CompileOptions.defaultScreen(parameters: space.sourceParameters)
    }

    /// What pruning each encoder on its own gives, the way one would without a joint search:
    /// each to the same fraction, by the skip search and re-use on its own D (its own outputs,
    /// null prompt included, no denoiser projection); then measured by the joint D.
    static func separately(_ sources: [ModelIR], members: [JointScheduleScorer.Member], scorer: JointScheduleScorer,
                           options: CompileOptions, names: [String]) throws -> Separate {
        var joined: [Slot] = []
        var results: [ModelIR] = []
        for m in sources.indices {
            StandardStreams.err("separate prune of \(names[m]) to \(Formatting.percent(options.sparsity))\n")
            let context = PassContext()
            context.analyses.register(.scheduleScorer, members[m].scorer as any ScheduleScorer)
            var model = sources[m]
            // An encoder whose prunable sub-blocks hold less than the fraction (a CLIP tower's
            // token table is a large share of it) is pruned as far as it goes.
            var space = SearchSpace(model: model, sparsity: options.sparsity)
            var sparsity = options.sparsity
            if space.reachable < space.target {
                sparsity = Double(space.reachable) / Double(max(model.sourceParameters, 1))
                space = SearchSpace(model: model, sparsity: sparsity)
                StandardStreams.err("  \(names[m]) can lose at most \(Formatting.percent(sparsity)) (embeddings, norms and heads stay): pruned that far\n")
            }
            model.schedule = try SkipSearch(sparsity: sparsity, beam: options.beam).search(space, context: context)
            if options.method == .skrr { model = try ReuseRewrite().run(model, context: context) }
            model = try DeadWeightElim().run(model, context: PassContext())
            joined += scorer.joint(model.schedule, member: m)
            results.append(model)
        }
        return Separate(results: results, discrepancy: try scorer.score([joined], base: joined)[0])
    }

    public struct Separate {
        public let results: [ModelIR]
        public let discrepancy: Double
    }

    /// The search space over every encoder: joint slot numbering as `JointScheduleScorer`'s.
    static func space(_ sources: [ModelIR], scorer: JointScheduleScorer, sparsity: Double) -> SearchSpace {
        func member(of slot: Int) -> Int { scorer.offsets.lastIndex { $0 <= slot }! }
        let candidates = sources.indices.flatMap { m in sources[m].schedule.indices.filter(sources[m].isDroppable).map { $0 + scorer.offsets[m] } }
        return SearchSpace(
            base: scorer.denseSchedule, sourceParameters: sources.reduce(0) { $0 + $1.sourceParameters }, sparsity: sparsity,
            candidates: candidates,
            removed: { schedule in
                sources.indices.reduce(0) { total, m in
                    var copy = sources[m]
                    copy.schedule = scorer.local(schedule, member: m)
                    return total + sources[m].sourceParameters - copy.keptParameters
                }
            },
            subBlockSize: { slot in sources[member(of: slot)].parameterCount(ofSubBlock: slot - scorer.offsets[member(of: slot)]) },
            suffixLength: { slot, schedule in
                let m = member(of: slot), end = scorer.offsets[m] + sources[m].schedule.count
                return (slot..<end).filter { schedule[$0] != .skip }.count
            })
    }

    /// The denoiser's projections: `--projection`, else the pipeline's own `transformer/`, else none.
    static func jointDiscrepancy(_ options: CompileOptions, folder: PipelineFolder, sources: [ModelIR],
                                 members: [JointScheduleScorer.Member], kind: PipelineKind, promptWidth: Int) throws -> JointDiscrepancy {
        let own = FileSystem.join(folder.path, "transformer")
        guard let denoiser = options.calibration.projection ?? (FileSystem.isDirectory(own) ? own : nil) else {
            return JointDiscrepancy(context: nil, pooled: nil)
        }
        let pooledWidth = zip(sources, members).filter { $0.1.clip }.reduce(0) { total, pair in
            total + (kind == .sd3 ? (pair.0.config.projectionDim ?? pair.0.config.hiddenSize) : pair.0.config.hiddenSize)
        }
        let (context, pooled) = try ProjectionLoading.loadJoint(denoiser, promptWidth: promptWidth, pooledWidth: pooledWidth)
        return JointDiscrepancy(context: context, pooled: pooled)
    }
}
