// A pipeline file (format version 3): the container of RuntimeFile.swift whose manifest holds
// no encoder of its own but `pipeline`: the kind ("sd3", "flux") and, for each encoder, where its
// complete runtime file (format 1 or 2) lies in the data section. docs/runtime-format.md,
// "Pipeline files".
//
// Loading checks the outer header and manifest as strictly as a single file's (checksums, every
// range against the real size, alignment, no overlap, no single-encoder field), then each member
// with exactly the checks a file of its own gets, on its own byte range, and finally that the
// members form the pipeline the kind names (PipelineRoles) and were compiled with its preset.
// Messages about a member name the file and the member: "out.skrr (encoder text_encoder_3)".

import CManifest
import SkrrSupport

/// What `skrrc inspect` shows of a pipeline file besides its members.
public struct PipelineFileInfo: Sendable {
    public var fileSize: Int
    public var header: RuntimeFileHeader
    public var alignment: Int
    public var producer: String
    public var sourceModel: String
    public var passes: String
    public var paramsTotal: Int
    public var paramsKept: Int
    /// Each member's bytes within the data section; `checksum` is its header checksum.
    public var members: [(name: String, extent: StoredExtent)]
}

/// A loaded pipeline file: every member as a `RuntimeFile` over the one shared map.
public final class PipelineRuntimeFile: @unchecked Sendable {
    public let path: String
    public let kind: PipelineKind
    public let roles: PipelineRoles
    /// In the file's (diffusers') order.
    public let members: [(name: String, file: RuntimeFile)]
    public let info: PipelineFileInfo

    /// More members than any pipeline has is a corrupt file, not a pipeline.
    public static let maxMembers = 8

