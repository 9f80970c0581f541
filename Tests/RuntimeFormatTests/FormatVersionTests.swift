import Foundation
import SkrrRuntime
import Testing

/// The header of a file the writer really produced, read byte by byte against the values
/// docs/runtime-format.md documents, not through the reader (which shares its constants with
/// the writer, so comparing those would only compare the code with itself).
@Suite struct RuntimeFormatVersionTests {
    /// `count` bytes at `offset` as an unsigned little-endian integer (the format's byte order).
    func littleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    @Test func writtenHeaderHasTheDocumentedMagicAndVersion() throws {
        let path = try Compiled.file("t5-v1_1")
        let bytes = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        try #require(bytes.count >= 64, "file of \(bytes.count) bytes has no complete header")
        #expect(Array(bytes[0..<8]) == [0x89, 0x53, 0x4B, 0x52, 0x52, 0x0D, 0x0A, 0x1A], "magic")
        // A file without int8 tensors stays version 1, which every runtime reads.
        #expect(littleEndian(bytes, at: 8, count: 4) == 1, "format_version")
        #expect(littleEndian(bytes, at: 12, count: 4) == 64, "header_size")
        #expect(littleEndian(bytes, at: 16, count: 8) == 64, "manifest_offset")
    }

    @Test func int8FilesAreVersion2() throws {
        let path = try Compiled.file("t5-v1_1", dtype: .int8)
        let bytes = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        #expect(littleEndian(bytes, at: 8, count: 4) == 2, "format_version")
        // The runtime reads one version newer: pipeline files (3), which hold several encoders.
        #expect(SkrrRuntimeInfo.formatVersion == 3)
    }
}
