/// Element types as spelled in safetensors headers. Names are matched exactly (case included):
/// the reference library accepts only these spellings, and so do we.
public enum DType: String, CaseIterable, Sendable, Hashable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }

    /// The weight types the compiler and runtime execute directly.
    public var isSupportedWeightType: Bool { self == .f32 || self == .f16 || self == .bf16 }

    /// Lower-case spelling used in the IR text form (`f32[64, 48]`).
    public var irName: String { rawValue.lowercased() }

    public init?(irName: String) {
        guard let match = DType.allCases.first(where: { $0.irName == irName }) else { return nil }
        self = match
    }
}

/// Product of a shape's dimensions, or nil if it overflows `Int` or a dimension is negative.
public func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dim in shape {
        guard dim >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        count = product
    }
    return count
}

/// `[64, 48]` — the way shapes are written in messages and in the IR.
public func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