    /// Maps and checks the file and every member (header, manifest, structure). Weight checksums:
    /// `verify()`.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let loaded = try Self.load(file.bytes, path: path)
        self.path = path
        kind = loaded.kind
        roles = loaded.roles
        info = loaded.info
        let dataStart = Int(loaded.info.header.dataOffset)
        members = zip(loaded.info.members, loaded.decoded).map { member, decoded in
            let start = dataStart + member.extent.offset
            return (member.name, RuntimeFile(file: file, imageStart: start, decoded: decoded, path: Self.memberPath(path, member.name)))
        }
    }

    /// Whether `path` starts like a pipeline file (the magic and format version 3): how `skrrc
    /// run` and `inspect` choose between this and `RuntimeFile`. Anything else, including an
    /// unreadable or corrupt file, answers false and is left to `RuntimeFile`'s messages.
    public static func isPipelineFile(_ path: String) -> Bool {
        guard let file = try? MappedFile(path: path) else { return false }
        return isPipelineImage(file.bytes)
    }

    /// Whether `bytes` start with the magic and format version 3 (the same test on an image held
    /// in memory, e.g. a fuzz input).
    public static func isPipelineImage(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 12 && Array(bytes[0..<8]) == RuntimeFileFormat.magic
            && UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == RuntimeFileFormat.pipelineVersion
    }

    /// One member as `validate(image:path:)` returns it: `dataStart` is where its data section
    /// begins in the whole image (its tensor extents are relative to that).
    public struct ValidatedMember {
        public var name: String
        public var program: EncoderProgram
        public var info: RuntimeFileInfo
        public var dataStart: Int
    }

    /// Every load-time check of `init(path:)` on an image held in memory (fuzzing, tests).
    public static func validate(image bytes: UnsafeRawBufferPointer, path: String) throws -> (members: [ValidatedMember], info: PipelineFileInfo) {
        let loaded = try load(bytes, path: path)
        let members = zip(loaded.info.members, loaded.decoded).map { member, decoded in
            ValidatedMember(name: member.name, program: decoded.program, info: decoded.info,
                            dataStart: Int(loaded.info.header.dataOffset) + member.extent.offset + Int(decoded.info.header.dataOffset))
        }
        return (members, loaded.info)
    }

    /// The member named `name` (`--encoder`), refused with the names there are.
    public func member(named name: String) throws -> RuntimeFile {
        guard let found = members.first(where: { $0.name == name }) else {
            throw SkrrError(file: path, key: "--encoder \(name)", "this \(kind.rawValue) pipeline file holds \(members.map(\.name).joined(separator: ", "))")
        }
        return found.file
    }

    /// Checks every member's tensor checksums and tokenizer; the error lists each member that fails.
    public func verify() throws {
        var problems: [String] = []
        for member in members {
            do { try member.file.verify() } catch let error as SkrrError { problems.append(error.description) }
        }
        guard problems.isEmpty else {
            throw SkrrError(file: path, "\(problems.count) of \(members.count) encoders fail verification; the file is corrupt", notes: problems)
        }
    }

    static func memberPath(_ path: String, _ name: String) -> String { "\(path) (encoder \(name))" }

    // MARK: loading

    struct Loaded {
        var kind: PipelineKind
        var roles: PipelineRoles
        var info: PipelineFileInfo
        var decoded: [ManifestDecoder.Result]
    }

    static func load(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Loaded {
        let header = try RuntimeFile.readHeader(bytes, path: path)
        guard header.version == RuntimeFileFormat.pipelineVersion else {
            throw SkrrError(file: path, key: "header.format_version",
                            "expected \(RuntimeFileFormat.pipelineVersion) (a pipeline file), got \(header.version): this file holds one encoder; open it with RuntimeFile")
        }
        let (kind, info) = try decodeManifest(try RuntimeFile.checkedManifest(bytes, header: header, path: path), header: header,
                                              fileSize: bytes.count, path: path)
        let data = UnsafeRawBufferPointer(rebasing: bytes[Int(header.dataOffset)...])
        var decoded: [ManifestDecoder.Result] = []
        for (index, member) in info.members.enumerated() {
            let image = UnsafeRawBufferPointer(rebasing: data[member.extent.offset..<(member.extent.offset + member.extent.length)])
            let key = "manifest.pipeline.members[\(index)]"
            let actual = XXH64.hash(UnsafeRawBufferPointer(rebasing: image[0..<RuntimeFileFormat.headerSize]))
            guard actual == member.extent.checksum else {
                throw SkrrError(file: path, key: "\(key).header_checksum",
                                "the member '\(member.name)' starts with a header hashing to \(hex(actual)), the manifest says \(hex(member.extent.checksum)); the file is corrupt")
            }
            let memberPath = memberPath(path, member.name)
            let version = UInt32(littleEndian: image.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard version < RuntimeFileFormat.pipelineVersion else {
                throw SkrrError(file: memberPath, key: "header.format_version",
                                "a pipeline file's member holds one encoder (format 1 or 2), got format \(version)")
            }
            let result = try RuntimeFile.load(image, path: memberPath)
            guard result.preset.name == kind.rawValue else {
                throw SkrrError(file: memberPath, key: "manifest.preset.name",
                                "expected '\(kind.rawValue)' (the pipeline's kind), got '\(result.preset.name)': the joint conditioning needs each encoder called as \(kind.rawValue) calls it")
            }
            decoded.append(result)
        }
        let roles = try PipelineRoles.assign(
            zip(info.members, decoded).map {
                PipelineRoles.Encoder(name: $0.name, clip: $1.program.spec.causal, projected: $1.program.projection != nil)
            },
            kind: kind, file: path, key: "manifest.pipeline.members") { memberPath(path, $0) }
        return Loaded(kind: kind, roles: roles, info: info, decoded: decoded)
    }

    /// Parses and checks the outer manifest: the container fields, no single-encoder field, the
    /// kind, and each member's name and byte range (aligned, inside the data section, at least a
    /// header long, not overlapping another).
    static func decodeManifest(_ bytes: UnsafeRawBufferPointer, header: RuntimeFileHeader, fileSize: Int,
                               path: String) throws -> (kind: PipelineKind, info: PipelineFileInfo) {
        guard let base = bytes.baseAddress,
              let parsed = skrr_manifest_unpack(base.assumingMemoryBound(to: UInt8.self), bytes.count) else {
            throw SkrrError(file: path, key: "manifest",
                            "the \(bytes.count) manifest bytes are not a valid protobuf skrr.Manifest (corrupt file?)")
        }
        defer { skrr_manifest_free_unpacked(parsed) }
        let m = parsed.pointee
        let reader = ManifestReader(m: m, header: header, file: bytes, path: path)
        guard m.format_version == header.version else {
            throw reader.fail("manifest.format_version", "expected \(header.version) (the header's version), got \(m.format_version)")
        }
        let alignment = try reader.checkAlignment()
        let single: [(present: Bool, field: String)] = [
            (m.hyper != nil, "hyper"), (m.n_tensors > 0, "tensors"), (m.n_sub_blocks > 0, "sub_blocks"), (m.n_slots > 0, "slots"),
            (m.embeddings != nil, "embeddings"), (m.final_norm != nil, "final_norm"), (m.n_heads > 0, "heads"),
            (m.tokenizer != nil, "tokenizer"), (m.preset != nil, "preset"),
        ]
        if let stray = single.first(where: \.present) {
            throw reader.fail("manifest.\(stray.field)", "is set in a pipeline file, whose encoders are described by their own manifests (manifest.pipeline.members)")
        }
        guard let pipeline = m.pipeline?.pointee else {
            throw reader.fail("manifest.pipeline", "is missing: a format \(header.version) file holds a pipeline's encoders")
        }
        let kindName = try reader.string(pipeline.kind, "manifest.pipeline.kind")
        guard let kind = PipelineKind(rawValue: kindName), kind == .sd3 || kind == .flux else {
            throw reader.fail("manifest.pipeline.kind", "expected sd3 or flux, got '\(kindName)'")
        }
        let count = Int(pipeline.n_members)
        guard (2...maxMembers).contains(count) else {
            throw reader.fail("manifest.pipeline.members", "expected 2...\(maxMembers) encoders, got \(count)")
        }
        var members: [(name: String, extent: StoredExtent)] = []
        for index in 0..<count {
            let key = "manifest.pipeline.members[\(index)]"
            guard let member = pipeline.members[index]?.pointee else { throw reader.fail(key, "is missing") }
            let name = try reader.string(member.name, "\(key).name")
            guard !name.isEmpty, name.utf8.count <= 256 else {
                throw reader.fail("\(key).name", "expected a name of 1...256 bytes (the diffusers component, e.g. text_encoder_3), got \(name.utf8.count) bytes")
            }
            if members.contains(where: { $0.name == name }) { throw reader.fail("\(key).name", "'\(name)' names two members") }
            let extent = try reader.extent(offset: member.offset, length: member.length, checksum: member.header_checksum, key, alignment: alignment)
            guard extent.length >= RuntimeFileFormat.headerSize else {
                throw reader.fail("\(key).length", "expected at least \(RuntimeFileFormat.headerSize) bytes (a member is a whole runtime file), got \(extent.length)")
            }
            if let other = members.first(where: { $0.extent.offset < extent.offset + extent.length && extent.offset < $0.extent.offset + $0.extent.length }) {
                throw reader.fail(key, "'\(name)' (data bytes \(extent.offset)..<\(extent.offset + extent.length)) overlaps '\(other.name)' (\(other.extent.offset)..<\(other.extent.offset + other.extent.length))")
            }
            members.append((name, extent))
        }
        let p = try reader.provenance()
        return (kind, PipelineFileInfo(fileSize: fileSize, header: header, alignment: alignment, producer: p.producer,
                                       sourceModel: p.sourceModel, passes: p.passes, paramsTotal: p.paramsTotal,
                                       paramsKept: p.paramsKept, members: members))
    }
}
