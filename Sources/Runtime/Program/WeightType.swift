import SkrrSupport

/// The element types weights are stored and executed in. `int8` exists only in runtime files
/// (`--weight-dtype int8`): symmetric int8 with one f32 scale per row (per output channel of a
/// linear weight, per token of the embedding table), value = fl(q · scale); a checkpoint's I8
/// tensors carry no scales and are not weights.
public enum WeightType: String, Sendable, CaseIterable { case f32, f16, bf16, int8 }

/// The one bridge between safetensors dtypes (`DType`, what checkpoints and the IR declare) and
/// the types the runtime executes, so no caller matches them up by spelling.
extension WeightType {
    /// The weight type a checkpoint dtype runs as; nil for dtypes that cannot hold weights (I8
    /// included: without scales its values mean nothing).
    public init?(_ dtype: DType) {
        switch dtype {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        default: return nil
        }
    }

    /// The checkpoint dtype of the same element type.
    public var dtype: DType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .int8: return .i8
        }
    }

    /// Stored with a scale per row (`int8`): read through `WeightSource.scales(ofTensor:)`.
    public var isScaled: Bool { self == .int8 }

    /// Bytes per element.
    public var byteSize: Int { dtype.byteSize }
}
