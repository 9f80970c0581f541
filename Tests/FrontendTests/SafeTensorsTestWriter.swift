import Foundation
import SkrrSupport

/// A tiny safetensors writer for tests. It builds byte arrays rather than files, so each broken
/// case is a small mutation of a valid image: an edited header string re-wrapped with its correct
/// length, or a raw byte edit of the finished image.
struct STTensor {
    var name: String
    /// Raw spelling, so tests can write names the reader must refuse.
    var dtype: String
    var shape: [Int]
    var data: [UInt8]

    init(_ name: String, _ dtype: String, _ shape: [Int], data: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// A tensor whose bytes are 0, 1, 2, ... so misplaced reads show.
    init(_ name: String, _ dtype: DType, _ shape: [Int], seed: UInt8 = 0) {
        let count = shape.reduce(1, *) * dtype.byteSize
        self.init(name, dtype.rawValue, shape, data: (0..<count).map { UInt8(truncatingIfNeeded: $0 + Int(seed)) })
    }
}

enum SafeTensorsTestWriter {
    /// The JSON header the reference writer would produce (without its padding), tensors in the
    /// order given and data laid out back to back in that order.
    static func header(_ tensors: [STTensor], metadata: [(String, String)]? = nil) -> String {
        var members: [String] = []
        if let metadata {
            let body = metadata.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",")
            members.append("\"__metadata__\":{\(body)}")
        }
        var offset = 0
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append(
                "\(quote(tensor.name)):{\"dtype\":\(quote(tensor.dtype)),\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(offset + tensor.data.count)]}")
            offset += tensor.data.count
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// 8-byte little-endian length, header bytes, data.
    static func image(headerBytes: [UInt8], data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { bytes.append(contentsOf: $0) }
        return bytes + headerBytes + data
    }

    /// An image whose header is `header`, optionally padded with spaces to a multiple of
    /// `alignment` bytes as the reference writer does.
    static func image(header: String, data: [UInt8], alignment: Int = 1) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % alignment != 0 { headerBytes.append(0x20) }
        return image(headerBytes: headerBytes, data: data)
    }

    static func image(_ tensors: [STTensor], metadata: [(String, String)]? = nil, alignment: Int = 8) -> [UInt8] {
        image(header: header(tensors, metadata: metadata), data: tensors.flatMap(\.data), alignment: alignment)
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `image` with its header-length field replaced.
    static func withHeaderLength(_ image: [UInt8], _ length: UInt64) -> [UInt8] {
        var copy = image
        var little = length.littleEndian
        withUnsafeBytes(of: &little) { copy.replaceSubrange(0..<8, with: $0) }
        return copy
    }
}

/// A scratch directory removed when the value goes away.
final class SafeTensorsTempDir {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("skrrc-safetensors-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` inside the directory and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }
}
