import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// Scores schedules of a whole SD3 or FLUX pipeline (issue 16) by `JointDiscrepancy`: one joint
/// schedule numbers every encoder's slots in turn (encoder 0's slots, then encoder 1's, ...; a
/// `.run(j)` names the joint slot j), so one beam search can spend a single budget across
/// encoders. Each encoder keeps its own `DiscrepancyScorer` for running and caching states (a
/// candidate that prunes T5 resumes T5 from its cached prefix and reuses CLIP's outputs as they
/// are); only the measurement is joint: the encoders' outputs are assembled as diffusers'
/// `encode_prompt` assembles them, projected as the denoiser reads them, and compared with the
/// dense pipeline's.
public final class JointScheduleScorer: ScheduleScorer {
    public struct Member {
        public let name: String
        /// Runs this encoder; it must read what the pipeline reads (CLIP: penultimate states and
        /// the pooled vector; T5: the last states), without a projection, with the null prompt.
        public let scorer: DiscrepancyScorer
        /// CLIP tower (causal) or T5.
        public let clip: Bool
        public init(name: String, scorer: DiscrepancyScorer, clip: Bool) {
            self.name = name
            self.scorer = scorer
            self.clip = clip
        }
    }

    public let kind: PipelineKind
    public let members: [Member]
    /// First joint slot of each member.
    public let offsets: [Int]
    let joint: JointDiscrepancy
    let prompts: Int
    let dense: (calibration: JointDiscrepancy.Features, null: JointDiscrepancy.Features)
    private var candidates = 0
    /// Each member's outputs under the last base it was asked for.
    private var baseOutputs: [(schedule: [Slot], outputs: [MeasuredOutputs])?]

    /// `prompts`: calibration prompts each member encodes (every member the same texts).
    public init(kind: PipelineKind, members: [Member], prompts: Int, joint: JointDiscrepancy) throws {
        guard kind == .sd3 || kind == .flux else { throw SkrrError(key: "joint D", "covers SD3 and FLUX, not \(kind.rawValue)") }
        self.kind = kind
        self.members = members
        var offsets: [Int] = [], next = 0
        for member in members {
            offsets.append(next)
            next += member.scorer.denseModel.schedule.count
        }
        self.offsets = offsets
        self.joint = joint
        self.prompts = prompts
        baseOutputs = Array(repeating: nil, count: members.count)
        let denseArrays = try Self.assemble(kind, members, members.map(\.scorer.denseOutputs), prompts: prompts)
        dense = (try joint.features(denseArrays.calibration), try joint.features(denseArrays.null))
    }

    /// The dense joint schedule: every member's own schedule, renumbered.
    public var denseSchedule: [Slot] {
        members.indices.flatMap { m in members[m].scorer.denseModel.schedule.map { shift($0, by: offsets[m]) } }
    }

    /// Member `m`'s part of a joint schedule, in its own numbering.
    public func local(_ schedule: [Slot], member m: Int) -> [Slot] {
        let count = members[m].scorer.denseModel.schedule.count
        return schedule[offsets[m]..<(offsets[m] + count)].map { shift($0, by: -offsets[m]) }
    }

    /// A member's schedule renumbered into the joint one.
    public func joint(_ local: [Slot], member m: Int) -> [Slot] { local.map { shift($0, by: offsets[m]) } }

    func shift(_ slot: Slot, by offset: Int) -> Slot {
        if case let .run(source) = slot { return .run(source + offset) }
        return slot
    }

    public var statistics: ScorerStatistics {
        var total = ScorerStatistics()
        for member in members {
            total.subBlockEvaluations += member.scorer.statistics.subBlockEvaluations
            total.naiveSubBlockEvaluations += member.scorer.statistics.naiveSubBlockEvaluations
        }
        total.candidatesScored = candidates
        return total
    }

