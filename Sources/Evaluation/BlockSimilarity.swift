import SkrrPasses
import SkrrRuntime

extension DiscrepancyScorer: BlockSimilarityMeter {
    /// Mean over calibration tokens (the positions the pipeline consumes) of the cosine between
    /// each block's input and output hidden states in the dense model.
    public func blockInputOutputCosines() throws -> [Double] {
        let blocks = denseSlots.count / 2
        var sums = [Double](repeating: 0, count: blocks)
        let d = interpreter.program.spec.hiddenSize
        var states = try runner.begin(calibration)
        for block in 0..<blocks {
            let inputs = states.map(\.hidden)
            try runner.apply(denseSlots[2 * block], to: &states)
            try runner.apply(denseSlots[2 * block + 1], to: &states)
            for (state, input) in zip(states, inputs) {
                for row in 0..<(state.batch * state.length) where state.mask[row] != 0 {
                    sums[block] += cosine(input[(row * d)..<((row + 1) * d)], state.hidden[(row * d)..<((row + 1) * d)])
                }
            }
        }
        let tokens = states.reduce(0) { $0 + $1.mask.reduce(0) { $0 + Int($1) } }
        return sums.map { $0 / Double(max(tokens, 1)) }
    }
}
