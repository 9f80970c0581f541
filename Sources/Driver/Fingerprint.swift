import SkrrEvaluation
import SkrrIR
import SkrrLowering
import SkrrPasses
import SkrrSupport

/// What a search checkpoint must match to be resumed: hashes of everything that changes results,
/// one field each so a refusal can say what differs.
enum Fingerprint {
    static func fields(model: ModelIR, calibration: Calibration, pipeline: [PassInvocation],
                       objective: ScoringObjective) -> [(key: String, value: String)] {
        [
            ("model", hex(modelHash(model, weights: calibration.weights))),
            ("calibration", hex(calibrationHash(calibration, objective: objective))),
            ("pipeline", pipeline.map(\.description).joined(separator: ",")),
            ("search_compute", calibration.searchCompute.rawValue),
        ]
    }

    /// A joint prune's fields (issue 16): every encoder's model and calibration hash, in order,
    /// with the denoiser projections the joint D reads, under the single-encoder keys, so a
    /// refusal names what differs the same way.
    static func jointFields(models: [ModelIR], calibrations: [Calibration], joint: JointDiscrepancy, passes: String)
        -> [(key: String, value: String)] {
        var modelBytes: [UInt8] = [], calibrationBytes: [UInt8] = []
        for (model, calibration) in zip(models, calibrations) {
            append(modelHash(model, weights: calibration.weights), to: &modelBytes)
            append(calibrationHash(calibration, objective: .skrr), to: &calibrationBytes)
        }
        for projection in [joint.context, joint.pooled] {
            append(projection == nil ? 0 : 1, to: &calibrationBytes)
            for layer in projection?.layers ?? [] {
                for value in layer.weight + (layer.bias ?? []) { append(UInt64(value.bitPattern), to: &calibrationBytes) }
            }
        }
        return [
            ("model", hex(XXH64.hash(modelBytes))),
            ("calibration", hex(XXH64.hash(calibrationBytes))),
            ("pipeline", passes),
            ("search_compute", calibrations[0].searchCompute.rawValue),
        ]
    }

    /// The IR text (structure, config, tensor names, shapes, offsets) and a sample of every
    /// stored tensor's bytes: its size, first and last 4 KiB and 16 evenly spaced 256-byte
    /// blocks. Hashing all of T5-XXL's 9.5 GB would cost a full read; the sample tells apart any
    /// two real checkpoints while reading a few megabytes.
    static func modelHash(_ model: ModelIR, weights: SourceWeights) -> UInt64 {
        var bytes = Array(IRPrinter.print(model).utf8)
        for index in model.tensors.indices {
            let data = weights.bytes(ofTensor: index)
            append(UInt64(data.count), to: &bytes)
            var ranges = [0..<min(4096, data.count), max(0, data.count - 4096)..<data.count]
            for k in 0..<16 {
                let start = data.count * k / 16
                ranges.append(start..<min(start + 256, data.count))
            }
            for range in ranges { bytes += data[range] }
        }
        return XXH64.hash(bytes)
    }

    /// Token ids of every prompt and of the null prompt, the preset, what D compares, the
    /// projection's weights, and the objective.
    static func calibrationHash(_ calibration: Calibration, objective: ScoringObjective) -> UInt64 {
        var bytes: [UInt8] = []
        for prompt in calibration.prompts + [calibration.nullPrompt] {
            append(UInt64(prompt.count), to: &bytes)
            for id in prompt { append(UInt64(UInt32(bitPattern: id)), to: &bytes) }
        }
        let preset = calibration.preset
        bytes += Array("\(preset.name) \(preset.maxLength ?? -1) \(preset.padToMax) \(preset.useMask) \(calibration.consumed) \(objective)".utf8)
        for layer in calibration.projection?.layers ?? [] {
            for value in layer.weight + (layer.bias ?? []) { append(UInt64(value.bitPattern), to: &bytes) }
        }
        return XXH64.hash(bytes)
    }

    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
