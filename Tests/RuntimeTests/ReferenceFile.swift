import SkrrFrontend
import SkrrSupport
import SkrrTestSupport

/// Reads a fixture's `reference.safetensors` (outputs computed by transformers, see
/// scripts/make_fixtures.py).
struct ReferenceFile {
    let file: SafeTensorsFile

    init(fixture: String) throws {
        file = try SafeTensorsFile(path: TestPaths.fixture(fixture + "/reference.safetensors"))
    }

    func has(_ name: String) -> Bool { file.entry(named: name) != nil }

    func floats(_ name: String) throws -> [Float] {
        guard let entry = file.entry(named: name), entry.dtype == .f32 else { throw SkrrError(key: name, "no f32 tensor") }
        let bytes = file.data(of: entry)
        return (0..<entry.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    }

    func shape(_ name: String) -> [Int] { file.entry(named: name)?.shape ?? [] }

    /// An I64 `[rows, columns]` tensor as rows of Int32.
    func rows(_ name: String) throws -> [[Int32]] {
        guard let entry = file.entry(named: name), entry.dtype == .i64, entry.shape.count == 2 else {
            throw SkrrError(key: name, "no 2-d i64 tensor")
        }
        let bytes = file.data(of: entry)
        let columns = entry.shape[1]
        return (0..<entry.shape[0]).map { r in
            (0..<columns).map { c in Int32(bytes.loadUnaligned(fromByteOffset: (r * columns + c) * 8, as: Int64.self)) }
        }
    }

    func metadata(_ key: String) -> String? { file.metadata.first(where: { $0.key == key })?.value }
}

/// ‖actual − expected‖∞ / max(‖expected‖∞, tiny): the relative error parity is measured in.
func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
    precondition(actual.count == expected.count, "length \(actual.count) vs \(expected.count)")
    var worst: Float = 0, scale: Float = 0
    for i in actual.indices {
        worst = max(worst, abs(actual[i] - expected[i]))
        scale = max(scale, abs(expected[i]))
    }
    return worst / max(scale, 1e-30)
}