    public func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
        try candidates.map { try score($0, base: base) }
    }

    func score(_ candidate: [Slot], base: [Slot]) throws -> Double {
        var outputs: [[MeasuredOutputs]] = []
        for m in members.indices {
            let localBase = local(base, member: m), localCandidate = local(candidate, member: m)
            if localCandidate == localBase {
                outputs.append(try self.outputs(ofBase: localBase, member: m))
            } else {
                outputs.append(try members[m].scorer.outputs(localCandidate, base: localBase))
            }
        }
        candidates += 1
        let arrays = try Self.assemble(kind, members, outputs, prompts: prompts)
        return try JointDiscrepancy.discrepancy(calibration: [try joint.features(arrays.calibration)], dense: [dense.calibration],
                                                null: (try joint.features(arrays.null), dense.null))
    }

    private func outputs(ofBase schedule: [Slot], member m: Int) throws -> [MeasuredOutputs] {
        if let cached = baseOutputs[m], cached.schedule == schedule { return cached.outputs }
        let made = try members[m].scorer.outputs(schedule, base: schedule)
        baseOutputs[m] = (schedule, made)
        return made
    }

    /// The joint conditioning of the calibration prompts (one batch of all of them) and of the
    /// null prompt, from each member's outputs (its calibration batches in prompt order, then the
    /// null prompt).
    static func assemble(_ kind: PipelineKind, _ members: [Member], _ outputs: [[MeasuredOutputs]],
                         prompts: Int) throws -> (calibration: JointConditioning.Arrays, null: JointConditioning.Arrays) {
        func contribution(_ m: Int, null: Bool) throws -> EncoderContribution {
            let member = members[m], batches = member.scorer.calibrationBatchCount
            guard outputs[m].count == batches + 1 else {
                throw SkrrError(key: member.name, "its scorer measures no null prompt, which the joint D needs")
            }
            let parts = null ? [outputs[m][batches]] : Array(outputs[m][0..<batches])
            let n = null ? 1 : prompts
            let width = member.scorer.denseModel.config.hiddenSize
            let states = parts.compactMap(\.hidden).flatMap { $0 }
            let pooled = parts.compactMap(\.pooled).flatMap { $0 }
            return EncoderContribution(
                name: member.name, batch: n, length: states.count / max(n * width, 1), width: width,
                states: states.isEmpty ? nil : states, pooledWidth: pooled.count / max(n, 1), pooled: pooled.isEmpty ? nil : pooled)
        }
        func arrays(null: Bool) throws -> JointConditioning.Arrays {
            let parts = try members.indices.map { try contribution($0, null: null) }
            let clip = members.indices.filter { members[$0].clip }.map { parts[$0] }
            guard let t5 = members.indices.first(where: { !members[$0].clip }).map({ parts[$0] }) else {
                throw SkrrError(key: "joint D", "the pipeline has no T5 encoder")
            }
            return kind == .sd3 ? try JointConditioning.sd3(clip: clip, t5: t5) : try JointConditioning.flux(clip: clip[0], t5: t5)
        }
        return (try arrays(null: false), try arrays(null: true))
    }
}

extension JointScheduleScorer {
    /// Scores schedules of member `m` alone, the other members fixed as in `joint`: what a
    /// per-encoder pass (re-use) asks, still measured by the joint D.
    public func view(member m: Int, within joint: [Slot]) -> any ScheduleScorer {
        MemberView(owner: self, member: m, fixed: joint)
    }

    final class MemberView: ScheduleScorer {
        let owner: JointScheduleScorer
        let member: Int
        let fixed: [Slot]
        init(owner: JointScheduleScorer, member: Int, fixed: [Slot]) {
            self.owner = owner
            self.member = member
            self.fixed = fixed
        }

        func placed(_ local: [Slot]) -> [Slot] {
            var schedule = fixed
            let start = owner.offsets[member]
            schedule.replaceSubrange(start..<(start + local.count), with: owner.joint(local, member: member))
            return schedule
        }

        func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
            try owner.score(candidates.map(placed), base: placed(base))
        }

        var statistics: ScorerStatistics { owner.statistics }
    }
}
