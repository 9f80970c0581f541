#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Normalisations, activations and softmax over f32 rows, written to follow transformers'
/// formulas term by term (DESIGN.md §3).
enum Elementwise {
    /// T5 RMSNorm: `x * rsqrt(mean(x²) + eps) * w`, no mean subtraction, no bias.
    static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>, eps: Float,
                        out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width, dst = out + r * width
            var sum: Float = 0
            for i in 0..<width { sum += row[i] * row[i] }
            let scale = 1 / (sum / Float(width) + eps).squareRoot()
            for i in 0..<width { dst[i] = weight[i] * (row[i] * scale) }
        }
    }

    /// LayerNorm with biased variance, as torch computes it.
    static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, eps: Float, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width, dst = out + r * width
            var mean: Float = 0
            for i in 0..<width { mean += row[i] }
            mean /= Float(width)
            var variance: Float = 0
            for i in 0..<width { let d = row[i] - mean; variance += d * d }
            variance /= Float(width)
            let scale = 1 / (variance + eps).squareRoot()
            for i in 0..<width { dst[i] = (row[i] - mean) * scale * weight[i] + (bias?[i] ?? 0) }
        }
    }

    static func activate(_ values: UnsafeMutablePointer<Float>, count: Int, _ kind: RuntimeActivation) {
        switch kind {
        case .relu:
            for i in 0..<count where values[i] < 0 { values[i] = 0 }
        case .gelu:
            for i in 0..<count { let x = values[i]; values[i] = 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
        case .geluTanh:
            let c: Float = 0.7978845608028654  // sqrt(2/π)
            for i in 0..<count {
                let x = values[i]
                values[i] = 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x)))
            }
        case .quickGelu:
            for i in 0..<count { let x = values[i]; values[i] = x / (1 + expf(-1.702 * x)) }
        }
    }

    /// Softmax of each row in place; entries equal to `-.greatestFiniteMagnitude` are masked.
    static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = scores + r * width
            var maximum = -Float.greatestFiniteMagnitude
            for i in 0..<width where row[i] > maximum { maximum = row[i] }
            var sum: Float = 0
            for i in 0..<width { let e = expf(row[i] - maximum); row[i] = e; sum += e }
            let inverse = 1 / sum
            for i in 0..<width { row[i] *= inverse }
        }
    }
}
