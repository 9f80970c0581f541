import CManifest
import SkrrRuntime
import SkrrSupport

/// Writes a whole pipeline's encoders (SD3's three, FLUX's two) as one runtime file of format
/// version 3 (docs/runtime-format.md, "Pipeline files"): a header and a small manifest naming
/// the pipeline kind and where each member lies, then each member as the complete single-encoder
/// file `RuntimeFileWriter` would write for it, back to back in the data section.
///
/// - A member is byte-identical to the file `RuntimeFileWriter.write` makes from the same
///   program, weights and options, so the loader runs the same checks on it and it can be cut
///   out as a file of its own.
/// - Every member is planned (checksummed) before any byte is written, because the manifest,
///   which comes first, records each member's size and header checksum.
/// - Deterministic and atomic like `RuntimeFileWriter`.
public enum PipelineFileWriter {
    public struct Member {
        /// The diffusers component ("text_encoder_3").
        public var name: String
        public var program: EncoderProgram
        public var weights: WeightSource
        public var options: RuntimeFileWriter.Options

        public init(name: String, program: EncoderProgram, weights: WeightSource, options: RuntimeFileWriter.Options) {
            self.name = name
            self.program = program
            self.weights = weights
            self.options = options
        }
    }

    public struct Summary: Sendable, Equatable {
        public var fileSize: Int
        /// Each member's own summary, in the file's order.
        public var members: [RuntimeFileWriter.Summary]
    }

    /// `sourceModel` and `passes` are informational (the pipeline folder's name, what was done).
    @discardableResult
    public static func write(kind: PipelineKind, members: [Member], producer: String = "skrrc", sourceModel: String,
                             passes: String, to path: String) throws -> Summary {
        guard members.count >= 2 else {
            throw SkrrError(file: path, key: "pipeline.members", "a pipeline file holds at least two encoders, got \(members.count)")
        }
        let names = members.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw SkrrError(file: path, key: "pipeline.members", "encoder name '\(repeated)' appears twice")
        }
        let alignment = RuntimeFileFormat.alignment
        func align(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }
        let elements = members.reduce(0) { $0 + RuntimeFileWriter.workElements($1.program) }
        let bar = elements > 64 << 20 ? ProgressBar("writing \(path)", total: Double(elements)) : nil
        var done = 0
        let advance: (Int) -> Void = { count in
            done += count
            bar?.update(Double(done))
        }
        var plans: [RuntimeFileWriter.Plan] = []
        var placed: [(name: String, offset: Int, length: Int, headerChecksum: UInt64)] = []
        var offset = 0
        for member in members {
            // Messages about a member name it beside the output path.
            let plan = try RuntimeFileWriter.Plan(member.program, weights: member.weights, options: member.options,
                                                  path: "\(path) (\(member.name))", advance: advance)
            offset = align(offset)
            placed.append((member.name, offset, plan.size, XXH64.hash(plan.header.encoded())))
            offset += plan.size
            plans.append(plan)
        }
        let dataSize = align(offset)
        let paramsTotal = members.reduce(0) { $0 + $1.options.paramsTotal }
        let manifest = try manifestBytes(kind: kind, members: placed, dataSize: dataSize, producer: producer,
                                         sourceModel: sourceModel, passes: passes, paramsTotal: paramsTotal,
                                         paramsKept: plans.reduce(0) { $0 + $1.paramsKept }, path: path)
        let dataOffset = align(RuntimeFileFormat.headerSize + manifest.count)
        let header = RuntimeFileHeader(
            version: RuntimeFileFormat.pipelineVersion, headerSize: UInt32(RuntimeFileFormat.headerSize),
            manifestOffset: UInt64(RuntimeFileFormat.headerSize), manifestLength: UInt64(manifest.count),
            manifestChecksum: XXH64.hash(manifest), dataOffset: UInt64(dataOffset), dataLength: UInt64(dataSize))
        try AtomicFile.write(path) { append in
            var written = 0
            func put(_ bytes: UnsafeRawBufferPointer) throws {
                try append(bytes)
                written += bytes.count
            }
            try header.encoded().withUnsafeBytes { try put($0) }
            try manifest.withUnsafeBytes { try put($0) }
            for (plan, place) in zip(plans, placed) {
                try RuntimeFileWriter.padding(dataOffset + place.offset - written, put)
                try plan.emit(put, advance: advance)
            }
            try RuntimeFileWriter.padding(dataOffset + dataSize - written, put)
        }
        bar?.finish()
        return Summary(fileSize: dataOffset + dataSize, members: plans.map(\.summary))
    }

    /// The version-3 manifest: producer, alignment, data size, provenance with the pipeline's
    /// totals, and the pipeline message; none of the single-encoder fields.
    static func manifestBytes(kind: PipelineKind, members: [(name: String, offset: Int, length: Int, headerChecksum: UInt64)],
                              dataSize: Int, producer: String, sourceModel: String, passes: String, paramsTotal: Int,
                              paramsKept: Int, path: String) throws -> [UInt8] {
        func made<T>(_ pointer: UnsafeMutablePointer<T>?) throws -> UnsafeMutablePointer<T> {
            guard let pointer else { throw ManifestBuilder.outOfMemory(path) }
            return pointer
        }
        let m = try made(skrr_manifest_new())
        defer { skrr_manifest_free(m) }
        m.pointee.format_version = RuntimeFileFormat.pipelineVersion
        guard skrr_pb_set_string(&m.pointee.producer, producer) == 0 else { throw ManifestBuilder.outOfMemory(path) }
        m.pointee.alignment = UInt32(RuntimeFileFormat.alignment)
        m.pointee.data_size = UInt64(dataSize)
        try ManifestBuilder.addProvenance(to: m, sourceModel: sourceModel, passes: passes, paramsTotal: paramsTotal,
                                          paramsKept: paramsKept, path: path)
        let pipeline = try made(skrr_pipeline_new(kind.rawValue))
        m.pointee.pipeline = pipeline
        for member in members {
            let entry = try made(skrr_pipeline_member_new(member.name, UInt64(member.offset), UInt64(member.length), member.headerChecksum))
            guard skrr_pipeline_add_member(pipeline, entry) == 0 else { throw ManifestBuilder.outOfMemory(path) }
        }
        return try ManifestBuilder.packed(m, path: path)
    }
}
