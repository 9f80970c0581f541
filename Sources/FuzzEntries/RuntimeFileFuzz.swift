import SkrrRuntime
import SkrrSupport

extension FuzzTargets {
    /// The runtime-file loader (`skrrc run FILE.skrr`, `inspect`): header, manifest checksum,
    /// protobuf manifest decoding, program validation; then what `skrrc run` does next with a
    /// file the loader accepted: load its tokenizer, encode a prompt, run the interpreter. A
    /// program validation lets through must run without trapping (it may still refuse the ids).
    ///
    /// Both checksums are recomputed over the mutated bytes first: otherwise nearly every mutation
    /// would stop at the header checksum and the decoder behind it would never be fuzzed. The
    /// checksum checks themselves are covered by Tests/RuntimeFormatTests/BrokenFileTests.swift.
    ///
    /// A pipeline file (format 3) goes through `PipelineRuntimeFile`'s checks, then every member
    /// it accepted runs one forward pass the same way.
    static let runtimeFile = FuzzTarget(
        name: "runtime-file",
        summary: "runtime file header + manifest + validation (RuntimeFile or PipelineRuntimeFile), then one forward pass per encoder",
        maxLength: 393_216
    ) { input, check in
        let image = withValidChecksums(input)
        if image.withUnsafeBytes(PipelineRuntimeFile.isPipelineImage) {
            let members = try image.withUnsafeBytes { try PipelineRuntimeFile.validate(image: $0, path: "fuzz.skrr").members }
            for member in members {
                try forwardPass(image, program: member.program, dataStart: member.dataStart, extents: member.info.tensorExtents, check)
            }
            return
        }
        let (program, info) = try image.withUnsafeBytes { try RuntimeFile.validate(image: $0, path: "fuzz.skrr") }
        try forwardPass(image, program: program, dataStart: Int(info.header.dataOffset), extents: info.tensorExtents, check)
    }

    /// What `skrrc run` does with a program the loader accepted: its tokenizer encodes a prompt
    /// and the interpreter runs it on weights read from `image`.
    static func forwardPass(_ image: [UInt8], program: EncoderProgram, dataStart: Int, extents: [StoredExtent],
                            _ check: FuzzCheck) throws {
        var ids: [Int32] = [0, 1, 2]
        if program.tokenizer != nil {
            let tokenizer = try TokenizerLoading.load(program.tokenizer, padId: program.spec.padTokenId)
            ids = try tokenizer.encode("a red cube on a glass table", maxLength: 16)
        }
        let weights = ImageWeights(image, dataStart: dataStart, extents: extents)
        let output = try Interpreter(program: program, weights: weights).run(TokenBatch(ids: [ids]))
        try check(output.hidden.count == output.batch * output.length * output.width,
                  "hidden states hold \(output.hidden.count) values for \(output.batch) × \(output.length) × \(output.width)")
    }

    /// The input with `manifest_xxh64` and `header_xxh64` set to what its bytes hash to (when the
    /// header and manifest range are present at all).
    static func withValidChecksums(_ input: [UInt8]) -> [UInt8] {
        guard input.count >= RuntimeFileFormat.headerSize else { return input }
        var bytes = input
        func u64(_ at: Int) -> UInt64 { bytes[at..<(at + 8)].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        func put(_ value: UInt64, at: Int) { for k in 0..<8 { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) } }
        let length = u64(24)
        if length <= UInt64(bytes.count - RuntimeFileFormat.headerSize) {
            let start = RuntimeFileFormat.headerSize
            put(XXH64.hash(Array(bytes[start..<(start + Int(length))])), at: 32)
        }
        put(XXH64.hash(Array(bytes[0..<56])), at: 56)
        return bytes
    }
}

/// The tensors of a runtime-file image held in memory, as the interpreter reads them from a map.
final class ImageWeights: WeightSource, @unchecked Sendable {
    /// A copy of the image with a stable address (an array's storage is not guaranteed one
    /// outside `withUnsafeBytes`), freed with this object.
    private let image: UnsafeMutableRawBufferPointer
    private let dataStart: Int
    private let extents: [StoredExtent]

    init(_ bytes: [UInt8], dataStart: Int, extents: [StoredExtent]) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
        image = copy
        self.dataStart = dataStart
        self.extents = extents
    }

    deinit { image.deallocate() }

    func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer {
        let extent = extents[index]
        return UnsafeRawBufferPointer(rebasing: image[(dataStart + extent.offset)..<(dataStart + extent.offset + extent.length)])
    }
}
