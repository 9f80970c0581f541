// The skrr runtime file (".skrr"), format versions 1 and 2 — reader.
//
// One self-contained file holds a compiled text encoder: the lowered program, its weights, its
// tokenizer and the pipeline preset it was compiled for. Full specification:
// docs/runtime-format.md; manifest schema: proto/manifest.proto. All integers little-endian.
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------------------
//        0     8  magic            89 53 4B 52 52 0D 0A 1A  ("\x89SKRR\r\n\x1a")
//        8     4  format_version   u32; this reader knows 1, 2 (int8 tensors) and 3 (a pipeline
//                                  file, PipelineRuntimeFile.swift) and refuses anything newer
//       12     4  header_size      u32; 64 in version 1
//       16     8  manifest_offset  u64; 64 (the manifest follows the header)
//       24     8  manifest_length  u64; bytes of the protobuf Manifest
//       32     8  manifest_xxh64   u64; XXH64 (seed 0) of the manifest bytes
//       40     8  data_offset      u64; start of the data section, a multiple of
//                                  Manifest.alignment, >= manifest end (zero padding between)
//       48     8  data_length      u64; = Manifest.data_size; the file ends exactly at
//                                  data_offset + data_length
//       56     8  header_xxh64     u64; XXH64 of bytes 0..<56
//       64     …  manifest         protobuf skrr.Manifest (proto/manifest.proto)
//   data_offset …  data section    every tensor (and large tokenizer file) at its own
//                                  `offset` from data_offset, a multiple of Manifest.alignment
//                                  (>= 64, a power of two); zero padding between them
//
// Every load checks: magic, version (newer → a clear "update" message), header size and
// checksum, every offset and length against the real file size, the manifest checksum, and the
// whole structure (dtypes, shapes against the model's hyper-parameters, every tensor reference,
// slot kinds). Tensor data is used in place from a read-only memory map (no copy). Per-tensor
// checksums (XXH64 of each tensor's bytes) are checked by `verify()` (`skrrc inspect --verify`).
// The tokenizer's files are read into memory at load, and their checksums are checked then.

import CManifest
import SkrrSupport

/// Constants of the container (see the table above).
public enum RuntimeFileFormat {
    public static let magic: [UInt8] = [0x89, 0x53, 0x4B, 0x52, 0x52, 0x0D, 0x0A, 0x1A]
    /// The newest version this reader knows.
    public static let version: UInt32 = SkrrRuntimeInfo.formatVersion
    /// A single-encoder file with int8 tensors (one without them is version 1).
    public static let int8Version: UInt32 = 2
    /// A pipeline file: several encoders, each a version 1 or 2 file inside (PipelineRuntimeFile).
    public static let pipelineVersion: UInt32 = 3
    public static let headerSize = 64
    public static let alignment = 64
    /// The byte range of each header field, for messages and tests.
    public static let fields: [(name: String, range: Range<Int>)] = [
        ("magic", 0..<8), ("format_version", 8..<12), ("header_size", 12..<16), ("manifest_offset", 16..<24),
        ("manifest_length", 24..<32), ("manifest_xxh64", 32..<40), ("data_offset", 40..<48),
        ("data_length", 48..<56), ("header_xxh64", 56..<64),
    ]
}

/// The fixed header, decoded.
public struct RuntimeFileHeader: Equatable, Sendable {
    public var version: UInt32
    public var headerSize: UInt32
    public var manifestOffset: UInt64
    public var manifestLength: UInt64
    public var manifestChecksum: UInt64
    public var dataOffset: UInt64
    public var dataLength: UInt64

    public init(version: UInt32, headerSize: UInt32, manifestOffset: UInt64, manifestLength: UInt64,
                manifestChecksum: UInt64, dataOffset: UInt64, dataLength: UInt64) {
        self.version = version
        self.headerSize = headerSize
        self.manifestOffset = manifestOffset
        self.manifestLength = manifestLength
        self.manifestChecksum = manifestChecksum
        self.dataOffset = dataOffset
        self.dataLength = dataLength
    }

    /// The 64 header bytes, header checksum included.
    public func encoded() -> [UInt8] {
        var bytes = RuntimeFileFormat.magic
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        put(version)
        put(headerSize)
        put(manifestOffset)
        put(manifestLength)
        put(manifestChecksum)
        put(dataOffset)
        put(dataLength)
        put(XXH64.hash(bytes))
        return bytes
    }
}

/// Where one stored tensor or tokenizer file lies, and its checksum.
public struct StoredExtent: Equatable, Sendable {
    /// Relative to the start of the data section.
    public var offset: Int
    public var length: Int
    public var checksum: UInt64
}

