import SkrrEvaluation
import SkrrPasses
import SkrrRuntime

/// Screening for a joint search (`--screen N` on a pipeline): the same joint D on N of the
/// calibration prompts, spread evenly, the same prompts for every encoder. A real SD3 search has
/// T5-XXL among its candidates, which is why a joint prune of a large pipeline is screened by
/// default as a large single encoder is (`CompileOptions.defaultScreen`).
final class JointSubsetScorers: ScreeningScorers {
    let kind: PipelineKind
    let members: [JointScheduleScorer.Member]
    let calibrations: [Calibration]
    let joint: JointDiscrepancy
    private var built: [Int: JointScheduleScorer] = [:]

    init(kind: PipelineKind, members: [JointScheduleScorer.Member], calibrations: [Calibration], joint: JointDiscrepancy) {
        self.kind = kind
        self.members = members
        self.calibrations = calibrations
        self.joint = joint
    }

    var calibrationPromptCount: Int { calibrations[0].prompts.count }

    func scorer(prompts count: Int) throws -> any ScheduleScorer {
        if let scorer = built[count] { return scorer }
        // Every calibration holds the same prompts (each tokenized for its encoder), so the same
        // indices pick the same prompts for every encoder.
        let subset = try zip(members, calibrations).map { member, calibration in
            JointScheduleScorer.Member(name: member.name, scorer: try calibration.scorer(.skrr, prompts: calibration.evenlySpread(count)),
                                       clip: member.clip)
        }
        let scorer = try JointScheduleScorer(kind: kind, members: subset, prompts: min(count, calibrationPromptCount), joint: joint)
        built[count] = scorer
        return scorer
    }
}
