/// Cosine similarity of two rows, accumulated in f64 in index order (so every caller gets the
/// same bits for the same rows). Two zero rows are identical (1); one zero row is orthogonal (0).
func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    let denominator = (na * nb).squareRoot()
    return denominator > 0 ? dot / denominator : (na == nb ? 1 : 0)
}
