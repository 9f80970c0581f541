import SkrrSupport

/// The denoiser's input projection applied to text embeddings before D is measured: PixArt's
/// `caption_projection` (Linear → GELU-tanh → Linear) or SD3/FLUX's `context_embedder` (Linear).
/// Weights are f32 `[out, in]` with biases.
public struct Projection: Sendable {
    public struct Layer: Sendable {
        public var weight: [Float]
        public var bias: [Float]?
        public var outWidth: Int
        public var inWidth: Int
        public init(weight: [Float], bias: [Float]?, outWidth: Int, inWidth: Int) {
            self.weight = weight
            self.bias = bias
            self.outWidth = outWidth
            self.inWidth = inWidth
        }
    }
    public var layers: [Layer]
    /// Apply GELU(tanh) between consecutive layers.
    public var geluBetween: Bool

    public init(layers: [Layer], geluBetween: Bool) {
        self.layers = layers
        self.geluBetween = geluBetween
    }

    /// Projects rows of width `width`.
    public func apply(_ rows: [Float], width: Int) throws -> [Float] {
        var current = rows, currentWidth = width
        for (index, layer) in layers.enumerated() {
            guard layer.inWidth == currentWidth else {
                throw SkrrError(key: "projection", "layer \(index) expects width \(layer.inWidth), the encoder gives \(currentWidth)")
            }
            let count = current.count / currentWidth
            var out = [Float](repeating: 0, count: count * layer.outWidth)
            for r in 0..<count {
                for o in 0..<layer.outWidth {
                    var sum: Float = layer.bias?[o] ?? 0
                    for i in 0..<currentWidth { sum += current[r * currentWidth + i] * layer.weight[o * currentWidth + i] }
                    out[r * layer.outWidth + o] = sum
                }
            }
            if geluBetween && index < layers.count - 1 {
                for i in out.indices {
                    let x = out[i]
                    out[i] = 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
                }
            }
            current = out
            currentWidth = layer.outWidth
        }
        return current
    }
}

#if canImport(Glibc)
import Glibc
#endif
