import SkrrSupport

/// One tensor of a safetensors file, validated: its bytes lie inside the file and their count
/// matches its dtype and shape.
public struct TensorEntry: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let elementCount: Int
    /// Absolute byte offsets within the file (the header's `data_offsets` plus the data start).
    public let byteRange: Range<Int>

    public init(name: String, dtype: DType, shape: [Int], elementCount: Int, byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = elementCount
        self.byteRange = byteRange
    }
}

/// A memory-mapped `.safetensors` file whose header has been checked against the rules of the
/// reference `safetensors` library, and a few stricter ones:
///
/// - an 8-byte little-endian header length, not 0, at most 100 000 000, inside the file;
/// - a UTF-8 JSON object header starting with `{`, padded at the end with spaces (0x20) only,
///   with no duplicate keys;
/// - an optional `__metadata__` object of string to string;
/// - every other member an object with exactly `dtype` (exact spelling), `shape` (non-negative
///   integers) and `data_offsets` (`[begin, end]`, begin ≤ end), whose byte count matches;
/// - tensors tiling the data section exactly: no gap, no overlap, no trailing bytes.
///
/// Tensor data is never copied: `data(of:)` points into the map.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The reference library's limit on the header length.
    public static let maxHeaderLength = 100_000_000

    /// The path as given; used in every message.
    public let path: String
    public let file: MappedFile
    /// Sorted by byte offset (ties: by end, then name).
    public let entries: [TensorEntry]
    /// The `__metadata__` members, in file order.
    public let metadata: [(key: String, value: String)]
    private let index: [String: Int]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let parsed = try SafeTensorsHeaderParser(path: path, bytes: file.bytes).parse()
        entries = parsed.entries
        metadata = parsed.metadata
        var index: [String: Int] = [:]
        index.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() { index[entry.name] = position }
        self.index = index
    }

    /// Checks a safetensors byte image held in memory by the same rules as `init(path:)` and
    /// returns its tensors in file order, so a fuzzer or a test can drive the header checks
    /// without a file per input. `path` only names the image in messages.
    public static func validate(image bytes: UnsafeRawBufferPointer, path: String) throws -> [TensorEntry] {
        try SafeTensorsHeaderParser(path: path, bytes: bytes).parse().entries
    }

    /// The tensor called `name`, or nil.
    public func entry(named name: String) -> TensorEntry? {
        guard let position = index[name] else { return nil }
        return entries[position]
    }

    /// The bytes of a tensor of this file. Valid as long as this object lives.
    public func data(of entry: TensorEntry) -> UnsafeRawBufferPointer {
        file.bytes(entry.byteRange)
    }
}

/// Validates a safetensors byte image. Separate from the file so that every check reads the same
/// `path` for its messages.
struct SafeTensorsHeaderParser {
    let path: String
    let bytes: UnsafeRawBufferPointer

    struct Result {
        var entries: [TensorEntry]
        var metadata: [(key: String, value: String)]
    }

    private struct RawTensor {
        var name: String
        var dtype: DType
        var shape: [Int]
        var elementCount: Int
        var begin: Int
        var end: Int
    }

    private func fail(_ message: String) -> SkrrError {
        SkrrError(file: path, message)
    }

    private func fail(_ key: String?, _ message: String) -> SkrrError {
        SkrrError(file: path, key: key, message)
    }