/// What `skrrc inspect` shows besides the program itself.
public struct RuntimeFileInfo: Sendable {
    public var fileSize: Int
    public var header: RuntimeFileHeader
    public var alignment: Int
    public var producer: String
    public var sourceModel: String
    public var passes: String
    public var paramsTotal: Int
    public var paramsKept: Int
    /// One per program tensor (same index).
    public var tensorExtents: [StoredExtent]
    /// One per program tensor: where an int8 tensor's row scales lie (nil for other dtypes).
    public var scaleExtents: [StoredExtent?]
    /// Tokenizer files: name, byte count, and where they lie (nil: inline in the manifest).
    public var tokenizerFiles: [(name: String, length: Int, extent: StoredExtent?)]
    public var presetName: String
    /// The output `skrrc run` produces when none is asked for.
    public var defaultOutput: OutputSelection
}

/// A loaded runtime file: the program, the preset, and the weights straight from the map.
public final class RuntimeFile: WeightSource, @unchecked Sendable {
    public let path: String
    public let program: EncoderProgram
    /// The pipeline preset stored at compile time.
    public let preset: PipelinePreset
    public let info: RuntimeFileInfo
    private let file: MappedFile
    private let dataStart: Int

    /// Maps and checks the file (header, manifest, structure). Weight checksums: `verify()`.
    /// A pipeline file (several encoders) is refused with the names of its encoders: it opens
    /// with `PipelineRuntimeFile`.
    public convenience init(path: String) throws {
        let file = try MappedFile(path: path)
        try self.init(file: file, image: 0..<file.count, path: path)
    }

    /// The runtime file whose bytes are `image` within `file`: the whole file, or one member of a
    /// pipeline file. Offsets inside it are relative to its first byte.
    convenience init(file: MappedFile, image: Range<Int>, path: String) throws {
        self.init(file: file, imageStart: image.lowerBound, decoded: try RuntimeFile.load(file.bytes(image), path: path), path: path)
    }

    /// A file already checked by `load` on the bytes from `imageStart` on.
    init(file: MappedFile, imageStart: Int, decoded: ManifestDecoder.Result, path: String) {
        self.path = path
        self.file = file
        dataStart = imageStart + Int(decoded.info.header.dataOffset)
        program = decoded.program
        preset = decoded.preset
        info = decoded.info
    }

    /// Runs every load-time check of `init(path:)` on a file image held in memory and returns the
    /// program it describes and where its tensors lie, so a fuzzer or a test can drive the loader
    /// without a file per input. `path` only names the image in messages; weight checksums are
    /// still `verify()`'s job.
    public static func validate(image bytes: UnsafeRawBufferPointer, path: String) throws
        -> (program: EncoderProgram, info: RuntimeFileInfo) {
        let loaded = try load(bytes, path: path)
        return (loaded.program, loaded.info)
    }

