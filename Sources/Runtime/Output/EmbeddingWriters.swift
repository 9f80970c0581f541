import SkrrSupport

/// A named float32 or int64 array to save.
public struct NamedArray: Sendable {
    public enum Values: Sendable {
        case float32([Float])
        case int64([Int64])
    }
    public var name: String
    public var shape: [Int]
    public var values: Values
    public init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Writers for embeddings a diffusion pipeline can load: NumPy `.npy` (one float32 array) and
/// safetensors (several arrays under diffusers' argument names). Both are written atomically.
public enum EmbeddingWriters {
    /// NPY format 1.0: magic, header dict padded so data starts at a multiple of 64 bytes.
    public static func npyBytes(_ array: NamedArray) -> [UInt8] {
        let descr: String
        switch array.values {
        case .float32: descr = "<f4"
        case .int64: descr = "<i8"
        }
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        appendValues(array.values, to: &bytes)
        return bytes
    }

    /// A safetensors file with the arrays in the given order and sorted-key header JSON.
    public static func safetensorsBytes(_ arrays: [NamedArray], metadata: [(String, String)] = []) -> [UInt8] {
        var entries: [(String, String)] = []
        var offset = 0
        for array in arrays {
            let size: Int
            let dtype: String
            switch array.values {
            case let .float32(v): size = v.count * 4; dtype = "F32"
            case let .int64(v): size = v.count * 8; dtype = "I64"
            }
            let shape = array.shape.map(String.init).joined(separator: ",")
            entries.append((array.name, "{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}"))
            offset += size
        }
        if !metadata.isEmpty {
            let body = metadata.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",")
            entries.append(("__metadata__", "{" + body + "}"))
        }
        var json = "{" + entries.sorted { $0.0 < $1.0 }.map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
        while (8 + json.utf8.count) % 8 != 0 { json += " " }
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes += $0 }
        bytes += Array(json.utf8)
        for array in arrays { appendValues(array.values, to: &bytes) }
        return bytes
    }

    static func appendValues(_ values: NamedArray.Values, to bytes: inout [UInt8]) {
        switch values {
        case let .float32(v): v.withUnsafeBytes { bytes += $0 }
        case let .int64(v): v.withUnsafeBytes { bytes += $0 }
        }
    }

    static func jsonString(_ text: String) -> String { JSONValue.quote(text) }
}
