#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Normalisations, activations and softmax over f32 rows, written to follow transformers'
/// formulas term by term (docs/architecture.md §3). The loops run 8 lanes at a time (`SIMD8<Float>`, which
/// the compiler lowers to the vector registers of the target) with a scalar-free tail: the tail
/// is padded into one more vector, so every element goes through the same arithmetic.
enum Elementwise {
    typealias Vector = SIMD8<Float>
    static let lanes = Vector.scalarCount

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// The last `count < lanes` elements as a vector, padded with `fill`.
    @inline(__always)
    static func loadTail(_ p: UnsafePointer<Float>, count: Int, fill: Float = 0) -> Vector {
        var v = Vector(repeating: fill)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    @inline(__always)
    static func storeTail(_ v: Vector, _ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    /// eˣ lane by lane, branch-free: Cody–Waite reduction x = n·ln2 + r (|r| ≤ ln2/2), Cephes'
    /// degree-6 polynomial for eʳ, 2ⁿ built in the exponent bits. Within ~1 ulp of `expf` for
    /// x ≥ −87; below that (masked scores: −greatestFiniteMagnitude) the result is exactly 0.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let clamped = x.clamped(lowerBound: Vector(repeating: -87), upperBound: Vector(repeating: 88))
        // Round to nearest by adding 1.5·2²³: the integer lands in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * (r * r) + r + 1
        let integer = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(shifted, to: SIMD8<UInt32>.self)) &- 0x4B40_0000
        let power = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
        var result = y * power
        result.replace(with: 0, where: x .< -87)
        return result
    }

    /// `dst += src`.
    static func add(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + lanes <= count {
            store(load(dst + i) + load(src + i), dst + i)
            i += lanes
        }
        while i < count { dst[i] += src[i]; i += 1 }
    }

    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, count: Int, _ term: (Vector) -> Vector) -> Float {
        var acc0 = Vector(), acc1 = Vector()
        var i = 0
        while i + 2 * lanes <= count {
            acc0 += term(load(p + i))
            acc1 += term(load(p + i + lanes))
            i += 2 * lanes
        }
        if i + lanes <= count { acc0 += term(load(p + i)); i += lanes }
        var total = (acc0 + acc1).sum()
        while i < count { total += term(Vector(repeating: p[i]))[0]; i += 1 }
        return total
    }

    /// T5 RMSNorm: `x * rsqrt(mean(x²) + eps) * w`, no mean subtraction, no bias.
    static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>, eps: Float,
                        out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width, dst = out + r * width
            let squares = sum(row, count: width) { $0 * $0 }
            let scale = 1 / (squares / Float(width) + eps).squareRoot()
            var i = 0
            while i + lanes <= width {
                store(load(weight + i) * (load(row + i) * scale), dst + i)
                i += lanes
            }
            while i < width { dst[i] = weight[i] * (row[i] * scale); i += 1 }
        }
    }

    /// LayerNorm with biased variance, as torch computes it.
    static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, eps: Float, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * width, dst = out + r * width
            let mean = sum(row, count: width) { $0 } / Float(width)
            let variance = sum(row, count: width) { ($0 - mean) * ($0 - mean) } / Float(width)
            let scale = 1 / (variance + eps).squareRoot()
            var i = 0
            while i + lanes <= width {
                var v = (load(row + i) - mean) * scale * load(weight + i)
                if let bias { v += load(bias + i) }
                store(v, dst + i)
                i += lanes
            }
            while i < width { dst[i] = (row[i] - mean) * scale * weight[i] + (bias?[i] ?? 0); i += 1 }
        }
    }

    /// One vector of the activation. GELU-tanh is `0.5·x·(1 + tanh u)` written as `x / (1 + e^(−2u))`
    /// (the same function); exact GELU keeps `erff`, lane by lane.
    @inline(__always)
    static func activation(_ x: Vector, _ kind: RuntimeActivation) -> Vector {
        switch kind {
        case .relu:
            return x.replacing(with: 0, where: x .< 0)
        case .gelu:
            var out = x
            for i in 0..<lanes { out[i] = 0.5 * x[i] * (1 + erff(x[i] * 0.70710678118654752)) }
            return out
        case .geluTanh:
            let c: Float = 0.7978845608028654  // sqrt(2/π)
            let u = c * (x + 0.044715 * x * x * x)
            return x / (1 + exp(-2 * u))
        case .quickGelu:
            return x / (1 + exp(-1.702 * x))
        }
    }

    static func activate(_ values: UnsafeMutablePointer<Float>, count: Int, _ kind: RuntimeActivation) {
        var i = 0
        while i + lanes <= count {
            store(activation(load(values + i), kind), values + i)
            i += lanes
        }
        if i < count {
            storeTail(activation(loadTail(values + i, count: count - i), kind), values + i, count: count - i)
        }
    }

    /// `values ← act(values) · gate`: a gated FFN's two branches combined.
    static func activateAndGate(_ values: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, count: Int,
                                _ kind: RuntimeActivation) {
        var i = 0
        while i + lanes <= count {
            store(activation(load(values + i), kind) * load(gate + i), values + i)
            i += lanes
        }
        if i < count {
            let rest = count - i
            storeTail(activation(loadTail(values + i, count: rest), kind) * loadTail(gate + i, count: rest), values + i,
                      count: rest)
        }
    }

    /// One row of attention scores before the softmax: `s·scale + bias`, then keys with
    /// `keep == 0` (padding) or after `lastKey` (causal) set to −greatestFiniteMagnitude.
    static func scoreRow(_ row: UnsafeMutablePointer<Float>, width: Int, scale: Float, bias: UnsafePointer<Float>?,
                         keep: UnsafePointer<Float>, lastKey: Int?) {
        let masked = -Float.greatestFiniteMagnitude
        var i = 0
        while i + lanes <= width {
            var v = load(row + i) * scale
            if let bias { v += load(bias + i) }
            v.replace(with: masked, where: load(keep + i) .== 0)
            store(v, row + i)
            i += lanes
        }
        while i < width {
            var v = row[i] * scale
            if let bias { v += bias[i] }
            row[i] = keep[i] == 0 ? masked : v
            i += 1
        }
        if let lastKey, lastKey + 1 < width {
            for k in (lastKey + 1)..<width { row[k] = masked }
        }
    }

    /// Softmax of each row in place; entries equal to `-.greatestFiniteMagnitude` are masked.
    static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let masked = -Float.greatestFiniteMagnitude
        for r in 0..<rows {
            let row = scores + r * width
            var maxima = Vector(repeating: masked)
            var i = 0
            while i + lanes <= width { maxima = pointwiseMax(maxima, load(row + i)); i += lanes }
            var maximum = maxima.max()
            while i < width { maximum = max(maximum, row[i]); i += 1 }
            var sums = Vector()
            i = 0
            while i + lanes <= width {
                let e = exp(load(row + i) - maximum)
                store(e, row + i)
                sums += e
                i += lanes
            }
            var total = sums.sum()
            if i < width {
                let rest = width - i
                let e = exp(loadTail(row + i, count: rest, fill: -.infinity) - maximum)  // padding lanes: exactly 0
                storeTail(e, row + i, count: rest)
                total += e.sum()
            }
            let inverse = 1 / total
            i = 0
            while i + lanes <= width { store(load(row + i) * inverse, row + i); i += lanes }
            while i < width { row[i] *= inverse; i += 1 }
        }
    }
}
