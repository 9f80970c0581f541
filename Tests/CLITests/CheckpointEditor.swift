import Foundation

/// Test-only safetensors editing with Foundation, independent of the reader under test: load a
/// checkpoint, change its tensor list, write it back with a valid layout.
struct CheckpointEditor {
    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var data: Data

        /// An f32 tensor with values from a fixed formula (no randomness needed).
        static func f32(_ name: String, _ shape: [Int], scale: Float) -> Tensor {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { scale * Float(($0 * 7919) % 23 - 11) / 11 }
            return Tensor(name: name, dtype: "F32", shape: shape, data: values.withUnsafeBytes { Data($0) })
        }
    }

    var tensors: [Tensor]

    init(tensors: [Tensor]) { self.tensors = tensors }

    init(path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let dataStart = 8 + headerLength
        tensors = header.keys.filter { $0 != "__metadata__" }.sorted().map { name in
            let entry = header[name] as! [String: Any]
            let offsets = entry["data_offsets"] as! [Int]
            return Tensor(name: name, dtype: entry["dtype"] as! String, shape: entry["shape"] as! [Int],
                          data: bytes.subdata(in: (dataStart + offsets[0])..<(dataStart + offsets[1])))
        }
    }

    func write(to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [offset, offset + tensor.data.count]]
            offset += tensor.data.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for tensor in tensors { out.append(tensor.data) }
        try out.write(to: URL(fileURLWithPath: path))
    }

    mutating func remove(_ name: String) {
        precondition(tensors.contains { $0.name == name }, "no tensor \(name)")
        tensors.removeAll { $0.name == name }
    }

    mutating func modify(_ name: String, _ change: (inout Tensor) -> Void) {
        let index = tensors.firstIndex { $0.name == name }!
        change(&tensors[index])
    }
}

/// Edits a JSON file in place.
func editJSON(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    change(&object)
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
}

func writeText(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}
