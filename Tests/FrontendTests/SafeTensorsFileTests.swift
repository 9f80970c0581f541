import Foundation
import SkrrSupport
import Testing

@testable import SkrrFrontend

/// The valid file every broken case starts from: metadata, an F32 [2, 3] tensor 'a' at data
/// bytes 0..<24 and an F16 [4] tensor 'b' at 24..<32, header unpadded so edits stay simple.
private enum Base {
    static let tensors = [STTensor("a", .f32, [2, 3]), STTensor("b", .f16, [4], seed: 100)]
    static let header = SafeTensorsTestWriter.header(tensors, metadata: [("format", "pt")])
    static let data = tensors.flatMap(\.data)
    static let image = SafeTensorsTestWriter.image(header: header, data: data)

    /// The base image with `old` replaced by `new` in its header (which must contain `old` once),
    /// re-wrapped with the right header length; `data` replaces the data section when given.
    static func edited(_ old: String, _ new: String, data: [UInt8]? = nil) -> [UInt8] {
        let parts = header.components(separatedBy: old)
        precondition(parts.count == 2, "'\(old)' must occur exactly once in the base header")
        return SafeTensorsTestWriter.image(header: parts.joined(separator: new), data: data ?? self.data)
    }

    static func edited(_ edits: [(String, String)], data: [UInt8]? = nil) -> [UInt8] {
        var text = header
        for (old, new) in edits {
            precondition(text.components(separatedBy: old).count == 2, "'\(old)' must occur once")
            text = text.replacingOccurrences(of: old, with: new)
        }
        return SafeTensorsTestWriter.image(header: text, data: data ?? self.data)
    }

    static func withHeader(_ text: String, data: [UInt8]? = nil) -> [UInt8] {
        SafeTensorsTestWriter.image(header: text, data: data ?? self.data)
    }

    /// The base image with `byte` inserted into the header right after `marker`.
    static func insertingHeaderByte(_ byte: UInt8, after marker: String) -> [UInt8] {
        var headerBytes = Array(header.utf8)
        let markerBytes = Array(marker.utf8)
        let at = (0...(headerBytes.count - markerBytes.count)).first {
            Array(headerBytes[$0..<($0 + markerBytes.count)]) == markerBytes
        }!
        headerBytes.insert(byte, at: at + markerBytes.count)
        return SafeTensorsTestWriter.image(headerBytes: headerBytes, data: data)
    }
}

struct BrokenSafeTensors: CustomTestStringConvertible, Sendable {
    var kind: String
    var bytes: [UInt8]
    /// A substring the message must contain.
    var message: String
    /// The tensor or JSON key the error must name (nil: it names none).
    var key: String?

    init(_ kind: String, _ bytes: [UInt8], _ message: String, key: String? = nil) {
        self.kind = kind
        self.bytes = bytes
        self.message = message
        self.key = key
    }

    var testDescription: String { kind }
}

private let headerLength = Base.header.utf8.count
private let fileSize = 8 + headerLength + 32

