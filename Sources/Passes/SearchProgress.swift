import SkrrIR
import SkrrSupport

/// Progress of a skip search in units of work, not of sparsity: each candidate costs the
/// sub-blocks its suffix recomputes (times the share of prompts it is scored on), so the first
/// step (one beam) and later ones (several beams) are weighed by what they really cost. The total
/// is re-estimated as the work done, plus the current step's remaining work, plus the steps still
/// expected (what is left to remove over the mean size of a droppable sub-block) at the cost of the
/// last step — `beam` times the first step's cost after the first, which extends a single beam.
struct SearchProgress {
    let space: SearchSpace
    let context: PassContext
    /// Share of the calibration prompts screening scores on (nil: no screening).
    let screening: Double?
    let beam: Int
    let started = ProgressBar.now()
    private var done = 0.0
    /// Estimated work of the steps after the current one.
    private var future = 0.0
    private var estimated = false
    private var stepTotal = 0.0
    private var stepDone = 0.0
    /// Work per candidate of the current phase (screen or full).
    private var pending: [Double] = []

    init(space: SearchSpace, context: PassContext, screening: Double?, beam: Int) {
        self.space = space
        self.context = context
        self.screening = screening
        self.beam = beam
    }

    /// A step is about to score `children`: (the sub-block each adds, the beam it extends).
    /// `stepsDone`: steps before this one (restored ones included); `removed`: what the best beam
    /// removes so far.
    mutating func beginStep(children: [(slot: Int, parent: SkipSearch.Beam)], stepsDone: Int, removed: Int) {
        let weight = screening ?? 1
        pending = children.map { weight * Double(cost($0.slot, $0.parent)) }
        stepTotal = pending.reduce(0, +)
        stepDone = 0
        if !estimated {
            // Before any step of this run has finished, guess the rest from this step's size.
            let perStep = stepsDone == 0 ? stepTotal * Double(beam) : stepTotal
            future = Double(max(remainingSteps(removed: removed) - 1, 0)) * perStep
            estimated = true
        }
        report()
    }

    mutating func beginRescoring(candidates: [(slot: Int, parent: SkipSearch.Beam)]) {
        pending = candidates.map { Double(cost($0.slot, $0.parent)) }
        stepTotal = stepDone + pending.reduce(0, +)
        report()
    }

    /// `share` of candidate `index`'s work (of the current phase, in the order `beginStep` or
    /// `beginRescoring` listed them) was just done. A bounded phase may leave candidates part
    /// done: what it never spends is dropped from the step when the next phase or step begins.
    mutating func worked(candidate index: Int, share: Double) {
        guard pending.indices.contains(index) else { return }
        let chunk = pending[index] * share
        stepDone += chunk
        done += chunk
        report()
    }

    /// Logs the step and re-estimates the total from what it cost.
    mutating func endStep(number: Int, bestD: Double, removed: Int) {
        let elapsed = ProgressBar.now() - started
        let perStep = number == 1 ? stepDone * Double(beam) : stepDone
        future = Double(max(remainingSteps(removed: removed) - 1, 0)) * perStep
        let total = done + (remainingSteps(removed: removed) > 0 ? perStep : 0) + future
        context.reportProgress(done, of: max(total, done))
        let eta = done > 0 ? elapsed * (total - done) / done : 0
        let fraction = Double(removed) / Double(max(space.sourceParameters, 1))
        context.note("step \(number): best D \(bestD), \(percent(fraction)) removed, \(ProgressBar.clock(elapsed)) elapsed, ETA \(ProgressBar.clock(eta))")
    }

    private func report() {
        let expected = done - stepDone + stepTotal + future
        context.reportProgress(done, of: max(expected, done, 1))
    }

    /// Sub-blocks a candidate adding `slot` to `parent` recomputes.
    private func cost(_ slot: Int, _ parent: SkipSearch.Beam) -> Int {
        var skipped = parent.skipped
        skipped.insert(slot)
        return max(space.suffixLength(from: slot, skipping: skipped), 1)
    }

    /// Steps still expected after one that reached `removed` parameters.
    private func remainingSteps(removed: Int) -> Int {
        let left = space.target - removed
        guard left > 0 else { return 0 }
        let sizes = space.candidates.map { space.parameterCount(ofSubBlock: $0) }
        let mean = Double(sizes.reduce(0, +)) / Double(max(sizes.count, 1))
        return Int((Double(left) / max(mean, 1)).rounded(.up))
    }
}