    /// Header, manifest checksum, manifest decoding and program validation, in that order.
    static func load(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ManifestDecoder.Result {
        let header = try RuntimeFile.readHeader(bytes, path: path)
        let manifestBytes = try checkedManifest(bytes, header: header, path: path)
        if header.version == RuntimeFileFormat.pipelineVersion {
            // A broken pipeline manifest is refused for what is wrong with it.
            let names = try PipelineRuntimeFile.decodeManifest(manifestBytes, header: header, fileSize: bytes.count, path: path).info.members.map(\.name)
            throw SkrrError(file: path, key: "header.format_version",
                            "is a pipeline file (format \(header.version)) holding several encoders (\(names.joined(separator: ", "))), not one encoder; "
                            + "run it whole (skrrc run FILE), pick one with --encoder NAME, or open it with PipelineRuntimeFile")
        }
        let decoded = try ManifestDecoder.decode(manifestBytes, header: header, file: bytes, path: path)
        try ProgramValidation.validate(decoded.program, file: path)
        return decoded
    }

    /// The manifest bytes the header points at, refused unless they hash to its checksum.
    static func checkedManifest(_ bytes: UnsafeRawBufferPointer, header: RuntimeFileHeader, path: String) throws -> UnsafeRawBufferPointer {
        let manifestStart = Int(header.manifestOffset), manifestEnd = manifestStart + Int(header.manifestLength)
        let manifestBytes = UnsafeRawBufferPointer(rebasing: bytes[manifestStart..<manifestEnd])
        let actual = XXH64.hash(manifestBytes)
        guard actual == header.manifestChecksum else {
            throw SkrrError(file: path, key: "manifest",
                            "checksum mismatch: header says xxh64 \(hex(header.manifestChecksum)), the \(header.manifestLength) manifest bytes hash to \(hex(actual)); the file is corrupt")
        }
        return manifestBytes
    }

    public func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer { data(info.tensorExtents[index]) }

    public func scales(ofTensor index: Int) -> UnsafeRawBufferPointer? { info.scaleExtents[index].map(data) }

    private func data(_ extent: StoredExtent) -> UnsafeRawBufferPointer {
        file.bytes((dataStart + extent.offset)..<(dataStart + extent.offset + extent.length))
    }

    /// Checks every tensor's checksum (the error lists every tensor that does not match), then
    /// loads the tokenizer and encodes a probe prompt with it.
    public func verify() throws {
        var problems: [String] = []
        for (index, extent) in info.tensorExtents.enumerated() {
            for (part, extent) in [("", extent), (" (row scales)", info.scaleExtents[index])] {
                guard let extent else { continue }
                let actual = XXH64.hash(data(extent))
                if actual != extent.checksum {
                    problems.append("'\(program.tensors[index].name)'\(part): expected xxh64 \(hex(extent.checksum)), got \(hex(actual)) (data bytes \(extent.offset)..<\(extent.offset + extent.length))")
                }
            }
        }
        if problems.isEmpty, let tokenizer = program.tokenizer {
            // The bytes match what was written; the tokenizer must also load and encode.
            try TokenizerLoading.check(tokenizer, vocabularySize: program.spec.vocabSize, padId: program.spec.padTokenId)
        }
        guard problems.isEmpty else {
            throw SkrrError(file: path, key: problems.count == 1 ? program.tensors.first(where: { problems[0].hasPrefix("'\($0.name)'") })?.name : nil,
                            "\(problems.count) of \(info.tensorExtents.count) tensors fail their checksum; the file is corrupt",
                            notes: problems)
        }
    }

    /// Decodes and checks the header (magic, version, size, checksum, every range).
    static func readHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> RuntimeFileHeader {
        let size = bytes.count
        guard size >= 8, Array(bytes[0..<8]) == RuntimeFileFormat.magic else {
            let found = Array(bytes.prefix(8)).map { hex2($0) }.joined(separator: " ")
            throw SkrrError(file: path, key: "header.magic",
                            "not a skrr runtime file: expected magic 89 53 4B 52 52 0D 0A 1A (\"\\x89SKRR\\r\\n\\x1a\"), got \(found.isEmpty ? "an empty file" : found)")
        }
        guard size >= 12 else {
            throw SkrrError(file: path, key: "header", "truncated: the file has \(size) bytes, the header alone needs \(RuntimeFileFormat.headerSize)")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        let version = u32(8)
        guard version <= RuntimeFileFormat.version else {
            throw SkrrError(file: path, key: "header.format_version",
                            "format version \(version) is newer than this runtime reads (version \(RuntimeFileFormat.version)); update skrrc / SkrrRuntime, or recompile the model with this skrrc")
        }
        guard version >= 1 else {
            throw SkrrError(file: path, key: "header.format_version", "format version 0 does not exist (expected \(RuntimeFileFormat.version)); the file is corrupt")
        }
        guard size >= RuntimeFileFormat.headerSize else {
            throw SkrrError(file: path, key: "header", "truncated: the file has \(size) bytes, the header alone needs \(RuntimeFileFormat.headerSize)")
        }
        let header = RuntimeFileHeader(version: version, headerSize: u32(12), manifestOffset: u64(16), manifestLength: u64(24),
                                       manifestChecksum: u64(32), dataOffset: u64(40), dataLength: u64(48))
        let stored = u64(56), actual = XXH64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<56]))
        guard stored == actual else {
            throw SkrrError(file: path, key: "header.header_xxh64",
                            "header checksum mismatch: stored \(hex(stored)), the header bytes hash to \(hex(actual)); the header is corrupt")
        }
        guard header.headerSize == UInt32(RuntimeFileFormat.headerSize) else {
            throw SkrrError(file: path, key: "header.header_size", "expected \(RuntimeFileFormat.headerSize), got \(header.headerSize)")
        }
        guard header.manifestOffset == UInt64(RuntimeFileFormat.headerSize) else {
            throw SkrrError(file: path, key: "header.manifest_offset", "expected \(RuntimeFileFormat.headerSize) (right after the header), got \(header.manifestOffset)")
        }
        let fileSize = UInt64(size)
        guard header.manifestLength > 0, header.manifestLength <= fileSize - header.manifestOffset else {
            throw SkrrError(file: path, key: "header.manifest_length",
                            "manifest bytes \(header.manifestOffset)..<\(header.manifestOffset &+ header.manifestLength) do not fit in the file's \(size) bytes (truncated file?)")
        }
        let manifestEnd = header.manifestOffset + header.manifestLength
        guard header.dataOffset >= manifestEnd, header.dataOffset <= fileSize else {
            throw SkrrError(file: path, key: "header.data_offset",
                            "expected an offset between the manifest end (\(manifestEnd)) and the file size (\(size)), got \(header.dataOffset) (truncated file?)")
        }
        guard header.dataOffset % UInt64(RuntimeFileFormat.alignment) == 0 else {
            throw SkrrError(file: path, key: "header.data_offset", "expected a multiple of \(RuntimeFileFormat.alignment), got \(header.dataOffset)")
        }
        guard header.dataLength == fileSize - header.dataOffset else {
            let expected = header.dataOffset.addingReportingOverflow(header.dataLength)
            throw SkrrError(file: path, key: "header.data_length",
                            "the file should be \(expected.overflow ? "more than 2^64" : String(expected.partialValue)) bytes (data section of \(header.dataLength) bytes at \(header.dataOffset)), but it has \(size)\(UInt64(size) < header.dataOffset &+ header.dataLength ? " (truncated)" : " (trailing bytes)")")
        }
        return header
    }
}

func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

func hex2(_ value: UInt8) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return digits.count == 1 ? "0" + digits : digits
}
