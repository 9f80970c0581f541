import SkrrLowering
import SkrrRuntime
import SkrrSupport

/// Writes a lowered `EncoderProgram` and its weights as one runtime file (".skrr"; layout in
/// Sources/Runtime/Format/RuntimeFile.swift and docs/runtime-format.md).
///
/// - Only tensors the program uses are stored, each once (a re-used sub-block's weights are
///   referenced from several slots), in the program's tensor order, 64-byte aligned.
/// - The output depends only on the program, the weight bytes and the options: no timestamps,
///   no absolute paths, no hash-map order. Two compiles of the same input are byte-identical.
/// - Written through `AtomicFile`: nothing is left behind on error, SIGINT or SIGTERM.
/// - `weightDType` converts storage: f32 → bf16/f16 round to nearest, ties to even; a finite
///   value that overflows f16 is an error naming the tensor.
public enum RuntimeFileWriter {
    public struct Options: Sendable {
        /// Store every tensor in this dtype (nil: keep each tensor's dtype).
        public var weightDType: WeightType?
        public var preset: PipelinePreset
        /// The output `skrrc run` gives when none is requested.
        public var defaultOutput: OutputSelection
        public var producer: String
        /// Informational: the model's name (never an absolute path) and what was done to it.
        public var sourceModel: String
        public var passes: String
        public var paramsTotal: Int

        public init(weightDType: WeightType? = nil, preset: PipelinePreset, defaultOutput: OutputSelection = .hidden,
                    producer: String = "skrrc", sourceModel: String, passes: String, paramsTotal: Int) {
            self.weightDType = weightDType
            self.preset = preset
            self.defaultOutput = defaultOutput
            self.producer = producer
            self.sourceModel = sourceModel
            self.passes = passes
            self.paramsTotal = paramsTotal
        }
    }

    /// What was written, for messages and tests.
    public struct Summary: Sendable, Equatable {
        public var fileSize: Int
        public var tensorCount: Int
        public var tensorBytes: Int
        public var tokenizerBytes: Int
        public var paramsKept: Int
    }

    /// One stored tensor: which program tensor, its stored dtype, where it goes.
    struct Planned {
        var source: Int
        var dtype: WeightType
        var offset: Int
        var length: Int
        var checksum: UInt64
    }

