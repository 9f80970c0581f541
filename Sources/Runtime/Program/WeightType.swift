import SkrrSupport

/// The element types weights are stored and executed in.
public enum WeightType: String, Sendable, CaseIterable { case f32, f16, bf16 }

/// The one bridge between safetensors dtypes (`DType`, what checkpoints and the IR declare) and
/// the types the runtime executes, so no caller matches them up by spelling.
extension WeightType {
    /// The weight type a checkpoint dtype runs as; nil for dtypes that cannot hold weights.
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
        }
    }

    /// Bytes per element.
    public var byteSize: Int { dtype.byteSize }
}
