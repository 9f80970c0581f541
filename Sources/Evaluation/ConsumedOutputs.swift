import SkrrRuntime
import SkrrSupport

/// What the denoiser reads from the encoder, so D compares exactly that: the last or penultimate
/// hidden states and/or the pooled output (projected when the encoder has a projection head).
/// Which, per pipeline, is the driver's `PipelineReads` table.
public struct ConsumedOutputs: Equatable, Sendable {
    public enum Hidden: Equatable, Sendable {
        case none
        /// The last block's output (final norm applied): `prompt_embeds` of T5 pipelines.
        case last
        /// `hidden_states[-2]`: the state before the last block, without the final norm.
        case penultimate
    }

    public var hidden: Hidden
    public var pooled: Bool

    public init(hidden: Hidden = .last, pooled: Bool = false) {
        self.hidden = hidden
        self.pooled = pooled
    }
}

/// One batch's measured outputs: the consumed hidden rows (after the projection, if any) and
/// the pooled output.
public struct MeasuredOutputs: Sendable {
    public var hidden: [Float]?
    public var pooled: [Float]?
}

extension DiscrepancyScorer {
    /// The slot boundary whose states a penultimate-layer consumer reads (before the last block).
    var penultimateBoundary: Int? { options.consumed.hidden == .penultimate ? max(denseSlots.count - 2, 0) : nil }

    /// Runs slots `start...` on every state with the weights `weights(slot)` gives, and returns
    /// the states at the penultimate boundary when that layer is consumed. Callers resume at or
    /// before that boundary.
    /// `share`: the states' part of the whole calibration set, for the work statistics.
    func advance(_ states: inout [ForwardState], from start: Int, with batches: BatchRunner, share: Double = 1,
                 weights: (Int) -> ProgramSlot) throws -> [ForwardState]? {
        var penultimate: [ForwardState]?
        for slot in start..<denseSlots.count {
            if slot == penultimateBoundary { penultimate = states }
            let slotWeights = weights(slot)
            if slotWeights != .skip {
                try batches.apply(slotWeights, to: &states)
                countRun(share: share)
            }
        }
        if penultimateBoundary == denseSlots.count { penultimate = states }
        return penultimate
    }

    /// The latest usable resume point for a candidate diverging at `divergence`.
    func resumeLimit(_ divergence: Int) -> Int { min(divergence, penultimateBoundary ?? divergence) }

    /// What the pipeline reads from each final state (`penultimate`: the states `advance` kept).
    func measured(_ states: [ForwardState], penultimate: [ForwardState]?, finishedBy runner: Interpreter) throws -> [MeasuredOutputs] {
        try states.indices.map { i in
            var out = MeasuredOutputs()
            switch options.consumed.hidden {
            case .none: break
            case .last: out.hidden = try embeddingsOf(states[i], finishedBy: runner)
            case .penultimate:
                guard let penultimate else { throw SkrrError(key: "penultimate", "the penultimate states were not kept") }
                out.hidden = try projected(consumedRows(penultimate[i].hidden, of: penultimate[i]))
            }
            if options.consumed.pooled { out.pooled = try runner.pooledOutput(states[i]) }
            return out
        }
    }

    /// Rows of `hidden` at the positions the pipeline consumes, concatenated.
    func consumedRows(_ hidden: [Float], of state: ForwardState) -> [Float] {
        let d = interpreter.program.spec.hiddenSize
        var consumed: [Float] = []
        consumed.reserveCapacity(hidden.count)
        for row in 0..<(state.batch * state.length) where state.mask[row] != 0 {
            consumed.append(contentsOf: hidden[(row * d)..<((row + 1) * d)])
        }
        return consumed
    }

    func projected(_ rows: [Float]) throws -> [Float] {
        try projection.map { try $0.apply(rows, width: interpreter.program.spec.hiddenSize) } ?? rows
    }

    /// D of measured outputs against the dense model's: for each consumed part, the MSE over the
    /// calibration batches plus, when the null prompt is included, its MSE.
    func discrepancy(of outputs: [MeasuredOutputs]) -> Double {
        var partial = PartialDiscrepancy(dense: denseMeasured, calibrationBatches: calibration.count)
        for (batch, output) in outputs.enumerated() where batch < calibration.count || null != nil {
            partial.add(output, batch: batch)
        }
        return partial.value
    }
}

/// D summed up batch by batch: the same sums in the same order as over all batches at once, so a
/// finished one has D's exact bits, and before that its value is a lower bound of D (every term
/// is a sum of squares, and adding a non-negative number never lowers a rounded sum).
struct PartialDiscrepancy {
    /// The parts D compares, each an MSE over the calibration batches plus one for the null prompt.
    static let parts: [@Sendable (MeasuredOutputs) -> [Float]?] = [{ $0.hidden }, { $0.pooled }]
    let dense: [MeasuredOutputs]
    let calibrationBatches: Int
    /// Per part: squared differences over the calibration batches added so far, and how many
    /// values the whole calibration set has (the mean's divisor).
    private var sums: [Double]
    private let counts: [Int]
    /// Per part: the null prompt's MSE once added.
    private var nullTerms: [Double?]
    /// The next calibration batch to add (they go in order, as the sums need).
    private(set) var nextBatch = 0

    init(dense: [MeasuredOutputs], calibrationBatches: Int) {
        self.dense = dense
        self.calibrationBatches = calibrationBatches
        sums = Array(repeating: 0, count: Self.parts.count)
        counts = Self.parts.map { part in dense.prefix(calibrationBatches).reduce(0) { $0 + (part($1)?.count ?? 0) } }
        nullTerms = Array(repeating: nil, count: Self.parts.count)
    }

    /// Adds batch `batch`'s outputs: a calibration batch (the next in order) or, at
    /// `calibrationBatches`, the null prompt's.
    mutating func add(_ outputs: MeasuredOutputs, batch: Int) {
        precondition(batch == calibrationBatches || batch == nextBatch, "calibration batches are added in order")
        for (p, part) in Self.parts.enumerated() {
            guard let actual = part(outputs), let reference = part(dense[batch]) else { continue }
            if batch == calibrationBatches {
                nullTerms[p] = meanSquaredError([(actual, reference)])
            } else {
                sums[p] += squaredDifference(actual, reference)
            }
        }
        if batch < calibrationBatches { nextBatch += 1 }
    }

    /// D over what was added: exact once every batch is in, a lower bound before.
    var value: Double {
        var d = 0.0
        for p in sums.indices {
            d += counts[p] > 0 ? sums[p] / Double(counts[p]) : 0
            if let null = nullTerms[p] { d += null }
        }
        return d
    }
}

/// The mean squared difference over every value of every pair (0 when there are none): one term
/// of D, with all calibration batches pooled into one mean.
func meanSquaredError(_ pairs: [(actual: [Float], reference: [Float])]) -> Double {
    let count = pairs.reduce(0) { $0 + $1.actual.count }
    guard count > 0 else { return 0 }
    return pairs.reduce(0.0) { $0 + squaredDifference($1.actual, $1.reference) } / Double(count)
}

func squaredDifference(_ a: [Float], _ b: [Float]) -> Double {
    var sum = 0.0
    for i in a.indices {
        let diff = Double(a[i]) - Double(b[i])
        sum += diff * diff
    }
    return sum
}
