import SkrrRuntime
import SkrrSupport

extension FuzzTargets {
    /// The runtime-file loader (`skrrc run FILE.skrr`, `inspect`): header, manifest checksum,
    /// protobuf manifest decoding, program validation, then the stored tokenizer loaded and used.
    ///
    /// Both checksums are recomputed over the mutated bytes first: otherwise nearly every mutation
    /// would stop at the header checksum and the decoder behind it would never be fuzzed. The
    /// checksum checks themselves are covered by Tests/RuntimeFormatTests/BrokenFileTests.swift.
    static let runtimeFile = FuzzTarget(
        name: "runtime-file", summary: "runtime file header + manifest + validation (RuntimeFile)", maxLength: 262_144
    ) { input, check in
        let image = withValidChecksums(input)
        let program = try image.withUnsafeBytes { try RuntimeFile.validate(image: $0, path: "fuzz.skrr") }
        // A validated file's tokenizer is what `skrrc run` loads next.
        if program.tokenizer != nil {
            let tokenizer = try TokenizerLoading.load(program.tokenizer)
            _ = try tokenizer.encode("a red cube on a glass table", maxLength: 32)
        }
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