    func parse() throws -> Result {
        let fileSize = bytes.count
        guard fileSize >= 8 else {
            throw fail("file is \(fileSize) bytes, too short for the 8-byte header length")
        }
        let rawLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard rawLength != 0 else {
            throw fail("header length is 0; expected a JSON header of at least 2 bytes (file is \(fileSize) bytes)")
        }
        guard rawLength <= UInt64(SafeTensorsFile.maxHeaderLength) else {
            throw fail(
                "header length \(rawLength) exceeds the \(SafeTensorsFile.maxHeaderLength)-byte limit "
                    + "(file is \(fileSize) bytes)")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= fileSize - 8 else {
            throw fail(
                "header length \(headerLength) runs past the end of the file: the header would end at byte "
                    + "\(8 + headerLength) but the file is \(fileSize) bytes")
        }
        let dataStart = 8 + headerLength
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let root = try parseHeaderJSON(header)

        var metadata: [(key: String, value: String)] = []
        var tensors: [RawTensor] = []
        for member in root {
            if member.key == "__metadata__" {
                metadata = try parseMetadata(member.value)
            } else {
                tensors.append(try parseTensor(name: member.key, member.value))
            }
        }

        let dataSize = fileSize - dataStart
        tensors.sort { lhs, rhs in
            if lhs.begin != rhs.begin { return lhs.begin < rhs.begin }
            if lhs.end != rhs.end { return lhs.end < rhs.end }
            return lhs.name < rhs.name
        }
        var cursor = 0
        var previous: String?
        for tensor in tensors {
            if tensor.begin > cursor {
                let expected = previous.map { "the previous tensor '\($0)' ends at \(cursor)" }
                    ?? "the first tensor must begin at 0"
                throw fail(
                    tensor.name,
                    "gap of \(tensor.begin - cursor) bytes before tensor '\(tensor.name)': it begins at data "
                        + "offset \(tensor.begin) but \(expected)")
            }
            if tensor.begin < cursor, let previous {
                throw fail(
                    tensor.name,
                    "tensor '\(tensor.name)' overlaps '\(previous)': it begins at data offset \(tensor.begin) "
                        + "but '\(previous)' ends at \(cursor)")
            }
            if tensor.end > dataSize {
                throw fail(
                    tensor.name,
                    "tensor '\(tensor.name)' ends at byte \(tensor.end) but the data section has \(dataSize) "
                        + "bytes (file truncated?)")
            }
            cursor = tensor.end
            previous = tensor.name
        }
        if cursor < dataSize {
            let after = previous.map { "after the last tensor '\($0)'" } ?? "after a header that lists no tensors"
            throw fail(
                previous,
                "\(dataSize - cursor) trailing bytes \(after): the data section has \(dataSize) bytes, "
                    + "tensors cover \(cursor)")
        }

        let entries = tensors.map { tensor in
            TensorEntry(
                name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, elementCount: tensor.elementCount,
                byteRange: (dataStart + tensor.begin)..<(dataStart + tensor.end))
        }
        return Result(entries: entries, metadata: metadata)
    }

    /// UTF-8, starts with `{`, only spaces after the closing brace, strict JSON object.
    private func parseHeaderJSON(_ header: UnsafeRawBufferPointer) throws -> [(key: String, value: JSONValue)] {
        if let bad = firstInvalidUTF8Offset(header) {
            throw fail(
                "header is not valid UTF-8: byte 0x\(hex(header[bad])) at header offset \(bad) "
                    + "(file offset \(8 + bad))")
        }
        guard header[0] == UInt8(ascii: "{") else {
            throw fail("header must be a JSON object starting with '{', found \(describe(header[0])) at its start")
        }
        var end = header.count
        while end > 0 && header[end - 1] == 0x20 { end -= 1 }
        let json = UnsafeRawBufferPointer(rebasing: header[0..<end])
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch let error as SkrrError {
            throw SkrrError(file: path, key: duplicateKey(in: error.message), "header: \(error.message)")
        }
        let last = json[json.count - 1]
        guard last == UInt8(ascii: "}") else {
            throw fail(
                "header has \(describe(last)) after the JSON object; only spaces (0x20) may pad the header")
        }
        guard let members = value.objectMembers else {
            throw fail("header must be a JSON object, got \(value.typeName)")
        }
        return members
    }

    /// The parser reports a duplicate as `duplicate key "name"`; recover the name so the error can
    /// name the tensor in its key too.
    private func duplicateKey(in message: String) -> String? {
        let marker = "duplicate key \""
        guard let range = message.firstRange(of: marker), message.hasSuffix("\"") else { return nil }
        let name = message[range.upperBound..<message.index(before: message.endIndex)]
        return String(name)
    }

    private func parseMetadata(_ value: JSONValue) throws -> [(key: String, value: String)] {
        guard let members = value.objectMembers else {
            throw fail("__metadata__", "expected an object of string to string, got \(value.typeName)")
        }
        return try members.map { member in
            guard let text = member.value.stringValue else {
                throw fail(
                    "__metadata__",
                    "value of '\(member.key)' is \(member.value.typeName), expected a string")
            }
            return (member.key, text)
        }
    }

    private static let fieldNames = ["dtype", "shape", "data_offsets"]

    private func parseTensor(name: String, _ value: JSONValue) throws -> RawTensor {
        guard let members = value.objectMembers else {
            throw fail(name, "expected an object with dtype, shape and data_offsets, got \(value.typeName)")
        }
        for member in members where !Self.fieldNames.contains(member.key) {
            throw fail(name, "unknown field '\(member.key)'; expected only dtype, shape and data_offsets")
        }
        for field in Self.fieldNames where value[field] == nil {
            throw fail(name, "missing '\(field)'")
        }

        let dtypeValue = value["dtype"]!
        guard let dtypeName = dtypeValue.stringValue else {
            throw fail(name, "dtype is \(dtypeValue.typeName), expected a string such as \"F32\"")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            if let match = DType.allCases.first(where: { $0.rawValue.uppercased() == dtypeName.uppercased() }) {
                throw fail(
                    name, "unknown dtype '\(dtypeName)'; dtype names are case-sensitive, did you mean '\(match.rawValue)'?")
            }
            throw fail(
                name,
                "unknown dtype '\(dtypeName)'; expected one of "
                    + DType.allCases.map(\.rawValue).joined(separator: ", "))
        }

        let shapeValue = value["shape"]!
        guard let dims = shapeValue.arrayValue else {
            throw fail(name, "shape is \(shapeValue.typeName), expected an array of non-negative integers")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for (axis, dim) in dims.enumerated() {
            shape.append(try nonNegativeInteger(dim, tensor: name, what: "shape dimension \(axis)"))
        }

        let offsetsValue = value["data_offsets"]!
        guard let offsets = offsetsValue.arrayValue else {
            throw fail(name, "data_offsets is \(offsetsValue.typeName), expected [begin, end]")
        }
        guard offsets.count == 2 else {
            throw fail(name, "data_offsets has \(offsets.count) entries, expected 2 ([begin, end])")
        }
        let begin = try nonNegativeInteger(offsets[0], tensor: name, what: "data_offsets begin")
        let end = try nonNegativeInteger(offsets[1], tensor: name, what: "data_offsets end")
        guard begin <= end else {
            throw fail(name, "data_offsets [\(begin), \(end)] begin after end")
        }

        guard let elementCount = checkedElementCount(shape) else {
            throw fail(name, "shape \(formatShape(shape)) has more elements than fit in 64 bits")
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw fail(
                name,
                "shape \(formatShape(shape)) \(dtype.rawValue) needs \(elementCount) × \(dtype.byteSize) bytes, "
                    + "more than fit in 64 bits")
        }
        guard byteCount == end - begin else {
            throw fail(
                name,
                "shape \(formatShape(shape)) \(dtype.rawValue) needs \(byteCount) bytes, "
                    + "data_offsets give \(end - begin) ([\(begin), \(end)])")
        }
        return RawTensor(
            name: name, dtype: dtype, shape: shape, elementCount: elementCount, begin: begin, end: end)
    }

    private func nonNegativeInteger(_ value: JSONValue, tensor: String, what: String) throws -> Int {
        guard case let .number(text) = value else {
            throw fail(tensor, "\(what) is \(value.typeName), expected a non-negative integer")
        }
        if let integer = value.intValue {
            guard integer >= 0 else {
                throw fail(tensor, "\(what) is \(text), expected a non-negative integer")
            }
            return integer
        }
        let digitsOnly = text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        if digitsOnly {
            throw fail(tensor, "\(what) is \(text), larger than the largest 64-bit integer")
        }
        throw fail(tensor, "\(what) is \(text), expected a non-negative integer")
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 16 ? "0" + digits : digits
    }

    private func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x0A: return "a newline (0x0A)"
        case 0x0D: return "a carriage return (0x0D)"
        case 0x09: return "a tab (0x09)"
        case 0x21..<0x7F: return "'\(Character(Unicode.Scalar(byte)))' (0x\(hex(byte)))"
        default: return "byte 0x\(hex(byte))"
        }
    }
}

/// Offset of the first byte that does not start a well-formed UTF-8 sequence (no overlong forms,
/// no surrogates, nothing past U+10FFFF), or nil.
func firstInvalidUTF8Offset(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        let lead = bytes[i]
        if lead < 0x80 {
            i += 1
            continue
        }
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return i
        }
        guard i + length <= n else { return i }
        let second = bytes[i + 1]
        guard second >= low && second <= high else { return i }
        for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return i }
        i += length
    }
    return nil
}
