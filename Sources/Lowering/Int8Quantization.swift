import SkrrRuntime
import SkrrSupport

/// Symmetric int8 with one f32 scale per row (`--weight-dtype int8`): per output channel for a
/// linear weight `[out, in]`, per token for the embedding table `[vocab, d]`.
///
/// The rule, bit for bit (docs/runtime-format.md, "int8 tensors"):
/// - `amax` = the largest |w| of the row, `scale` = fl(amax / 127) in f32;
/// - `q` = w / scale in f32, rounded to the nearest integer, ties to even, clamped to ±127
///   (−128 is never stored, so the code is symmetric);
/// - the runtime's value of an element is fl(q · scale).
/// A row of zeros, or one whose `amax / 127` underflows to zero (|w| < 1.8e-43), stores scale 0
/// and all-zero codes (its values read back as 0). NaN or ±infinity anywhere in a row is an error
/// naming the tensor, the row and the column: there is no scale that represents them.
public enum Int8Quantization {
    public struct Quantized {
        /// Row-major int8 codes, as stored.
        public var codes: [Int8]
        /// One scale per row.
        public var scales: [Float]
    }

    /// Quantizes `rows × width` values stored as `from` (f32, f16 or bf16) in `source`.
    public static func quantize(_ source: UnsafeRawBufferPointer, from: WeightType, rows: Int, width: Int,
                                tensor: String) throws -> Quantized {
        precondition(!from.isScaled, "quantizing needs float values")
        guard source.count == rows * width * from.byteSize else {
            throw SkrrError(key: tensor, "\(from.rawValue)[\(rows), \(width)] needs \(rows * width * from.byteSize) bytes, the source holds \(source.count)")
        }
        var codes = [Int8](repeating: 0, count: rows * width)
        var scales = [Float](repeating: 0, count: rows)
        var row = [Float](repeating: 0, count: width)
        try row.withUnsafeMutableBufferPointer { values in
            for r in 0..<rows {
                let start = r * width * from.byteSize
                WeightConversion.toFloat(UnsafeRawBufferPointer(rebasing: source[start..<(start + width * from.byteSize)]),
                                         dtype: from, count: width, into: values.baseAddress!)
                var amax: Float = 0
                for (column, value) in values.enumerated() {
                    guard value.isFinite else {
                        throw SkrrError(key: tensor, "row \(r), column \(column) holds \(value); int8 needs finite weights (check the checkpoint, or store f32/f16/bf16)")
                    }
                    amax = max(amax, abs(value))
                }
                let scale = amax / 127
                guard scale > 0 else { continue }
                scales[r] = scale
                for column in 0..<width {
                    let q = (values[column] / scale).rounded(.toNearestOrEven)
                    codes[r * width + column] = Int8(min(127, max(-127, q)))
                }
            }
        }
        return Quantized(codes: codes, scales: scales)
    }

    /// The runtime's value of code `q` in a row of scale `scale`.
    @inline(__always) public static func value(_ q: Int8, scale: Float) -> Float { Float(q) * scale }
}
