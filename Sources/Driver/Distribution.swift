import Glibc
import SkrrDistributed
import SkrrEvaluation
import SkrrIR
import SkrrLowering
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// A compile run by mpirun (README, "Cluster run"): every rank runs the same compile, the
/// schedule search's candidates are split between the ranks (`RankShardedScorer`), rank 0 alone
/// writes files and talks, and an error on any rank ends the whole job. Results do not depend on
/// the rank count: every rank makes the same choices on the same D values, and a candidate's D is
/// the same bits whichever rank scores it. `CompileJob` calls in at three commented hook points.
final class Distribution {
    let world: MPIWorld
    /// This rank's stderr as it started. Ranks other than 0 point stdout and stderr at /dev/null
    /// (progress, pass logs, the summary are rank 0's to print), but their errors must be seen.
    let errorOutput: Int32
    /// The sharded scorer, once a pass asked for one.
    fileprivate(set) var scorer: RankShardedScorer<DiscrepancyScorer>?

    /// How long ranks other than 0 wait before ending the job for their own error.
    static let graceSeconds: UInt32 = 2

    /// The job this process is a rank of, or nil when no MPI launcher started it (plain skrrc,
    /// which then never loads MPI). Throws when mpirun started it but Open MPI cannot be loaded.
    static func join() throws -> Distribution? {
        try MPIWorld.current.map(Distribution.init)
    }

    private init(world: MPIWorld) {
        self.world = world
        errorOutput = dup(STDERR_FILENO)
        if world.rank != 0 {
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            if null >= 0 {
                dup2(null, STDOUT_FILENO)
                dup2(null, STDERR_FILENO)
                close(null)
            }
        } else if world.size > 1 {
            StandardStreams.err("mpi: \(world.size) ranks (\(world.libraryVersion)); each search step's candidates are split between them\n")
        }
    }

    /// Runs this rank's part of the compile. On success every rank waits for the others (rank 0
    /// may still be writing files, and an error there must still end every rank), then leaves MPI.
    /// On an error, this rank's message goes to its stderr and MPI_Abort ends the job: the other
    /// ranks, waiting in a collective for this one, would otherwise wait forever.
    func running<T>(_ body: () throws -> T) -> T {
        do {
            let result = try body()
            try world.barrier()
            try world.finalize()
            return result
        } catch {
            guard world.rank != 0 else { world.abort("error: \(error)\n", to: errorOutput) }
            // Most errors (bad input, an unreachable target) reach every rank at once. The other
            // ranks give rank 0 a moment to end the job with the one message; if they are still
            // alive after it, the error is theirs alone. (Simultaneous aborts also make Open MPI
            // 4.1 log an unpack error of its own.)
            sleep(Self.graceSeconds)
            world.abort("error: rank \(world.rank) of \(world.size): \(error)\n", to: errorOutput)
        }
    }

    /// What this rank writes: rank 0 everything that was asked for, the others nothing (nor the
    /// held-out score, which only the report and the summary show).
    func localOptions(_ options: CompileOptions) -> CompileOptions {
        guard world.rank != 0 else { return options }
        var quiet = options
        (quiet.out, quiet.report, quiet.plot, quiet.printIRAfter, quiet.calibration.heldOut) = (nil, nil, nil, nil, nil)
        quiet.emitIR = false
        return quiet
    }


    /// The scorer's work for the report and summary (collective, at one point of every rank's
    /// compile): the work one process would have done, the same for any rank count unless bounded
    /// scoring drops candidates (each rank against its own share's best). Rank 0 also
    /// says what the split repeated.
    func gatheredWork() throws -> ScorerStatistics? {
        guard let scorer else { return nil }
        let work = try scorer.gatheredStatistics()
        if world.size > 1 {
            let others = world.size == 2 ? "rank 1" : "ranks 1-\(world.size - 1)"
            StandardStreams.err("mpi: \(work.repeated.subBlockEvaluations) sub-block runs repeated on \(others) (prefix states of each step's bases, unsplit measurements) besides the search's \(work.search.subBlockEvaluations)\n")
        }
        return work.search
    }