/// At least one case per rule of the reader; each is a small mutation of `Base.image`.
private let brokenFiles: [BrokenSafeTensors] = [
    // Rule 1: the length field itself.
    BrokenSafeTensors("empty file", [], "file is 0 bytes, too short for the 8-byte header length"),
    BrokenSafeTensors(
        "truncated inside the header length", Array(Base.image.prefix(5)),
        "file is 5 bytes, too short for the 8-byte header length"),
    // Rule 2: the length's value.
    BrokenSafeTensors(
        "truncated right after the header length", Array(Base.image.prefix(8)),
        "header length \(headerLength) runs past the end of the file: the header would end at byte "
            + "\(8 + headerLength) but the file is 8 bytes"),
    BrokenSafeTensors(
        "truncated inside the header", Array(Base.image.prefix(8 + 20)),
        "header length \(headerLength) runs past the end of the file: the header would end at byte "
            + "\(8 + headerLength) but the file is 28 bytes"),
    BrokenSafeTensors(
        "header length zero", SafeTensorsTestWriter.withHeaderLength(Base.image, 0),
        "header length is 0; expected a JSON header of at least 2 bytes (file is \(fileSize) bytes)"),
    BrokenSafeTensors(
        "header length huge", SafeTensorsTestWriter.withHeaderLength(Base.image, UInt64.max),
        "header length 18446744073709551615 exceeds the 100000000-byte limit (file is \(fileSize) bytes)"),
    BrokenSafeTensors(
        "header length one over the reference limit",
        SafeTensorsTestWriter.withHeaderLength(Base.image, 100_000_001),
        "header length 100000001 exceeds the 100000000-byte limit"),
    BrokenSafeTensors(
        "header length beyond the file", SafeTensorsTestWriter.withHeaderLength(Base.image, UInt64(headerLength + 33)),
        "header length \(headerLength + 33) runs past the end of the file: the header would end at byte "
            + "\(fileSize + 1) but the file is \(fileSize) bytes"),
    // Rule 3: UTF-8 JSON object, spaces only after it.
    BrokenSafeTensors(
        "invalid UTF-8 in a tensor name", Base.insertingHeaderByte(0xFF, after: "\"a"),
        "header is not valid UTF-8: byte 0xFF at header offset"),
    BrokenSafeTensors(
        "overlong UTF-8 in a tensor name", Base.insertingHeaderByte(0xC0, after: "\"a"),
        "header is not valid UTF-8: byte 0xC0"),
    BrokenSafeTensors(
        "not JSON", Base.edited("\"format\":\"pt\"", "\"format\":pt"),
        "header: invalid JSON at line 1, column 27: unexpected character 'p'"),
    BrokenSafeTensors(
        "JSON array instead of an object", Base.withHeader("[1, 2]", data: []),
        "header must be a JSON object starting with '{', found '[' (0x5B) at its start"),
    BrokenSafeTensors(
        "JSON string instead of an object", Base.withHeader("\"a\"", data: []),
        "header must be a JSON object starting with '{', found '\"' (0x22)"),
    BrokenSafeTensors(
        "leading space before the object", Base.withHeader(" " + Base.header),
        "header must be a JSON object starting with '{', found byte 0x20 at its start"),
    BrokenSafeTensors(
        "trailing garbage after the JSON object", Base.withHeader(Base.header + "xyz"),
        "header: invalid JSON at line 1, column \(headerLength + 1): unexpected data after the JSON value"),
    BrokenSafeTensors(
        "trailing newline after the JSON object", Base.withHeader(Base.header + "\n  "),
        "header has a newline (0x0A) after the JSON object; only spaces (0x20) may pad the header"),
    BrokenSafeTensors(
        "unterminated JSON object", Base.withHeader(String(Base.header.dropLast())),
        "header: invalid JSON"),
    BrokenSafeTensors(
        "duplicate tensor name", Base.edited("\"b\":{", "\"a\":{"), "duplicate key \"a\"", key: "a"),
    // Rule 4: __metadata__.
    BrokenSafeTensors(
        "metadata value not a string", Base.edited("\"format\":\"pt\"", "\"format\":1"),
        "value of 'format' is a number, expected a string", key: "__metadata__"),
    BrokenSafeTensors(
        "metadata not an object", Base.edited("{\"format\":\"pt\"}", "[\"pt\"]"),
        "expected an object of string to string, got an array", key: "__metadata__"),
    // Rule 5: tensor members.
    BrokenSafeTensors(
        "tensor not an object", Base.edited("{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}", "[24,32]"),
        "expected an object with dtype, shape and data_offsets, got an array", key: "b"),
    BrokenSafeTensors(
        "unknown dtype", Base.edited("\"F16\"", "\"F33\""),
        "unknown dtype 'F33'; expected one of BOOL, U8, I8", key: "b"),
    BrokenSafeTensors(
        "lower-case dtype", Base.edited("\"F32\"", "\"f32\""),
        "unknown dtype 'f32'; dtype names are case-sensitive, did you mean 'F32'?", key: "a"),
    BrokenSafeTensors(
        "dtype not a string", Base.edited("\"F32\"", "32"),
        "dtype is a number, expected a string such as \"F32\"", key: "a"),
    BrokenSafeTensors(
        "missing dtype", Base.edited("\"dtype\":\"F16\",", ""), "missing 'dtype'", key: "b"),
    BrokenSafeTensors(
        "missing shape", Base.edited("\"shape\":[2,3],", ""), "missing 'shape'", key: "a"),
    BrokenSafeTensors(
        "missing data_offsets", Base.edited(",\"data_offsets\":[0,24]", ""), "missing 'data_offsets'", key: "a"),
    BrokenSafeTensors(
        "unknown field", Base.edited("\"shape\":[4],", "\"shape\":[4],\"offset\":0,"),
        "unknown field 'offset'; expected only dtype, shape and data_offsets", key: "b"),
    BrokenSafeTensors(
        "shape not an array", Base.edited("[2,3]", "\"2x3\""),
        "shape is a string, expected an array of non-negative integers", key: "a"),
    BrokenSafeTensors(
        "negative dimension", Base.edited("[2,3]", "[-2,3]"),
        "shape dimension 0 is -2, expected a non-negative integer", key: "a"),
    BrokenSafeTensors(
        "fractional dimension", Base.edited("[2,3]", "[2.5,3]"),
        "shape dimension 0 is 2.5, expected a non-negative integer", key: "a"),
    BrokenSafeTensors(
        "integral dimension written as a float", Base.edited("[2,3]", "[2,3.0]"),
        "shape dimension 1 is 3.0, expected a non-negative integer", key: "a"),
    BrokenSafeTensors(
        "dimension beyond 64 bits", Base.edited("[2,3]", "[99999999999999999999,3]"),
        "shape dimension 0 is 99999999999999999999, larger than the largest 64-bit integer", key: "a"),
    BrokenSafeTensors(
        "dimension not a number", Base.edited("[2,3]", "[2,null]"),
        "shape dimension 1 is null, expected a non-negative integer", key: "a"),
    BrokenSafeTensors(
        "data_offsets not an array", Base.edited("[0,24]", "\"0-24\""),
        "data_offsets is a string, expected [begin, end]", key: "a"),
    BrokenSafeTensors(
        "data_offsets with three entries", Base.edited("[0,24]", "[0,24,32]"),
        "data_offsets has 3 entries, expected 2 ([begin, end])", key: "a"),
    BrokenSafeTensors(
        "negative data offset", Base.edited("[24,32]", "[-8,32]"),
        "data_offsets begin is -8, expected a non-negative integer", key: "b"),
    BrokenSafeTensors(
        "data offset begin after end", Base.edited("[0,24]", "[24,0]"),
        "data_offsets [24, 0] begin after end", key: "a"),
    // Rule 6: sizes.
    BrokenSafeTensors(
        "element count overflow", Base.edited("[2,3]", "[4611686018427387904,4]"),
        "shape [4611686018427387904, 4] has more elements than fit in 64 bits", key: "a"),
    BrokenSafeTensors(
        "byte count overflow", Base.edited("[2,3]", "[2305843009213693952,2]"),
        "shape [2305843009213693952, 2] F32 needs 4611686018427387904 × 4 bytes, more than fit in 64 bits",
        key: "a"),
    BrokenSafeTensors(
        "byte size mismatch", Base.edited("[2,3]", "[2,2]"),
        "shape [2, 2] F32 needs 16 bytes, data_offsets give 24 ([0, 24])", key: "a"),
    BrokenSafeTensors(
        "F16 tensor declared F32", Base.edited("\"F16\"", "\"F32\""),
        "shape [4] F32 needs 16 bytes, data_offsets give 8", key: "b"),
    // Rule 7: tiling.
    BrokenSafeTensors(
        "gap before the first tensor", Base.edited([("[0,24]", "[4,28]"), ("[24,32]", "[28,36]")], data: Base.data + [0, 0, 0, 0]),
        "gap of 4 bytes before tensor 'a': it begins at data offset 4 but the first tensor must begin at 0",
        key: "a"),
    BrokenSafeTensors(
        "gap between tensors", Base.edited("[24,32]", "[28,36]", data: Base.data + [0, 0, 0, 0]),
        "gap of 4 bytes before tensor 'b': it begins at data offset 28 but the previous tensor 'a' ends at 24",
        key: "b"),
    BrokenSafeTensors(
        "overlapping tensors", Base.edited("[24,32]", "[20,28]", data: Array(Base.data.prefix(28))),
        "tensor 'b' overlaps 'a': it begins at data offset 20 but 'a' ends at 24", key: "b"),
    BrokenSafeTensors(
        "zero-size tensor inside another",
        Base.edited("\"b\":{", "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},\"b\":{"),
        "tensor 'z' overlaps 'a'", key: "z"),
    BrokenSafeTensors(
        "trailing bytes after the last tensor", Base.withHeader(Base.header, data: Base.data + [1, 2, 3, 4]),
        "4 trailing bytes after the last tensor 'b': the data section has 36 bytes, tensors cover 32", key: "b"),
    BrokenSafeTensors(
        "data bytes but no tensors", Base.withHeader("{}", data: [1, 2]),
        "2 trailing bytes after a header that lists no tensors"),
    BrokenSafeTensors(
        "data offsets past the end", Base.edited([("[4]", "[1000]"), ("[24,32]", "[24,2024]")]),
        "tensor 'b' ends at byte 2024 but the data section has 32 bytes", key: "b"),
    BrokenSafeTensors(
        "truncated inside the data", Array(Base.image.dropLast(3)),
        "tensor 'b' ends at byte 32 but the data section has 29 bytes (file truncated?)", key: "b"),
]

