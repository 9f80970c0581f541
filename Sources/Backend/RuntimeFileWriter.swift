import CManifest
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
        /// The output `skrrc run` gives when none is requested ("hidden" or "layer:N", ...).
        public var defaultOutput: String
        public var producer: String
        /// Informational: the model's name (never an absolute path) and what was done to it.
        public var sourceModel: String
        public var passes: String
        public var paramsTotal: Int

        public init(weightDType: WeightType? = nil, preset: PipelinePreset, defaultOutput: String = "hidden",
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
            let length = count * (dtype == .f32 ? 4 : 2)
            let checksum = try storedBytes(of: source, program: program, weights: weights, as: dtype, path: path) {
                XXH64.hash($0)
            }
            offset = align(offset)
            newIndex[source] = planned.count
            planned.append(Planned(source: source, dtype: dtype, offset: offset, length: length, checksum: checksum))
            offset += length
        }
        // Tokenizer files after the tensors.
        var tokenizerFiles: [(name: String, bytes: [UInt8], offset: Int)] = []
        if let files = program.tokenizer {
            let loaded = try files.withContents(read: readWholeFile)
            let names: [String]
            switch files.kind {
            case .sentencepiece: names = ["spiece.model"]
            case .clipBPE: names = ["vocab.json", "merges.txt"]
            case .wordpiece: names = ["vocab.txt"]
            }
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
        let manifest = try buildManifest(program, planned: planned, newIndex: newIndex, tokenizerFiles: tokenizerFiles,
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
        let sourceSize = tensor.dtype == .f32 ? 4 : 2
        guard raw.count == count * sourceSize else {
            throw SkrrError(file: path, key: tensor.name,
                            "\(tensor.dtype.rawValue)\(formatShape(tensor.shape)) needs \(count * sourceSize) bytes, the source holds \(raw.count)")
        }
        if dtype == tensor.dtype { return try body(raw) }
        let converted = try StorageConversion.convert(raw, from: tensor.dtype, to: dtype, count: count, tensor: tensor.name)
        return try converted.withUnsafeBytes(body)
    }

    // MARK: manifest

    static func buildManifest(_ program: EncoderProgram, planned: [Planned], newIndex: [Int: Int],
                              tokenizerFiles: [(name: String, bytes: [UInt8], offset: Int)], dataSize: Int,
                              paramsKept: Int, options: Options, path: String) throws -> [UInt8] {
        func check(_ status: Int32) throws {
            guard status == 0 else { throw SkrrError(file: path, "out of memory while building the manifest") }
        }
        func made<T>(_ pointer: UnsafeMutablePointer<T>?) throws -> UnsafeMutablePointer<T> {
            guard let pointer else { throw SkrrError(file: path, "out of memory while building the manifest") }
            return pointer
        }
        let m = try made(skrr_manifest_new())
        defer { skrr_manifest_free(m) }
        let s = program.spec
        try check(skrr_pb_set_string(&m.pointee.producer, options.producer))

        let h = try made(skrr_model_hyper_new())
        m.pointee.hyper = h
        h.pointee.hidden_size = UInt32(s.hiddenSize)
        h.pointee.num_layers = UInt32(program.blockCount)
        h.pointee.num_heads = UInt32(s.numHeads)
        h.pointee.head_dim = UInt32(s.headDim)
        h.pointee.ffn_size = UInt32(s.ffnSize)
        h.pointee.vocab_size = UInt32(s.vocabSize)
        h.pointee.norm_eps = s.normEps
        h.pointee.norm_kind = s.norm == .rms ? SKRR__NORM_KIND__NORM_KIND_RMS : SKRR__NORM_KIND__NORM_KIND_LAYER
        h.pointee.norm_placement = s.postNorm ? SKRR__NORM_PLACEMENT__NORM_PLACEMENT_POST : SKRR__NORM_PLACEMENT__NORM_PLACEMENT_PRE
        switch s.activation {
        case .geluTanh: h.pointee.activation = SKRR__ACTIVATION__ACTIVATION_GELU_TANH
        case .gelu: h.pointee.activation = SKRR__ACTIVATION__ACTIVATION_GELU_ERF
        case .quickGelu: h.pointee.activation = SKRR__ACTIVATION__ACTIVATION_QUICK_GELU
        case .relu: h.pointee.activation = SKRR__ACTIVATION__ACTIVATION_RELU
        }
        h.pointee.gated_ffn = s.gatedFFN ? 1 : 0
        h.pointee.linear_bias = program.slots.contains { slot in
            switch slot {
            case .skip: return false
            case let .attention(w, _): return w.q.bias != nil
            case let .ffn(w, _): return w.wi.bias != nil
            }
        } ? 1 : 0
        h.pointee.attention_scaling = s.scaleScores
            ? SKRR__ATTENTION_SCALING__ATTENTION_SCALING_INV_SQRT_HEAD_DIM : SKRR__ATTENTION_SCALING__ATTENTION_SCALING_NONE
        h.pointee.causal = s.causal ? 1 : 0
        if let buckets = s.relativeBuckets, let distance = s.relativeMaxDistance {
            h.pointee.position_encoding = program.sharedPositionBias != nil
                ? SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_SHARED : SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_PER_LAYER
            h.pointee.relative_buckets = UInt32(buckets)
            h.pointee.relative_max_distance = UInt32(distance)
        } else {
            h.pointee.position_encoding = SKRR__POSITION_ENCODING__POSITION_ENCODING_LEARNED
        }
        h.pointee.max_positions = UInt32(s.maxPositions ?? 0)
        h.pointee.type_vocab_size = UInt32(program.embeddings.tokenType.map { program.tensors[$0].shape[0] } ?? 0)
        h.pointee.projection_dim = UInt32(program.projection.map { program.tensors[$0].shape[0] } ?? 0)
        if let eos = s.eosTokenId { h.pointee.eos_token_id = try made(skrr_token_id_new(UInt32(eos))) }
        if let pad = s.padTokenId { h.pointee.pad_token_id = try made(skrr_token_id_new(UInt32(pad))) }
        h.pointee.final_norm_inside_stack = s.finalNormInsideStack ? 1 : 0

        for entry in planned {
            let tensor = program.tensors[entry.source]
            let t = try made(skrr_tensor_new())
            try check(skrr_manifest_add_tensor(m, t))
            try check(skrr_pb_set_string(&t.pointee.name, tensor.name))
            switch entry.dtype {
            case .f32: t.pointee.dtype = SKRR__DTYPE__DTYPE_F32
            case .f16: t.pointee.dtype = SKRR__DTYPE__DTYPE_F16
            case .bf16: t.pointee.dtype = SKRR__DTYPE__DTYPE_BF16
            }
            let dims = tensor.shape.map { UInt64($0) }
            try check(skrr_tensor_set_shape(t, dims, dims.count))
            t.pointee.offset = UInt64(entry.offset)
            t.pointee.length = UInt64(entry.length)
            t.pointee.checksum = entry.checksum
        }

        typealias Adder = (String, UInt32) throws -> Void
        func operand(_ role: String, _ index: Int?, _ add: Adder) throws {
            guard let index else { return }
            try add(role, UInt32(newIndex[index]!))
        }
        func norm(_ n: NormWeights?, prefix: String, _ add: Adder) throws {
            guard let n else { return }
            try operand(prefix + "weight", n.weight, add)
            try operand(prefix + "bias", n.bias, add)
        }
        func linear(_ l: LinearWeights, _ name: String, _ add: Adder) throws {
            try operand(name + ".weight", l.weight, add)
            try operand(name + ".bias", l.bias, add)
        }

        // Sub-blocks that some slot runs, by source index; slots refer to them by position.
        var sources: [Int: ProgramSlot] = [:]
        for slot in program.slots {
            switch slot {
            case .skip: break
            case let .attention(_, source), let .ffn(_, source): sources[source] = slot
            }
        }
        let order = sources.keys.sorted()
        for source in order {
            let kind = source % 2 == 0 ? SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_ATTENTION : SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN
            let b = try made(skrr_sub_block_new(kind, UInt32(source / 2)))
            try check(skrr_manifest_add_sub_block(m, b))
            let add: Adder = { role, tensor in try check(skrr_sub_block_add_operand(b, try made(skrr_operand_new(role, tensor)))) }
            switch sources[source]! {
            case .skip: continue
            case let .attention(w, _):
                try norm(w.norm, prefix: "norm.", add)
                try linear(w.q, "q", add)
                try linear(w.k, "k", add)
                try linear(w.v, "v", add)
                try linear(w.o, "o", add)
                try operand("relative_bias", w.relativeBias, add)
            case let .ffn(w, _):
                try norm(w.norm, prefix: "norm.", add)
                if let gate = w.wiGate {
                    try linear(w.wi, "wi_0", add)
                    try linear(gate, "wi_1", add)
                } else {
                    try linear(w.wi, "wi", add)
                }
                try linear(w.wo, "wo", add)
            }
        }
        for slot in program.slots {
            switch slot {
            case .skip: try check(skrr_manifest_add_slot(m, try made(skrr_slot_new_skip())))
            case let .attention(_, source), let .ffn(_, source):
                try check(skrr_manifest_add_slot(m, try made(skrr_slot_new_run(UInt32(order.firstIndex(of: source)!)))))
            }
        }

        let e = try made(skrr_embeddings_new())
        m.pointee.embeddings = e
        let addEmbedding: Adder = { role, tensor in try check(skrr_embeddings_add_operand(e, try made(skrr_operand_new(role, tensor)))) }
        try operand("token", program.embeddings.token, addEmbedding)
        try operand("position", program.embeddings.position, addEmbedding)
        try operand("token_type", program.embeddings.tokenType, addEmbedding)
        try operand("relative_bias", program.sharedPositionBias, addEmbedding)
        try norm(program.embeddings.norm, prefix: "norm.", addEmbedding)

        if let finalNorm = program.finalNorm {
            let f = try made(skrr_final_norm_new())
            m.pointee.final_norm = f
            try norm(finalNorm, prefix: "", { role, tensor in try check(skrr_final_norm_add_operand(f, try made(skrr_operand_new(role, tensor)))) })
        }
        func head(_ name: String, _ fill: (Adder) throws -> Void) throws {
            let hd = try made(skrr_head_new(name))
            try check(skrr_manifest_add_head(m, hd))
            try fill { role, tensor in try check(skrr_head_add_operand(hd, try made(skrr_operand_new(role, tensor)))) }
        }
        switch program.pooling {
        case nil: break
        case .eosToken: try head("pool.eos_token") { _ in }
        case .argmaxToken: try head("pool.argmax_token") { _ in }
        case let .firstTokenTanh(dense): try head("pool.first_token_tanh") { add in
                try operand("weight", dense.weight, add)
                try operand("bias", dense.bias, add)
            }
        }
        if let projection = program.projection { try head("projected") { add in try operand("weight", projection, add) } }

        if let files = program.tokenizer {
            let kind: Skrr__TokenizerKind
            switch files.kind {
            case .sentencepiece: kind = SKRR__TOKENIZER_KIND__TOKENIZER_KIND_SENTENCEPIECE
            case .clipBPE: kind = SKRR__TOKENIZER_KIND__TOKENIZER_KIND_CLIP_BPE
            case .wordpiece: kind = SKRR__TOKENIZER_KIND__TOKENIZER_KIND_WORDPIECE
            }
            let t = try made(skrr_tokenizer_new(kind))
            m.pointee.tokenizer = t
            t.pointee.lowercase = files.lowercase ? 1 : 0
            t.pointee.add_bos = files.kind == .sentencepiece ? 0 : 1
            t.pointee.add_eos = 1
            for file in tokenizerFiles {
                let f = try made(skrr_tokenizer_file_new(file.name))
                try check(skrr_tokenizer_add_file(t, f))
                try check(skrr_tokenizer_file_set_extent(
                    f, try made(skrr_extent_new(UInt64(file.offset), UInt64(file.bytes.count), XXH64.hash(file.bytes)))))
            }
        }

        let p = try made(skrr_preset_new())
        m.pointee.preset = p
        try check(skrr_pb_set_string(&p.pointee.name, options.preset.name))
        p.pointee.max_length = UInt32(options.preset.maxLength ?? 0)
        p.pointee.pad_to_max = options.preset.padToMax ? 1 : 0
        p.pointee.use_mask = options.preset.useMask ? 1 : 0
        switch options.defaultOutput {
        case "pooled": p.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_POOLED
        case "projected": p.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_PROJECTED
        case let other where other.hasPrefix("layer:"):
            guard let n = Int32(other.dropFirst(6)) else { throw SkrrError(key: "output", "expected layer:N, got '\(other)'") }
            p.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER
            p.pointee.output_layer = n
        default: p.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_HIDDEN
        }

        m.pointee.alignment = UInt32(RuntimeFileFormat.alignment)
        m.pointee.data_size = UInt64(dataSize)
        let prov = try made(skrr_provenance_new())
        m.pointee.provenance = prov
        try check(skrr_pb_set_string(&prov.pointee.source_model, options.sourceModel))
        try check(skrr_pb_set_string(&prov.pointee.passes, options.passes))
        prov.pointee.params_total = UInt64(options.paramsTotal)
        prov.pointee.params_kept = UInt64(paramsKept)

        let size = skrr_manifest_packed_size(m)
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { skrr_manifest_pack_to(m, $0.baseAddress!, size) }
        guard written == size else { throw SkrrError(file: path, "manifest serialisation wrote \(written) bytes, expected \(size)") }
        return bytes
    }
}