    /// What every rank must hold as rank 0 does. The probe runs the dense model on the empty
    /// prompt (one short sequence, single-threaded like the scorer's batches): nodes with other
    /// CPUs, libraries or weight files would compute other bits for every D.
    static func agreementParts(_ calibration: Calibration) throws -> [AgreementPart] {
        let interpreter = try Interpreter(program: try Lowering.lower(calibration.model), weights: calibration.weights)
        interpreter.workerLimit = 1
        var probe = try interpreter.run(TokenBatch(ids: [calibration.nullPrompt])).hidden
        if let projection = calibration.projection {
            probe = try projection.apply(probe, width: calibration.model.config.hiddenSize)
        }
        let ids = (calibration.prompts + [calibration.nullPrompt]).flatMap { [Int32(-1)] + $0 }
        return [
            AgreementPart(name: "the model (its IR)", text: IRPrinter.print(calibration.model),
                          advice: "Every rank must read the same model: keep it on a filesystem all nodes share, at the same path."),
            AgreementPart(name: "the calibration prompts (token ids)", bytes: ids.withUnsafeBytes { Array($0) },
                          advice: "Every rank must read the same prompts: keep --calib files on the shared filesystem."),
            AgreementPart(name: "OpenBLAS's kernels", text: BLAS.coreName,
                          advice: "Set OPENBLAS_CORETYPE to one value on every node (mpirun -x OPENBLAS_CORETYPE=Haswell), or use nodes of one CPU kind."),
            AgreementPart(name: "the dense model's output on the empty prompt", bytes: probe.withUnsafeBytes { Array($0) },
                          advice: "The ranks compute different bits for the same model: use nodes with one OS image and one CPU kind, and the same weight files."),
        ]
    }
}

extension Distribution {
    /// Every rank reads the checkpoint (done when `file` was made) before rank 0, its only
    /// writer, saves again: otherwise a slow rank could restore a later step than the others.
    func shareCheckpoint(_ file: CheckpointFile) throws {
        file.writes = world.rank == 0
        try world.barrier()
    }
}

extension Calibration {
    /// `provideAnalyses`, split over the ranks of `distribution` when there is one, once every
    /// rank has checked that it scores the same model on the same prompts with the same numerics
    /// as rank 0 (collective: every rank builds its scorer when the first measuring pass asks).
    func provideAnalyses(to context: PassContext, objective: ScoringObjective, sharedBy distribution: Distribution?) -> ScorerHandle {
        guard let distribution else { return provideAnalyses(to: context, objective: objective) }
        return provideAnalyses(to: context, objective: objective, sharedOver: distribution.world) { sharded in
            try distribution.world.agree(on: try Distribution.agreementParts(self))
            distribution.scorer = sharded
        }
    }

    /// `provideAnalyses` with the candidates of the schedule scorer, the screening scorers and the
    /// fold scorers split over `world`'s ranks (whole-model measurements and block similarities are
    /// computed alike on every rank). `built` runs, on every rank, when the full scorer is made.
    public func provideAnalyses(to context: PassContext, objective: ScoringObjective, sharedOver world: any Collective,
                                built: @escaping (RankShardedScorer<DiscrepancyScorer>) throws -> Void = { _ in }) -> ScorerHandle {
        let handle = ScorerHandle()
        context.analyses.registerScoring { [self] in
            let sharded = RankShardedScorer(local: try self.scorer(objective), world: world)
            try built(sharded)
            handle.built.append(sharded)
            return sharded
        }
        let subsets = ShardedSubsets(SubsetScorers(calibration: self, objective: objective), world: world)
        context.analyses.register(.screeningScorers, subsets)
        context.analyses.register(.foldScorers, subsets)
        return handle
    }
}

/// Screening and fold scorers whose candidates are split over the ranks like the full scorer's.
final class ShardedSubsets: ScreeningScorers, FoldScorers {
    let local: SubsetScorers
    let world: any Collective
    private var screens: [Int: RankShardedScorer<DiscrepancyScorer>] = [:]
    private var folds: [Int: [RankShardedScorer<DiscrepancyScorer>]] = [:]

    init(_ local: SubsetScorers, world: any Collective) {
        self.local = local
        self.world = world
    }

    var calibrationPromptCount: Int { local.calibrationPromptCount }

    func scorer(prompts: Int) throws -> any ScheduleScorer {
        if let made = screens[prompts] { return made }
        let made = RankShardedScorer(local: try local.discrepancyScorer(prompts: prompts), world: world)
        screens[prompts] = made
        return made
    }

    func scorers(folds count: Int) throws -> [any ScheduleScorer] {
        if let made = folds[count] { return made }
        let made = try local.discrepancyScorers(folds: count).map { RankShardedScorer(local: $0, world: world) }
        folds[count] = made
        return made
    }
}