@Suite struct SafeTensorsFileTests {
    @Test func brokenCorpusHasManyDistinctKinds() {
        #expect(brokenFiles.count >= 22)
        #expect(Set(brokenFiles.map(\.kind)).count == brokenFiles.count)
        #expect(Set(brokenFiles.map(\.bytes)).count == brokenFiles.count)
    }

    @Test func baseImageIsValid() throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("base.safetensors", Base.image)
        let file = try SafeTensorsFile(path: path)
        #expect(file.entries.map(\.name) == ["a", "b"])
    }

    @Test(arguments: brokenFiles)
    func refusesBrokenFile(_ broken: BrokenSafeTensors) throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("broken.safetensors", broken.bytes)
        let error = #expect(throws: SkrrError.self) { try SafeTensorsFile(path: path) }
        guard let error else { return }
        #expect(error.file == path)
        #expect(error.key == broken.key)
        #expect(
            error.message.contains(broken.message),
            "message \"\(error.message)\" lacks \"\(broken.message)\"")
        #expect(error.description.hasPrefix(path + ": "))
    }

    @Test func missingFileIsAnError() throws {
        let dir = try SafeTensorsTempDir()
        let path = dir.path + "/absent.safetensors"
        let error = #expect(throws: SkrrError.self) { try SafeTensorsFile(path: path) }
        #expect(error?.file == path)
        #expect(error?.message.contains("cannot open") == true)
    }

    @Test func readsF32F16BF16() throws {
        let tensors = [
            STTensor("enc.w32", .f32, [2, 3], seed: 1),
            STTensor("enc.w16", .f16, [5], seed: 50),
            STTensor("enc.wb16", .bf16, [3, 1], seed: 200),
        ]
        let image = SafeTensorsTestWriter.image(tensors, metadata: [("format", "pt")])
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("model.safetensors", image)
        let file = try SafeTensorsFile(path: path)

        let headerLength = Int(image[0]) | Int(image[1]) << 8
        let dataStart = 8 + headerLength
        #expect(dataStart % 8 == 0, "the writer pads like the reference")
        #expect(file.path == path)
        #expect(
            file.entries == [
                TensorEntry(
                    name: "enc.w32", dtype: .f32, shape: [2, 3], elementCount: 6,
                    byteRange: dataStart..<(dataStart + 24)),
                TensorEntry(
                    name: "enc.w16", dtype: .f16, shape: [5], elementCount: 5,
                    byteRange: (dataStart + 24)..<(dataStart + 34)),
                TensorEntry(
                    name: "enc.wb16", dtype: .bf16, shape: [3, 1], elementCount: 3,
                    byteRange: (dataStart + 34)..<(dataStart + 40)),
            ])
        for tensor in tensors {
            let entry = try #require(file.entry(named: tensor.name))
            #expect(Array(file.data(of: entry)) == tensor.data)
        }
        #expect(file.entry(named: "missing") == nil)
        #expect(file.entry(named: "__metadata__") == nil)
        #expect(file.metadata.map(\.key) == ["format"])
        #expect(file.metadata.map(\.value) == ["pt"])
    }

    @Test func entriesAreSortedByOffsetNotHeaderOrder() throws {
        // Header lists 'late' first; its data comes second.
        let header =
            "{\"late\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]},"
            + "\"early\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}"
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("order.safetensors", SafeTensorsTestWriter.image(header: header, data: [1, 2, 3, 4, 5]))
        let file = try SafeTensorsFile(path: path)
        #expect(file.entries.map(\.name) == ["early", "late"])
        #expect(Array(file.data(of: file.entry(named: "late")!)) == [4, 5])
        #expect(Array(file.data(of: file.entry(named: "early")!)) == [1, 2, 3])
    }

    @Test func zeroSizeTensorsAreAllowedAndOrderedDeterministically() throws {
        let tensors = [
            STTensor("empty.start", .f32, [0, 3]),
            STTensor("w", .f32, [2]),
            STTensor("z.second", .bf16, [4, 0]),
            STTensor("a.first", .f16, [0]),
            STTensor("v", .u8, [3]),
            STTensor("empty.end", .i64, [0]),
        ]
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("zero.safetensors", SafeTensorsTestWriter.image(tensors))
        let file = try SafeTensorsFile(path: path)
        // (begin, end, name): the two empties at offset 8 sort by name.
        #expect(file.entries.map(\.name) == ["empty.start", "w", "a.first", "z.second", "v", "empty.end"])
        let empty = try #require(file.entry(named: "z.second"))
        #expect(empty.elementCount == 0)
        #expect(empty.shape == [4, 0])
        #expect(empty.byteRange.isEmpty)
        #expect(file.data(of: empty).count == 0)
        #expect(Array(file.data(of: file.entry(named: "v")!)) == tensors[4].data)
    }

    @Test func scalarTensorHasOneElement() throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("scalar.safetensors", SafeTensorsTestWriter.image([STTensor("s", .f64, [])]))
        let entry = try #require(try SafeTensorsFile(path: path).entry(named: "s"))
        #expect(entry.shape == [])
        #expect(entry.elementCount == 1)
        #expect(entry.byteRange.count == 8)
    }

    @Test func metadataKeepsFileOrder() throws {
        let metadata = [("zeta", "1"), ("alpha", "two"), ("mid", ""), ("ünï\"code", "välue\n")]
        let image = SafeTensorsTestWriter.image([STTensor("t", .f32, [1])], metadata: metadata)
        let dir = try SafeTensorsTempDir()
        let file = try SafeTensorsFile(path: try dir.write("meta.safetensors", image))
        #expect(file.metadata.map(\.key) == metadata.map(\.0))
        #expect(file.metadata.map(\.value) == metadata.map(\.1))
    }

    @Test(arguments: [0, 1, 7, 100])
    func headerPaddedWithSpaces(padding: Int) throws {
        let tensors = [STTensor("t", .bf16, [2, 2])]
        let header = SafeTensorsTestWriter.header(tensors) + String(repeating: " ", count: padding)
        let image = SafeTensorsTestWriter.image(header: header, data: tensors[0].data)
        let dir = try SafeTensorsTempDir()
        let file = try SafeTensorsFile(path: try dir.write("pad.safetensors", image))
        let entry = try #require(file.entry(named: "t"))
        #expect(entry.byteRange.lowerBound == 8 + header.utf8.count)
        #expect(Array(file.data(of: entry)) == tensors[0].data)
    }

    @Test(arguments: ["{}", "{}   ", "{ }"])
    func emptyHeaderWithNoDataIsValid(header: String) throws {
        let dir = try SafeTensorsTempDir()
        let path = try dir.write("empty.safetensors", SafeTensorsTestWriter.image(header: header, data: []))
        let file = try SafeTensorsFile(path: path)
        #expect(file.entries.isEmpty)
        #expect(file.metadata.isEmpty)
    }

    @Test func metadataOnlyIsValid() throws {
        let dir = try SafeTensorsTempDir()
        let image = SafeTensorsTestWriter.image([], metadata: [("k", "v")])
        let file = try SafeTensorsFile(path: try dir.write("meta-only.safetensors", image))
        #expect(file.entries.isEmpty)
        #expect(file.metadata.map(\.key) == ["k"])
    }

    @Test func unusualTensorNamesRoundTrip() throws {
        let names = ["text_model.encoder.layers.0.self_attn.q_proj.weight", "naïve ✓", "quote\"d", ""]
        let tensors = names.enumerated().map { STTensor($0.element, .u8, [1], seed: UInt8($0.offset)) }
        let dir = try SafeTensorsTempDir()
        let file = try SafeTensorsFile(path: try dir.write("names.safetensors", SafeTensorsTestWriter.image(tensors)))
        for tensor in tensors {
            let entry = try #require(file.entry(named: tensor.name))
            #expect(Array(file.data(of: entry)) == tensor.data)
        }
    }

    /// Random byte edits and truncations of a valid image: each either loads, with every range
    /// inside the file and tiling its data, or throws a SkrrError naming the file; none traps.
    @Test func randomMutationsNeverTrap() throws {
        let dir = try SafeTensorsTempDir()
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let interesting: [UInt8] = Array("{}[],:\"0123456789-.e ".utf8) + [0x00, 0x80, 0xFF]
        var loaded = 0
        for round in 0..<600 {
            var bytes = Base.image
            for _ in 0..<(1 + next(3)) {
                let at = next(bytes.count)
                bytes[at] = next(2) == 0 ? UInt8(next(256)) : interesting[next(interesting.count)]
            }
            if next(4) == 0 { bytes = Array(bytes.prefix(next(bytes.count + 1))) }
            let path = try dir.write("fuzz\(round).safetensors", bytes)
            do {
                let file = try SafeTensorsFile(path: path)
                loaded += 1
                var end = file.entries.first?.byteRange.lowerBound ?? bytes.count
                for entry in file.entries {
                    #expect(entry.byteRange.lowerBound == end)
                    #expect(entry.byteRange.count == entry.elementCount * entry.dtype.byteSize)
                    end = entry.byteRange.upperBound
                }
                #expect(end == bytes.count)
            } catch let error as SkrrError {
                #expect(error.file == path)
                #expect(!error.message.isEmpty)
            }
        }
        #expect(loaded < 600)
    }

    @Test func utf8Validator() {
        func check(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { firstInvalidUTF8Offset($0) } }
        #expect(check(Array("plain ✓ 𝄞 é".utf8)) == nil)
        #expect(check([0x61, 0x80]) == 1)  // lone continuation
        #expect(check([0xC1, 0x81]) == 0)  // overlong
        #expect(check([0xE0, 0x80, 0x80]) == 0)  // overlong
        #expect(check([0xED, 0xA0, 0x80]) == 0)  // surrogate
        #expect(check([0xF4, 0x90, 0x80, 0x80]) == 0)  // beyond U+10FFFF
        #expect(check([0x61, 0xE2, 0x9C]) == 1)  // truncated
        #expect(check([0xE2, 0x28, 0xA1]) == 0)  // bad continuation
    }
}
