import SkrrIR
import SkrrSupport

/// The LaCo baseline (Layer Collapse, Yang et al. 2024): rear layers are folded into an earlier
/// one by the RDSC merge `θ*_l = θ_l + Σ_k (θ_{l+k} − θ_l)`, applied to every tensor of the
/// attention and FFN sub-blocks independently, and the folded layers are removed. Candidates are
/// tried from the top of the encoder down; one is accepted when the mean cosine between its
/// final hidden states and the dense model's stays at or above `threshold`, after which the scan
/// jumps down by `interval` layers (so consecutive merges do not pile up); otherwise it moves down
/// one layer.
///
/// Adaptations for a fixed sparsity target, so the methods compare at equal size: the scan stops
/// as soon as the target is met, a merge folds at most as many layers as the target still
/// needs, and a scan that accepts nothing accepts its best-scoring candidate (recorded as below
/// the threshold in the statistics) before starting again from the top. Merged tensors are
/// `merge` declarations in the IR; their inputs stay declared but are neither run nor counted.
public struct LayerCollapse: ModelPass {
    public static let name = "laco"
    public static let summary = "fold rear layers into earlier ones by merged weights while output cosine stays high (LaCo baseline)"
    public static let optionNames = ["sparsity", "layers", "interval", "threshold"]
    public var requiredAnalyses: [AnalysisID] { [AnalysisKey.modelScorer.id] }

    public let sparsity: Double
    /// Layers folded into the base by one merge (LaCo's C).
    public let layers: Int
    /// Layers the scan moves down after an accepted merge (LaCo's I).
    public let interval: Int
    /// Minimum mean output cosine to accept a merge (LaCo's T).
    public let threshold: Double

    public init(sparsity: Double, layers: Int = 2, interval: Int = 2, threshold: Double = 0.9) {
        self.sparsity = sparsity
        self.layers = layers
        self.interval = interval
        self.threshold = threshold
    }

    public init(options: PassOptions) throws {
        sparsity = try options.double("sparsity", default: nil, in: 0...1)
        layers = try options.int("layers", default: 2, in: 1...64)
        interval = try options.int("interval", default: 2, in: 1...64)
        threshold = try options.double("threshold", default: 0.9, in: -1...1)
    }

    struct Candidate {
        var model: ModelIR
        var base: Int
        var folded: [Int]
        var measurement: ModelMeasurement
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let measurer = try context.analysis(.modelScorer, for: Self.name)
        let target = Int((sparsity * Double(model.sourceParameters)).rounded(.up))
        func removed(_ m: ModelIR) -> Int { model.sourceParameters - m.keptParameters }

        // Blocks that run both their own sub-blocks and serve no re-use can take part.
        var live = (0..<model.config.numLayers).filter { model.isDroppable(2 * $0) && model.isDroppable(2 * $0 + 1) }
        if removed(model) >= target {
            context.record(NoteRecord(pass: Self.name, summary: "input already at sparsity ≥ \(sparsity); nothing merged"))
            return model
        }
        let perBlock = live.first.map { model.parameterCount(ofSubBlock: 2 * $0) + model.parameterCount(ofSubBlock: 2 * $0 + 1) } ?? 0
        let reachable = removed(model) + max(live.count - 1, 0) * perBlock
        guard perBlock > 0, reachable >= target else {
            let most = Double(reachable) / Double(max(model.sourceParameters, 1))
            throw SkrrError(key: Self.name, "target sparsity \(sparsity) is unreachable: folding every layer into one removes \(percent(most)) of the parameters")
        }

        var current = model
        var step = 0
        var log: [String] = []
        var order: [Int] = []
        var discrepancies: [Double] = []
        var measured = 0
        var merges: [MergeRecord.Merge] = []
        var discrepancy: Double?
        func accept(_ candidate: Candidate, note: String) {
            current = candidate.model
            live.removeAll { candidate.folded.contains($0) }
            step += 1
            let blocks = candidate.folded.map(String.init).joined(separator: " ")
            log.append("folded \(blocks) into \(candidate.base) (cos \(rounded(candidate.measurement.outputCosine))\(note))")
            for block in candidate.folded {
                order += [2 * block, 2 * block + 1]
                discrepancies += [candidate.measurement.discrepancy, candidate.measurement.discrepancy]
            }
            merges.append(MergeRecord.Merge(base: candidate.base, folded: candidate.folded))
            discrepancy = candidate.measurement.discrepancy
            context.reportProgress(Double(min(removed(current), target)), of: Double(target))
        }

        while removed(current) < target {
            // One scan from the top down.
            var position = max(live.count - 1 - layers, 0)
            var acceptedInScan = false
            var best: Candidate?
            while position >= 0 && position < live.count - 1 && removed(current) < target {
                let needed = (target - removed(current) + perBlock - 1) / perBlock
                let count = min(layers, needed, live.count - 1 - position)
                let base = live[position]
                let folded = Array(live[(position + 1)...(position + count)])
                let merged = try collapse(current, base: base, folded: folded, step: step + 1)
                let measurement = try measurer.measure(merged)
                measured += 1
                let candidate = Candidate(model: merged, base: base, folded: folded, measurement: measurement)
                if measurement.outputCosine >= threshold {
                    accept(candidate, note: " ≥ \(threshold)")
                    acceptedInScan = true
                    position -= interval
                } else {
                    if best == nil || measurement.outputCosine > best!.measurement.outputCosine { best = candidate }
                    position -= 1
                }
            }
            if removed(current) >= target { break }
            if !acceptedInScan {
                guard let best else {
                    throw SkrrError(key: Self.name, "ran out of layers to fold before reaching sparsity \(sparsity)")
                }
                accept(best, note: " < \(threshold): best of a scan that accepted nothing")
            }
        }
        context.record(MergeRecord(
            pass: Self.name, merges: merges, order: order, orderDiscrepancies: discrepancies, finalDiscrepancy: discrepancy,
            log: log, candidatesMeasured: measured, removedFraction: Double(removed(current)) / Double(model.sourceParameters)))
        return current
    }

    /// The model with `folded` merged into `base` (RDSC per tensor) and their slots skipped.
    /// Merged tensors are named `laco<step>.block<base>.<kind>.<role>` and appended after their inputs.
    public func collapse(_ model: ModelIR, base: Int, folded: [Int], step: Int) throws -> ModelIR {
        var result = model
        for offset in 0..<2 {
            let target = 2 * base + offset
            var operands: [Operand] = []
            for operand in model.subBlocks[target].operands {
                let deltas = try folded.map { block -> String in
                    guard let name = model.subBlocks[2 * block + offset].tensor(for: operand.role) else {
                        throw SkrrError(key: Self.name, "sub-block \(2 * block + offset) has no tensor for role '\(operand.role)'")
                    }
                    return name
                }.filter { $0 != operand.tensor }
                guard !deltas.isEmpty, let baseTensor = model.tensor(named: operand.tensor) else {
                    operands.append(operand)
                    continue
                }
                let name = "laco\(step).block\(base).\(model.subBlocks[target].kind.rawValue).\(operand.role)"
                result.tensors.append(TensorDecl(name: name, dtype: baseTensor.dtype, shape: baseTensor.shape,
                                                 origin: .merge(base: operand.tensor, deltas: deltas)))
                operands.append(Operand(role: operand.role, tensor: name))
            }
            result.subBlocks[target].operands = operands
        }
        for block in folded {
            result.schedule[2 * block] = .skip
            result.schedule[2 * block + 1] = .skip
        }
        return result
    }
}

private func rounded(_ value: Double) -> String {
    let scaled = (value * 10000).rounded() / 10000
    return "\(scaled)"
}
