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
///   value that overflows f16 is an error naming the tensor. `int8` quantizes the linear weights
///   and the token table (`Int8Quantization`; the rest keeps its dtype) and stores each one's row
///   scales right after it; such a file is format version 2, every other file version 1.
public enum RuntimeFileWriter {
    public struct Options: Sendable {
        /// Store every tensor in this dtype (nil: keep each tensor's dtype); `int8` applies to the
        /// tensors `EncoderProgram.int8CapableTensors` names.
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

    /// One stored tensor: which program tensor, its stored dtype, where it goes (and, for int8,
    /// where its row scales go).
    struct Planned {
        var source: Int
        var dtype: WeightType
        var offset: Int
        var length: Int
        var checksum: UInt64
        var scales: (offset: Int, length: Int, checksum: UInt64)?
    }

    /// The format version a file needs: 2 when it holds int8 tensors (a version-1 reader could
    /// not run them), else 1, so files without them stay readable by older runtimes.
    static func formatVersion(_ planned: [Planned]) -> UInt32 {
        planned.contains { $0.dtype.isScaled } ? RuntimeFileFormat.int8Version : 1
    }

    @discardableResult
    public static func write(_ program: EncoderProgram, weights: WeightSource, options: Options, to path: String) throws -> Summary {
        // Two passes over the weights (checksums, then the bytes): a bar for large models, where
        // converting or quantizing takes seconds to minutes.
        let elements = workElements(program)
        let bar = elements > 64 << 20 ? ProgressBar("writing \(path)", total: Double(elements)) : nil
        var done = 0
        let advance: (Int) -> Void = { count in
            done += count
            bar?.update(Double(done))
        }
        let plan = try Plan(program, weights: weights, options: options, path: path, advance: advance)
        try AtomicFile.write(path) { append in try plan.emit(append, advance: advance) }
        bar?.finish()
        return plan.summary
    }

    /// Elements a plan and its emission touch together (each used tensor twice), for a bar.
    static func workElements(_ program: EncoderProgram) -> Int {
        2 * usedTensors(program).reduce(0) { $0 + program.tensors[$1].elementCount }
    }

    /// Everything about one encoder's file but its weight bytes: the layout, every checksum, the
    /// header and the manifest. Planning reads (and converts) every weight once to checksum it;
    /// `emit` reads them again to write them. A pipeline file (`PipelineFileWriter`) plans every
    /// member before writing any, since its own manifest records where each one lies.
    struct Plan {
        let program: EncoderProgram
        let weights: WeightSource
        let path: String
        let planned: [Planned]
        let tokenizerFiles: [ManifestBuilder.TokenizerFile]
        let header: RuntimeFileHeader
        let manifest: [UInt8]
        let paramsKept: Int

        /// Bytes of the whole file.
        var size: Int { Int(header.dataOffset + header.dataLength) }

        var summary: Summary {
            Summary(fileSize: size, tensorCount: planned.count, tensorBytes: planned.reduce(0) { $0 + $1.length },
                    tokenizerBytes: tokenizerFiles.reduce(0) { $0 + $1.bytes.count }, paramsKept: paramsKept)
        }

