import SkrrIR
import SkrrRuntime
import SkrrSupport

/// The weights of a model in which some tensors are computed rather than stored (LaCo's merged
/// layers). Stored tensors come from a caller-supplied source; merged tensors are computed once,
/// in declaration order (so nested merges find their inputs), and owned here.
///
/// The arithmetic is fixed so results are reproducible bit for bit: inputs are widened to f32,
/// `out = base`, then `out += delta_k − base` for each delta in the order written, and the sum is
/// rounded once (to nearest, ties to even) to the declared dtype.
public final class DerivedWeights: WeightSource, @unchecked Sendable {
    private var views: [UnsafeRawBufferPointer] = []
    private var owned: [UnsafeMutableRawBufferPointer] = []

    /// `stored(index, declaration)` returns the bytes of each stored tensor; it is not called for
    /// merged ones.
    public init(model: ModelIR, stored: (Int, TensorDecl) throws -> UnsafeRawBufferPointer) throws {
        var indexByName: [String: Int] = [:]
        for (index, tensor) in model.tensors.enumerated() {
            switch tensor.origin {
            case .file:
                views.append(try stored(index, tensor))
            case let .merge(base, deltas):
                let inputs = try ([base] + deltas).map { name -> (UnsafeRawBufferPointer, TensorDecl) in
                    guard let found = indexByName[name] else {
                        throw SkrrError(key: tensor.name, "merge input %\(name) is not declared before it")
                    }
                    return (views[found], model.tensors[found])
                }
                let buffer = try DerivedWeights.merge(tensor, inputs: inputs)
                owned.append(buffer)
                views.append(UnsafeRawBufferPointer(buffer))
            }
            indexByName[tensor.name] = index
        }
    }

    deinit { for buffer in owned { buffer.deallocate() } }

    public func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer { views[index] }

    static func merge(_ tensor: TensorDecl, inputs: [(UnsafeRawBufferPointer, TensorDecl)]) throws -> UnsafeMutableRawBufferPointer {
        let count = tensor.elementCount
        guard let target = WeightType(tensor.dtype) else {
            throw SkrrError(key: tensor.name, "dtype \(tensor.dtype.irName) cannot be computed (f32, f16, bf16 can)")
        }
        let widened = try inputs.map { bytes, decl -> [Float] in
            guard decl.shape == tensor.shape, bytes.count == decl.byteCount else {
                throw SkrrError(key: tensor.name, "merge input %\(decl.name) has shape \(decl.shape), expected \(tensor.shape)")
            }
            guard let type = WeightType(decl.dtype) else {
                throw SkrrError(key: tensor.name, "merge input %\(decl.name) has dtype \(decl.dtype.irName); f32, f16, bf16 can be merged")
            }
            let f32 = try StorageConversion.convert(bytes, from: type, to: .f32, count: count, tensor: decl.name)
            return f32.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        var sum = widened[0]
        let base = widened[0]
        for delta in widened.dropFirst() {
            for i in 0..<count { sum[i] += delta[i] - base[i] }
        }
        if let bad = sum.firstIndex(where: { !$0.isFinite }) {
            throw SkrrError(key: tensor.name, "the merge overflows: element \(bad) is \(sum[bad])")
        }
        let bytes = try sum.withUnsafeBytes {
            try StorageConversion.convert($0, from: .f32, to: target, count: count, tensor: tensor.name)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count])
    }
}
