/// A dot product in double precision, the yardstick every GEMM test measures f32 results
/// against: `start + Σ product(p)` for p in 0..<count, and the sum of the terms' magnitudes (the
/// scale f32 summation error grows with; it stays a small multiple of 2^-24 of it).
struct ExactDot {
    var sum: Double
    var magnitude: Double

    init(start: Double = 0, count: Int, _ product: (Int) -> Double) {
        sum = start
        magnitude = abs(start)
        for p in 0..<count {
            let term = product(p)
            sum += term
            magnitude += abs(term)
        }
    }

    /// |value − sum| relative to the magnitude.
    func relativeError(_ value: Float) -> Double { abs(sum - Double(value)) / max(magnitude, 1e-30) }
}
