import SkrrLowering
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// Scoring of whole candidate models, weights included (LaCo's merged layers, and held-out
/// evaluation of any pass's result). Slots before the first one whose weights differ from the
/// dense model's compute exactly what the dense model computes, so a candidate resumes from the
/// dense run's cached state there (LaCo scans from the top, so most of its prefix is shared).
extension DiscrepancyScorer: ModelScorer {
    public func measure(_ model: ModelIR) throws -> ModelMeasurement {
        let reference = try denseHiddenStates()
        let (runner, states, penultimate) = try runAll(model)
        var cosineSum = 0.0, rows = 0
        for (i, state) in states.prefix(calibration.count).enumerated() {
            let hidden = try consumedHidden(state, finishedBy: runner)
            let d = runner.program.spec.hiddenSize
            for row in 0..<(hidden.count / d) {
                cosineSum += cosine(hidden[(row * d)..<((row + 1) * d)], reference[i][(row * d)..<((row + 1) * d)])
                rows += 1
            }
        }
        let cosine = cosineSum / Double(max(rows, 1))
        let d = try discrepancy(of: measured(states, penultimate: penultimate, finishedBy: runner))
        return ModelMeasurement(discrepancy: d, outputCosine: cosine)
    }

    /// D of a whole model (its schedule and its weights) against the dense model.
    public func discrepancy(of model: ModelIR) throws -> Double {
        let (runner, states, penultimate) = try runAll(model)
        return try discrepancy(of: measured(states, penultimate: penultimate, finishedBy: runner))
    }

    /// Runs `model` on every batch (calibration, then the null prompt) up to the final states,
    /// keeping the penultimate states when the pipeline reads them.
    func runAll(_ model: ModelIR) throws -> (Interpreter, [ForwardState], [ForwardState]?) {
        let program = try Lowering.lower(model)
        guard program.spec == interpreter.program.spec else {
            throw SkrrError(key: model.name, "the candidate's encoder configuration differs from the dense model's")
        }
        let weights = try candidateWeights(model)
        let batches = try BatchRunner(program: program, weights: weights, threads: self.runner.interpreters.count,
                                      compute: options.compute, fuseRows: options.fuseRows)
        let runner = batches.primary
        var states: [ForwardState]
        var start = 0
        let shared = resumeLimit(sharedPrefix(model))
        if shared > 0, let dense = try? ensureCached(denseModel.schedule),
           let boundary = dense.boundaries.keys.filter({ $0 <= shared }).max(), boundary > 0 {
            states = dense.boundaries[boundary]!
            start = boundary
        } else {
            states = try batches.begin(allBatches)
        }
        let slots = program.slots
        let penultimate = try advance(&states, from: start, with: batches) { slots[$0] }
        statistics.candidatesScored += 1
        statistics.naiveSubBlockEvaluations += program.slots.filter { $0 != .skip }.count
        return (runner, states, penultimate)
    }

    /// How many leading slots of `model` run exactly the dense model's weights (same embeddings,
    /// same shared position table, same sub-block in each slot with the same tensors).
    func sharedPrefix(_ model: ModelIR) -> Int {
        guard model.embeddings == denseModel.embeddings, model.positionBias == denseModel.positionBias,
              model.schedule.count == denseModel.schedule.count else { return 0 }
        for slot in model.schedule.indices {
            guard model.schedule[slot] == denseModel.schedule[slot],
                  model.subBlocks[slot].operands == denseModel.subBlocks[slot].operands else { return slot }
        }
        return model.schedule.count
    }

    /// The candidate's stored tensors are the dense model's (found by name, and required to be
    /// the same declaration); merged tensors are computed from them.
    func candidateWeights(_ model: ModelIR) throws -> WeightSource {
        var denseIndex: [String: Int] = [:]
        for (index, tensor) in denseModel.tensors.enumerated() { denseIndex[tensor.name] = index }
        let dense = denseModel
        let source = denseWeights
        return try DerivedWeights(model: model) { _, tensor in
            guard let found = denseIndex[tensor.name], dense.tensors[found] == tensor else {
                throw SkrrError(key: tensor.name, "is not a tensor of the dense model the scorer was built for")
            }
            return source.bytes(ofTensor: found)
        }
    }

    /// The dense model's final hidden states on the calibration batches, computed on first use
    /// (only LaCo's cosine needs them) over all threads; reference work, not counted as search work.
    func denseHiddenStates() throws -> [[Float]] {
        if let denseHidden { return denseHidden }
        var states = try runner.begin(calibration)
        for slot in denseSlots where slot != .skip { try runner.apply(slot, to: &states) }
        let computed = try states.map { try consumedHidden($0, finishedBy: interpreter) }
        denseHidden = computed
        return computed
    }
}
