import Foundation
@testable import SkrrDriver
import SkrrEvaluation
import SkrrIR
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// The joint prune of a whole pipeline (issue 16) on the complete SD3 fixture: one budget over
/// every encoder, D on the joint conditioning after the fixture's own denoiser projections.
@Suite(.serialized) struct JointPruneTests {
    /// Two calibration prompts keep the searches short.
    func options(_ out: String? = nil, report: String? = nil, fixture: String = "sd3-full") throws -> CompileOptions {
        let prompts = TestPaths.makeTemporaryDirectory() + "/calib.txt"
        try AtomicFile.write(prompts, bytes: Array("a red cube on a glass table\ntwo cats asleep on a green sofa\n".utf8))
        var o = CompileOptions(model: TestPaths.fixture(fixture))
        o.level = .prune
        o.sparsity = 0.3
        o.beam = 1
        o.calibration.source = CalibrationSource(prompts)
        // Held-out D on the calibration prompts themselves must equal the calibration D.
        o.calibration.heldOut = prompts
        o.out = out
        o.report = report
        return o
    }

    func floats(_ array: NamedArray) -> [Float] {
        if case let .float32(values) = array.values { return values }
        return []
    }

    /// The scorer's D (cached prefixes, resumed suffixes, outputs assembled per prompt) equals D
    /// computed the plain way: each encoder's pruned IR run by the runtime on the prompts, the
    /// joint conditioning built by `JointConditioning`, projected and compared.
    @Test(arguments: ["sd3-full", "flux-full"])
    func jointScorerAgreesWithRunningEachPrunedEncoder(_ fixture: String) throws {
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture(fixture)))
        let prepared = try JointPruneJob.prepare(try options(fixture: fixture), folder: folder)
        let scorer = prepared.scorer
        let sd3 = prepared.kind == .sd3
        let dense = scorer.denseSchedule
        #expect(try scorer.score([dense], base: dense) == [0])
        // Skip CLIP-L's last FFN, the next encoder's first attention and (SD3) T5's second block's attention.
        var schedule = dense
        for slot in [3, scorer.offsets[1]] + (sd3 ? [scorer.offsets[2] + 2] : []) { schedule[slot] = .skip }
        let scored = try scorer.score([schedule], base: dense)[0]
        #expect(scored > 0)

        let dir = TestPaths.makeTemporaryDirectory()
        func encode(_ schedule: [Slot], member m: Int, prompts: [String]) throws -> EncoderContribution {
            var model = prepared.sources[m]
            model.schedule = schedule
            let path = dir + "/\(prepared.names[m]).ir"
            try AtomicFile.write(path, bytes: Array(IRPrinter.print(IRFiles.relocatingRoot(model, writtenTo: path)).utf8))
            let session = try EncoderSession(model: path, pipeline: prepared.kind)
            let clip = model.config.causal
            let arrays = try session.encode(try session.batch(prompts: prompts.map { ($0, "prompt") }, maxTokens: 1024),
                                            output: clip ? (sd3 ? .layer(-2) : .pooled) : .hidden)
            let states = arrays.first { $0.name == "prompt_embeds" }, pooled = arrays.first { $0.name == "pooled_prompt_embeds" }
            return EncoderContribution(name: prepared.names[m], batch: prompts.count, length: states?.shape[1] ?? 0, width: states?.shape[2] ?? 0,
                                       states: states.map(floats), pooledWidth: pooled?.shape[1] ?? 0, pooled: pooled.map(floats))
        }
        let t5 = prepared.sources.last!
        let pooledWidth = sd3 ? 80 : 32
        let (context, pooled) = try ProjectionLoading.loadJoint(TestPaths.fixture(fixture), promptWidth: t5.config.hiddenSize, pooledWidth: pooledWidth)
        let joint = JointDiscrepancy(context: try #require(context), pooled: try #require(pooled))
        func features(_ schedules: [[Slot]], prompts: [String]) throws -> JointDiscrepancy.Features {
            let parts = try prepared.sources.indices.map { try encode(schedules[$0], member: $0, prompts: prompts) }
            let clip = prepared.sources.indices.filter { prepared.sources[$0].config.causal }.map { parts[$0] }
            let arrays = sd3 ? try JointConditioning.sd3(clip: clip, t5: parts.last!) : try JointConditioning.flux(clip: clip[0], t5: parts.last!)
            return try joint.features(arrays)
        }
        let prompts = ["a red cube on a glass table", "two cats asleep on a green sofa"]
        let denseLocal = prepared.sources.map(\.schedule)
        let prunedLocal = prepared.sources.indices.map { scorer.local(schedule, member: $0) }
        let expected = try JointDiscrepancy.discrepancy(
            calibration: [try features(prunedLocal, prompts: prompts)], dense: [try features(denseLocal, prompts: prompts)],
            null: (try features(prunedLocal, prompts: [""]), try features(denseLocal, prompts: [""])))
        #expect(abs(scored - expected) <= 1e-5 * expected, "scorer \(scored) vs plain \(expected)")
        // The same candidate resumed from another base gives the same D.
        var other = dense
        other[scorer.offsets[1]] = .skip
        #expect(try scorer.score([schedule], base: other)[0] == scored)
    }

    @Test func jointPruneSpendsOneBudgetAndReportsEveryEncoder() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let report = dir + "/report.json"
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture("sd3-full")))
        let outcome = try JointPruneJob.run(try options(dir + "/out", report: report), folder: folder)
        #expect(outcome.names == ["text_encoder", "text_encoder_2", "text_encoder_3"])
        let total = outcome.sources.reduce(0) { $0 + $1.sourceParameters }
        let kept = outcome.results.reduce(0) { $0 + $1.keptParameters }
        #expect(Double(total - kept) >= 0.3 * Double(total))

        let json = try readJSONFile(report)
        #expect(json["joint"] == .bool(true) && json["pipeline"]?.stringValue == "sd3")
        #expect(json["params_total"]?.intValue == total && json["params_kept"]?.intValue == kept)
        let encoders = try #require(json["encoders"]?.objectMembers)
        #expect(encoders.map(\.key) == outcome.names)
        for (m, entry) in encoders.enumerated() {
            #expect(entry.value["params_total"]?.intValue == outcome.sources[m].sourceParameters)
            #expect(entry.value["params_kept"]?.intValue == outcome.results[m].keptParameters)
            // Each result is a valid IR file that reads back as written.
            let path = dir + "/out/\(entry.key).ir"
            let back = IRFiles.resolvingRoot(try IRFiles.read(path), readFrom: path)
            try IRVerifier.verify(back, source: path)
            #expect(back.schedule == outcome.results[m].schedule)
        }
        #expect(encoders.reduce(0) { $0 + ($1.value["params_kept"]?.intValue ?? 0) } == kept)
        // The report's D is the joint D of the schedules written.
        let prepared = try JointPruneJob.prepare(try options(), folder: folder)
        let schedule = outcome.results.indices.flatMap { prepared.scorer.joint(outcome.results[$0].schedule, member: $0) }
        #expect(json["discrepancy"]?.doubleValue == (try prepared.scorer.score([schedule], base: schedule)[0]))
        let eval = try #require(json["eval_discrepancy"]?.doubleValue), d = try #require(json["discrepancy"]?.doubleValue)
        #expect(eval > 0 && abs(eval - d) <= 1e-12 * d, "held-out \(eval) vs calibration \(d) on the same prompts")
    }

    /// `-o FILE.skrr`: one pipeline file whose members are the pruned encoders; running it gives
    /// bit for bit the joint conditioning of the pruned IRs run by the runtime. The search is
    /// screened on one of the two prompts (`--screen 1`), which the report records, and a rerun
    /// resumes from its `--checkpoint`.
    @Test func jointPruneWritesOnePipelineFile() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let folder = try #require(try PipelineFolder.read(TestPaths.fixture("sd3-full")))
        var o = try options(dir + "/sd3.skrr", report: dir + "/report.json")
        o.screen = 1
        o.checkpoint = dir + "/search.ckpt"
        try o.validate()
        let outcome = try JointPruneJob.run(o, folder: folder)
        let json = try readJSONFile(dir + "/report.json")
        #expect(json["resumed_steps"]?.intValue == 0)
        // The same arguments again resume from the checkpoint and write the same file.
        var again = o
        again.out = dir + "/again.skrr"
        again.report = dir + "/again.json"
        _ = try JointPruneJob.run(again, folder: folder)
        #expect((try readJSONFile(dir + "/again.json"))["resumed_steps"]?.intValue ?? 0 > 0)
        #expect(FileManager.default.contents(atPath: dir + "/again.skrr") == FileManager.default.contents(atPath: dir + "/sd3.skrr"))
        // Other arguments are refused, naming what differs.
        var other = again
        other.sparsity = 0.4
        #expect { try JointPruneJob.run(other, folder: folder) } throws: {
            "\($0)".contains("'pipeline': the checkpoint was written for a different pass pipeline")
        }
        #expect(json["screen"]?["prompts"]?.intValue == 1 && json["screen"]?["rescored"]?.intValue == 4)
        let steps = try #require(json["search_steps"]?.arrayValue)
        #expect(!steps.isEmpty && steps.allSatisfy { ($0["screened_subblock_evals"]?.intValue ?? 0) > 0 })
        let total = outcome.sources.reduce(0) { $0 + $1.sourceParameters }
        #expect(Double(total - outcome.results.reduce(0) { $0 + $1.keptParameters }) >= 0.3 * Double(total))
        let file = try PipelineRuntimeFile(path: dir + "/sd3.skrr")
        #expect(file.kind == .sd3 && file.members.map(\.name) == outcome.names)
        #expect(file.info.paramsKept == outcome.results.reduce(0) { $0 + $1.keptParameters })
        #expect(file.info.paramsTotal == outcome.sources.reduce(0) { $0 + $1.sourceParameters })
        #expect(file.info.passes.hasPrefix("joint skip-search{sparsity=0.3 beam=1 screen=1 rank=per-parameter}"), "\(file.info.passes)")
        var sessions: [(String, EncoderSession)] = []
        for (m, member) in file.members.enumerated() {
            // The stored program leaves out (skips, or fills by re-use) exactly what the search did.
            let slots = member.file.program.slots
            let notOwn = slots.indices.filter { index in
                switch slots[index] {
                case .skip: return true
                case let .attention(_, source), let .ffn(_, source): return source != index
                }
            }
            #expect(notOwn == outcome.results[m].skippedSlots, "\(member.name)")
            let ir = dir + "/\(member.name).ir"
            try AtomicFile.write(ir, bytes: Array(IRPrinter.print(IRFiles.relocatingRoot(outcome.results[m], writtenTo: ir)).utf8))
            sessions.append((member.name, try EncoderSession(model: ir, pipeline: .sd3)))
        }
        let prompts = [("a red cube on a glass table", "p1"), ("", "null")]
        let fromFile = try PipelineSession(file: file).encode(prompts: prompts)
        let fromIR = try PipelineSession(kind: .sd3, sessions: sessions, roles: file.roles).encode(prompts: prompts)
        #expect(fromFile.map(\.shape) == fromIR.map(\.shape))
        for (a, b) in zip(fromFile, fromIR) { #expect(floats(a).map(\.bitPattern) == floats(b).map(\.bitPattern), "\(a.name)") }
        #expect(floats(fromFile[0]).count > 0)
    }

    @Test func optionsTheJointPruneDoesNotHaveAreRefused() throws {
        var o = try options(TestPaths.makeTemporaryDirectory() + "/x.ir")
        #expect { try o.validate() } throws: { "\($0)".contains("one IR file per encoder into a folder (-o FOLDER)") }
        o.out = TestPaths.makeTemporaryDirectory() + "/x.skrr"
        try o.validate()
        o.out = TestPaths.makeTemporaryDirectory() + "/folder"
        o.weightDType = .bf16
        #expect { try o.validate() } throws: { "\($0)".contains("--weight-dtype applies to runtime files: pass -o OUT.skrr") }
        o.weightDType = nil
        o.out = nil
        #expect { try o.validate() } throws: { "\($0)".contains("-o FOLDER (each encoder's IR) and/or the --report") }
        o.report = "r.json"
        o.plot = "p.svg"
        #expect { try o.validate() } throws: { "\($0)".contains("--plot is not available for a joint prune") }
        var single = CompileOptions(model: TestPaths.fixture("t5-v1_1"))
        single.emitIR = true
        single.compareSeparate = true
        #expect { try single.validate() } throws: { "\($0)".contains("--compare-separate applies to a joint prune") }
    }
}
