#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SkrrEvaluation
import SkrrSupport

/// The denoiser projection runs through OpenBLAS and the interpreter's vector GELU; its values
/// must be those of the textbook formula (Linear → GELU-tanh → Linear), computed here in double
/// precision, within f32 rounding.
@Suite struct ProjectionArithmeticTests {
    /// Deterministic values in [-scale, scale).
    static func values(_ count: Int, seed: UInt64, scale: Double) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53) * 2 * scale - scale)
        }
    }

    static func reference(_ rows: [Float], width: Int, layers: [Projection.Layer], gelu: Bool) -> [Double] {
        var current = rows.map(Double.init), currentWidth = width
        for (index, layer) in layers.enumerated() {
            let count = current.count / currentWidth
            var out = [Double](repeating: 0, count: count * layer.outWidth)
            for r in 0..<count {
                for o in 0..<layer.outWidth {
                    var sum = Double(layer.bias?[o] ?? 0)
                    for i in 0..<currentWidth { sum += current[r * currentWidth + i] * Double(layer.weight[o * currentWidth + i]) }
                    if gelu && index < layers.count - 1 {
                        let cube: Double = sum * sum * sum
                        let inner: Double = 0.7978845608028654 * (sum + 0.044715 * cube)
                        sum = 0.5 * sum * (1 + tanh(inner))
                    }
                    out[r * layer.outWidth + o] = sum
                }
            }
            current = out
            currentWidth = layer.outWidth
        }
        return current
    }

    @Test(arguments: [true, false])
    func twoLayersMatchTheFormulaInDoublePrecision(_ gelu: Bool) throws {
        let rows = 37, width = 48, hidden = 72, out = 40
        let layers = [
            Projection.Layer(weight: Self.values(hidden * width, seed: 1, scale: 0.3), bias: Self.values(hidden, seed: 2, scale: 1),
                             outWidth: hidden, inWidth: width),
            Projection.Layer(weight: Self.values(out * hidden, seed: 3, scale: 0.3), bias: nil, outWidth: out, inWidth: hidden),
        ]
        let input = Self.values(rows * width, seed: 4, scale: 2)
        let projected = try Projection(layers: layers, geluBetween: gelu).apply(input, width: width)
        let expected = Self.reference(input, width: width, layers: layers, gelu: gelu)
        #expect(projected.count == rows * out)
        let scale = expected.map(abs).max()!
        let worst = zip(projected, expected).map { abs(Double($0) - $1) }.max()!
        #expect(worst <= 1e-5 * scale, "max |error| \(worst) against max |value| \(scale)")
    }

    @Test func aWidthMismatchNamesTheLayer() throws {
        let layer = Projection.Layer(weight: [Float](repeating: 0, count: 12), bias: nil, outWidth: 3, inWidth: 4)
        #expect(throws: SkrrError.self) { try Projection(layers: [layer, layer], geluBetween: true).apply([Float](repeating: 1, count: 8), width: 4) }
        do {
            _ = try Projection(layers: [layer, layer], geluBetween: true).apply([Float](repeating: 1, count: 8), width: 4)
        } catch let error as SkrrError {
            #expect(error.description.contains("layer 1 expects width 4"), "\(error)")
        }
    }
}
