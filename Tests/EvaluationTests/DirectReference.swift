import SkrrRuntime

/// The independent reference the scorer tests compare against: every prompt run on its own
/// through `Interpreter.run` on the reference and the candidate model, and one output of each
/// (hidden states, a layer, the projected pooled vector).
func directOutputs(_ reference: Interpreter, _ candidate: Interpreter, prompts: [[Int32]], layers: [Int] = [],
                   _ output: (EncoderOutput) throws -> [Float]) throws -> [(reference: [Float], candidate: [Float])] {
    try prompts.map { prompt in
        (try output(reference.run(TokenBatch(ids: [prompt]), layers: layers)),
         try output(candidate.run(TokenBatch(ids: [prompt]), layers: layers)))
    }
}

/// Mean squared difference over every element of the pairs, in double precision.
func meanSquaredDifference(_ pairs: [(reference: [Float], candidate: [Float])]) -> Double {
    var sum = 0.0, count = 0
    for (a, b) in pairs {
        for i in a.indices { sum += Double(a[i] - b[i]) * Double(a[i] - b[i]) }
        count += a.count
    }
    return sum / Double(max(count, 1))
}