    @discardableResult
    public static func write(_ program: EncoderProgram, weights: WeightSource, options: Options, to path: String) throws -> Summary {
        let alignment = RuntimeFileFormat.alignment
        func align(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }

        // Tensors the program uses, in program order, each once.
        let used = usedTensors(program)
        var newIndex: [Int: Int] = [:]
        var planned: [Planned] = []
        var offset = 0
        for source in used {
            let tensor = program.tensors[source]
            let dtype = options.weightDType ?? tensor.dtype
            guard let count = checkedElementCount(tensor.shape) else {
                throw SkrrError(file: path, key: tensor.name, "shape \(formatShape(tensor.shape)) is too large")
            }
            let length = count * dtype.byteSize
            let checksum = try storedBytes(of: source, program: program, weights: weights, as: dtype, path: path) {
                XXH64.hash($0)
            }
            offset = align(offset)
            newIndex[source] = planned.count
            planned.append(Planned(source: source, dtype: dtype, offset: offset, length: length, checksum: checksum))
            offset += length
        }
        // Tokenizer files after the tensors.
        var tokenizerFiles: [ManifestBuilder.TokenizerFile] = []
        if let files = program.tokenizer {
            let loaded = try files.withContents(read: readWholeFile)
            let names = files.kind.fileNames
            guard let contents = loaded.contents, contents.count == names.count else {
                throw SkrrError(file: path, key: "tokenizer", "a \(files.kind.rawValue) tokenizer needs \(names.count) file(s), got \(loaded.contents?.count ?? 0)")
            }
            for (name, bytes) in zip(names, contents) {
                offset = align(offset)
                tokenizerFiles.append((name, bytes, offset))
                offset += bytes.count
            }
        }
        let dataSize = align(offset)

        let paramsKept = planned.reduce(0) { $0 + program.tensors[$1.source].elementCount }
        let manifest = try ManifestBuilder.build(program, planned: planned, newIndex: newIndex, tokenizerFiles: tokenizerFiles,
                                                 dataSize: dataSize, paramsKept: paramsKept, options: options, path: path)
        let manifestEnd = RuntimeFileFormat.headerSize + manifest.count
        let dataOffset = align(manifestEnd)
        let header = RuntimeFileHeader(
            version: RuntimeFileFormat.version, headerSize: UInt32(RuntimeFileFormat.headerSize),
            manifestOffset: UInt64(RuntimeFileFormat.headerSize), manifestLength: UInt64(manifest.count),
            manifestChecksum: XXH64.hash(manifest), dataOffset: UInt64(dataOffset), dataLength: UInt64(dataSize))

        try AtomicFile.write(path) { append in
            var written = 0
            func put(_ bytes: UnsafeRawBufferPointer) throws {
                try append(bytes)
                written += bytes.count
            }
            let zeros = [UInt8](repeating: 0, count: alignment)
            func pad(to target: Int) throws {
                while written < target { try zeros.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0.prefix(target - written))) } }
            }
            try header.encoded().withUnsafeBytes { try put($0) }
            try manifest.withUnsafeBytes { try put($0) }
            try pad(to: dataOffset)
            for entry in planned {
                try pad(to: dataOffset + entry.offset)
                try storedBytes(of: entry.source, program: program, weights: weights, as: entry.dtype, path: path) { try put($0) }
            }
            for file in tokenizerFiles {
                try pad(to: dataOffset + file.offset)
                try file.bytes.withUnsafeBytes { try put($0) }
            }
            try pad(to: dataOffset + dataSize)
        }
        return Summary(fileSize: dataOffset + dataSize, tensorCount: planned.count,
                       tensorBytes: planned.reduce(0) { $0 + $1.length },
                       tokenizerBytes: tokenizerFiles.reduce(0) { $0 + $1.bytes.count }, paramsKept: paramsKept)
    }

    /// Program tensor indices the program reads, ascending.
    static func usedTensors(_ program: EncoderProgram) -> [Int] {
        var used: Set<Int> = []
        func norm(_ n: NormWeights?) {
            guard let n else { return }
            used.insert(n.weight)
            if let b = n.bias { used.insert(b) }
        }
        func linear(_ l: LinearWeights) {
            used.insert(l.weight)
            if let b = l.bias { used.insert(b) }
        }
        let e = program.embeddings
        used.insert(e.token)
        for t in [e.position, e.tokenType, program.sharedPositionBias, program.projection] { if let t { used.insert(t) } }
        norm(e.norm)
        norm(program.finalNorm)
        for slot in program.slots {
            switch slot {
            case .skip: break
            case let .attention(w, _):
                norm(w.norm)
                for l in [w.q, w.k, w.v, w.o] { linear(l) }
                if let r = w.relativeBias { used.insert(r) }
            case let .ffn(w, _):
                norm(w.norm)
                linear(w.wi)
                if let g = w.wiGate { linear(g) }
                linear(w.wo)
            }
        }
        if case let .firstTokenTanh(dense) = program.pooling { linear(dense) }
        return used.sorted()
    }

    /// Hands the bytes of tensor `index` as stored in `dtype` to `body` (converted if needed).
    @discardableResult
    static func storedBytes<R>(of index: Int, program: EncoderProgram, weights: WeightSource, as dtype: WeightType,
                               path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let tensor = program.tensors[index]
        let count = tensor.elementCount
        let raw = weights.bytes(ofTensor: index)
        let sourceSize = tensor.dtype.byteSize
        guard raw.count == count * sourceSize else {
            throw SkrrError(file: path, key: tensor.name,
                            "\(tensor.dtype.rawValue)\(formatShape(tensor.shape)) needs \(count * sourceSize) bytes, the source holds \(raw.count)")
        }
        if dtype == tensor.dtype { return try body(raw) }
        let converted = try StorageConversion.convert(raw, from: tensor.dtype, to: dtype, count: count, tensor: tensor.name)
        return try converted.withUnsafeBytes(body)
    }
}
