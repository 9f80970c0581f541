import Glibc
import SkrrRuntime
import SkrrSupport

/// The denoiser's input projection applied to text embeddings before D is measured: PixArt's
/// `caption_projection` (Linear → GELU-tanh → Linear), SD3/FLUX's `context_embedder` (Linear), or
/// the pooled text projection `time_text_embed.text_embedder` (Linear → SiLU → Linear).
/// Weights are f32 `[out, in]` with biases. The layers run through the interpreter's own
/// products and activation (OpenBLAS), so projecting thousands of calibration rows of width 4096
/// costs what a linear layer of the encoder costs, not a naive triple loop.
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
    /// The activation between consecutive layers.
    public enum Between: Sendable { case none, geluTanh, silu }

    public var layers: [Layer]
    public var between: Between

    public init(layers: [Layer], between: Between) {
        self.layers = layers
        self.between = between
    }

    /// GELU(tanh) between the layers (PixArt's caption projection) or nothing.
    public init(layers: [Layer], geluBetween: Bool) {
        self.init(layers: layers, between: geluBetween ? .geluTanh : .none)
    }

    /// Projects rows of width `width`.
    public func apply(_ rows: [Float], width: Int) throws -> [Float] {
        var current = rows, currentWidth = width
        for (index, layer) in layers.enumerated() {
            guard layer.inWidth == currentWidth else {
                throw SkrrError(key: "projection", "layer \(index) expects width \(layer.inWidth), the encoder gives \(currentWidth)")
            }
            var out = try MatrixProduct.linear(current, rows: current.count / currentWidth, weight: layer.weight,
                                               outWidth: layer.outWidth, inWidth: currentWidth, bias: layer.bias)
            if index < layers.count - 1 {
                switch between {
                case .none: break
                case .geluTanh: MatrixProduct.activate(&out, .geluTanh)
                case .silu: for i in out.indices { out[i] = out[i] / (1 + expf(-out[i])) }
                }
            }
            current = out
            currentWidth = layer.outWidth
        }
        return current
    }
}