        /// `advance` is told each tensor's element count once it is checksummed.
        init(_ program: EncoderProgram, weights: WeightSource, options: Options, path: String, advance: (Int) -> Void) throws {
            let alignment = RuntimeFileFormat.alignment
            func align(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }

            // Tensors the program uses, in program order, each once.
            let used = usedTensors(program)
            let int8Capable = options.weightDType == .int8 ? program.int8CapableTensors : []
            var newIndex: [Int: Int] = [:]
            var planned: [Planned] = []
            var offset = 0
            for source in used {
                let tensor = program.tensors[source]
                let dtype = storedType(of: source, program: program, options: options, int8Capable: int8Capable)
                guard let count = checkedElementCount(tensor.shape) else {
                    throw SkrrError(file: path, key: tensor.name, "shape \(formatShape(tensor.shape)) is too large")
                }
                let length = count * dtype.byteSize
                let (checksum, scales) = try stored(source, program: program, weights: weights, as: dtype, path: path) {
                    (XXH64.hash($0), $1.map { ($0.count, XXH64.hash($0)) })
                }
                offset = align(offset)
                newIndex[source] = planned.count
                var entry = Planned(source: source, dtype: dtype, offset: offset, length: length, checksum: checksum)
                offset += length
                if let scales {
                    offset = align(offset)
                    entry.scales = (offset, scales.0, scales.1)
                    offset += scales.0
                }
                planned.append(entry)
                advance(tensor.elementCount)
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
            header = RuntimeFileHeader(
                version: formatVersion(planned), headerSize: UInt32(RuntimeFileFormat.headerSize),
                manifestOffset: UInt64(RuntimeFileFormat.headerSize), manifestLength: UInt64(manifest.count),
                manifestChecksum: XXH64.hash(manifest), dataOffset: UInt64(align(RuntimeFileFormat.headerSize + manifest.count)),
                dataLength: UInt64(dataSize))
            self.program = program
            self.weights = weights
            self.path = path
            self.planned = planned
            self.tokenizerFiles = tokenizerFiles
            self.manifest = manifest
            self.paramsKept = paramsKept
        }

        /// Hands the file's bytes, in order, to `append`; `advance` is told each tensor's element
        /// count once it is written.
        func emit(_ append: (UnsafeRawBufferPointer) throws -> Void, advance: (Int) -> Void) throws {
            let dataOffset = Int(header.dataOffset)
            var written = 0
            func put(_ bytes: UnsafeRawBufferPointer) throws {
                try append(bytes)
                written += bytes.count
            }
            func pad(to target: Int) throws { try padding(target - written, put) }
            try header.encoded().withUnsafeBytes { try put($0) }
            try manifest.withUnsafeBytes { try put($0) }
            try pad(to: dataOffset)
            for entry in planned {
                try pad(to: dataOffset + entry.offset)
                try stored(entry.source, program: program, weights: weights, as: entry.dtype, path: path) { data, scales in
                    try put(data)
                    if let scales, let place = entry.scales {
                        try pad(to: dataOffset + place.offset)
                        try put(scales)
                    }
                }
                advance(program.tensors[entry.source].elementCount)
            }
            for file in tokenizerFiles {
                try pad(to: dataOffset + file.offset)
                try file.bytes.withUnsafeBytes { try put($0) }
            }
            try pad(to: size)
        }
    }

    /// Hands `count` zero bytes (none if `count` <= 0) to `put`.
    static func padding(_ count: Int, _ put: (UnsafeRawBufferPointer) throws -> Void) throws {
        let zeros = [UInt8](repeating: 0, count: RuntimeFileFormat.alignment)
        var left = count
        while left > 0 {
            let chunk = min(left, zeros.count)
            try zeros.withUnsafeBytes { try put(UnsafeRawBufferPointer(rebasing: $0.prefix(chunk))) }
            left -= chunk
        }
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

    /// The dtype tensor `index` is stored in: `--weight-dtype` where it applies, else its own.
    static func storedType(of index: Int, program: EncoderProgram, options: Options, int8Capable: Set<Int>) -> WeightType {
        let own = program.tensors[index].dtype
        guard let chosen = options.weightDType else { return own }
        if chosen == .int8 { return int8Capable.contains(index) ? .int8 : own }
        return chosen
    }

    /// Hands the bytes of tensor `index` as stored in `dtype` to `body` (converted or quantized
    /// if needed), with its row scales when `dtype` is int8.
    @discardableResult
    static func stored<R>(_ index: Int, program: EncoderProgram, weights: WeightSource, as dtype: WeightType, path: String,
                          _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) throws -> R) throws -> R {
        let tensor = program.tensors[index]
        let count = tensor.elementCount
        let raw = weights.bytes(ofTensor: index)
        let sourceSize = tensor.dtype.byteSize
        guard raw.count == count * sourceSize else {
            throw SkrrError(file: path, key: tensor.name,
                            "\(tensor.dtype.rawValue)\(formatShape(tensor.shape)) needs \(count * sourceSize) bytes, the source holds \(raw.count)")
        }
        if dtype == tensor.dtype {
            guard dtype.isScaled else { return try body(raw, nil) }
            guard let scales = weights.scales(ofTensor: index) else {
                throw SkrrError(file: path, key: tensor.name, "is int8 but its source has no row scales")
            }
            return try body(raw, scales)
        }
        if dtype == .int8 {
            let rows = tensor.shape.first ?? 1
            let q: Int8Quantization.Quantized
            do {
                q = try Int8Quantization.quantize(raw, from: tensor.dtype, rows: rows, width: count / max(rows, 1), tensor: tensor.name)
            } catch let error as SkrrError {
                throw SkrrError(file: path, key: tensor.name, error.message)
            }
            let scaleBytes = q.scales.map { $0.bitPattern.littleEndian }
            return try q.codes.withUnsafeBytes { codes in try scaleBytes.withUnsafeBytes { try body(codes, $0) } }
        }
        let converted = try StorageConversion.convert(raw, from: tensor.dtype, to: dtype, count: count, tensor: tensor.name)
        return try converted.withUnsafeBytes { try body($0, nil) }
    }
}
