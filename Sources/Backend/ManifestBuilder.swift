import CManifest
import SkrrRuntime
import SkrrSupport

/// Builds the protobuf manifest of a runtime file, one part per function, in the order the
/// parts are filled (repeated fields keep that order in the bytes). Enum values come from the
/// runtime's `ManifestEnums`, the same tables the loader reads them back with.
struct ManifestBuilder {
    typealias TokenizerFile = (name: String, bytes: [UInt8], offset: Int)
    /// Adds one operand (role, stored tensor index) to the component being filled.
    typealias Adder = (String, UInt32) throws -> Void

    let m: UnsafeMutablePointer<Skrr__Manifest>
    let program: EncoderProgram
    /// Program tensor index → index in the stored tensor table.
    let newIndex: [Int: Int]
    let path: String

    /// The packed manifest bytes.
    static func build(_ program: EncoderProgram, planned: [RuntimeFileWriter.Planned], newIndex: [Int: Int],
                      tokenizerFiles: [TokenizerFile], dataSize: Int, paramsKept: Int,
                      options: RuntimeFileWriter.Options, path: String) throws -> [UInt8] {
        guard let m = skrr_manifest_new() else { throw SkrrError(file: path, "out of memory while building the manifest") }
        defer { skrr_manifest_free(m) }
        let builder = ManifestBuilder(m: m, program: program, newIndex: newIndex, path: path)
        m.pointee.format_version = RuntimeFileWriter.formatVersion(planned)
        try builder.check(skrr_pb_set_string(&m.pointee.producer, options.producer))
        try builder.addHyper()
        try builder.addTensors(planned)
        try builder.addSubBlocksAndSlots()
        try builder.addEmbeddings()
        try builder.addFinalNorm()
        try builder.addHeads()
        try builder.addTokenizer(tokenizerFiles)
        try builder.addPreset(options)
        m.pointee.alignment = UInt32(RuntimeFileFormat.alignment)
        m.pointee.data_size = UInt64(dataSize)
        try builder.addProvenance(options, paramsKept: paramsKept)
        return try builder.packed()
    }

    // MARK: helpers

    func check(_ status: Int32) throws {
        guard status == 0 else { throw Self.outOfMemory(path) }
    }

    func made<T>(_ pointer: UnsafeMutablePointer<T>?) throws -> UnsafeMutablePointer<T> {
        guard let pointer else { throw Self.outOfMemory(path) }
        return pointer
    }

    func operand(_ role: String, _ index: Int?, _ add: Adder) throws {
        guard let index else { return }
        try add(role, UInt32(newIndex[index]!))
    }

    /// Roles `<prefix>weight` and `<prefix>bias` (when there is one).
    func weightAndBias(_ prefix: String, _ weight: Int, _ bias: Int?, _ add: Adder) throws {
        try operand(prefix + "weight", weight, add)
        try operand(prefix + "bias", bias, add)
    }

    func norm(_ n: NormWeights?, prefix: String, _ add: Adder) throws {
        guard let n else { return }
        try weightAndBias(prefix, n.weight, n.bias, add)
    }

    /// The linear layer `name` (roles `name.weight`, `name.bias`).
    func linear(_ l: LinearWeights, _ name: String, _ add: Adder) throws {
        try weightAndBias(name + ".", l.weight, l.bias, add)
    }

    /// A size as its 32-bit manifest field. The readers bound every size far below 2^32
    /// (`ResourceLimits`); this refuses, instead of trapping, anything that slipped past them.
    func field(_ value: Int, _ name: String) throws -> UInt32 {
        guard let wire = UInt32(exactly: value) else {
            throw SkrrError(key: name, "expected 0...\(UInt32.max) to fit the runtime file's 32-bit field, got \(value)")
        }
        return wire
    }

    // MARK: parts

    func addHyper() throws {
        let s = program.spec
        let h = try made(skrr_model_hyper_new())
        m.pointee.hyper = h
        h.pointee.hidden_size = try field(s.hiddenSize, "hidden_size")
        h.pointee.num_layers = try field(program.blockCount, "num_layers")
        h.pointee.num_heads = try field(s.numHeads, "num_heads")
        h.pointee.head_dim = try field(s.headDim, "head_dim")
        h.pointee.ffn_size = try field(s.ffnSize, "ffn_size")
        h.pointee.vocab_size = try field(s.vocabSize, "vocab_size")
        h.pointee.norm_eps = s.normEps
        h.pointee.norm_kind = ManifestEnums.normKind.wire(s.norm)
        h.pointee.norm_placement = ManifestEnums.normPlacement.wire(s.postNorm)
        h.pointee.activation = ManifestEnums.activation.wire(s.activation)
        h.pointee.gated_ffn = s.gatedFFN ? 1 : 0
        h.pointee.linear_bias = program.slots.contains { slot in
            switch slot {
            case .skip: return false
            case let .attention(w, _): return w.q.bias != nil
            case let .ffn(w, _): return w.wi.bias != nil
            }
        } ? 1 : 0
        h.pointee.attention_scaling = ManifestEnums.attentionScaling.wire(s.scaleScores)
        h.pointee.causal = s.causal ? 1 : 0
        let positions: ManifestPositionEncoding
        if let buckets = s.relativeBuckets, let distance = s.relativeMaxDistance {
            positions = program.sharedPositionBias != nil ? .relativeShared : .relativePerLayer
            h.pointee.relative_buckets = try field(buckets, "relative_buckets")
            h.pointee.relative_max_distance = try field(distance, "relative_max_distance")
        } else {
            positions = .learned
        }
        h.pointee.position_encoding = ManifestEnums.positionEncoding.wire(positions)
        h.pointee.max_positions = try field(s.maxPositions ?? 0, "max_positions")
        h.pointee.type_vocab_size = try field(program.embeddings.tokenType.map { program.tensors[$0].shape[0] } ?? 0, "type_vocab_size")
        h.pointee.projection_dim = try field(program.projection.map { program.tensors[$0].shape[0] } ?? 0, "projection_dim")
        if let eos = s.eosTokenId { h.pointee.eos_token_id = try made(skrr_token_id_new(try field(eos, "eos_token_id"))) }
        if let pad = s.padTokenId { h.pointee.pad_token_id = try made(skrr_token_id_new(try field(pad, "pad_token_id"))) }
        h.pointee.final_norm_inside_stack = s.finalNormInsideStack ? 1 : 0
    }

    func addTensors(_ planned: [RuntimeFileWriter.Planned]) throws {
        for entry in planned {
            let tensor = program.tensors[entry.source]
            let t = try made(skrr_tensor_new())
            try check(skrr_manifest_add_tensor(m, t))
            try check(skrr_pb_set_string(&t.pointee.name, tensor.name))
            t.pointee.dtype = ManifestEnums.dtype.wire(entry.dtype)
            let dims = tensor.shape.map { UInt64($0) }
            try check(skrr_tensor_set_shape(t, dims, dims.count))
            t.pointee.offset = UInt64(entry.offset)
            t.pointee.length = UInt64(entry.length)
            t.pointee.checksum = entry.checksum
            if let scales = entry.scales {
                t.pointee.scales = try made(skrr_extent_new(UInt64(scales.offset), UInt64(scales.length), scales.checksum))
            }
        }
    }

    /// Each sub-block some slot runs, stored once (by sub-block index), then the slots, which
    /// refer to the stored sub-blocks by position.
    func addSubBlocksAndSlots() throws {
        var sources: [Int: ProgramSlot] = [:]
        for slot in program.slots {
            switch slot {
            case .skip: break
            case let .attention(_, source), let .ffn(_, source): sources[source] = slot
            }
        }
        let order = sources.keys.sorted()
        for source in order {
            let b = try made(skrr_sub_block_new(ManifestEnums.subBlockKind.wire(source % 2), UInt32(source / 2)))
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
    }

    func addEmbeddings() throws {
        let e = try made(skrr_embeddings_new())
        m.pointee.embeddings = e
        let add: Adder = { role, tensor in try check(skrr_embeddings_add_operand(e, try made(skrr_operand_new(role, tensor)))) }
        try operand("token", program.embeddings.token, add)
        try operand("position", program.embeddings.position, add)
        try operand("token_type", program.embeddings.tokenType, add)
        try operand("relative_bias", program.sharedPositionBias, add)
        try norm(program.embeddings.norm, prefix: "norm.", add)
    }

    func addFinalNorm() throws {
        guard let finalNorm = program.finalNorm else { return }
        let f = try made(skrr_final_norm_new())
        m.pointee.final_norm = f
        try norm(finalNorm, prefix: "", { role, tensor in try check(skrr_final_norm_add_operand(f, try made(skrr_operand_new(role, tensor)))) })
    }

    func addHeads() throws {
        func head(_ name: String, _ fill: (Adder) throws -> Void) throws {
            let hd = try made(skrr_head_new(name))
            try check(skrr_manifest_add_head(m, hd))
            try fill { role, tensor in try check(skrr_head_add_operand(hd, try made(skrr_operand_new(role, tensor)))) }
        }
        switch program.pooling {
        case nil: break
        case .eosToken: try head("pool.eos_token") { _ in }
        case .argmaxToken: try head("pool.argmax_token") { _ in }
        case let .firstTokenTanh(dense): try head("pool.first_token_tanh") { add in try weightAndBias("", dense.weight, dense.bias, add) }
        }
        if let projection = program.projection { try head("projected") { add in try operand("weight", projection, add) } }
    }

    /// The tokenizer's files, already placed in the data section (`tokenizerFiles`, in the
    /// order of `TokenizerKindName.fileNames`).
    func addTokenizer(_ tokenizerFiles: [TokenizerFile]) throws {
        guard let files = program.tokenizer else { return }
        let t = try made(skrr_tokenizer_new(ManifestEnums.tokenizerKind.wire(files.kind)))
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

    func addPreset(_ options: RuntimeFileWriter.Options) throws {
        let p = try made(skrr_preset_new())
        m.pointee.preset = p
        try check(skrr_pb_set_string(&p.pointee.name, options.preset.name))
        p.pointee.max_length = try field(options.preset.maxLength ?? 0, "preset.max_length")
        p.pointee.pad_to_max = options.preset.padToMax ? 1 : 0
        p.pointee.use_mask = options.preset.useMask ? 1 : 0
        let output = options.defaultOutput
        if case let .layer(n) = output {
            guard let layer = Int32(exactly: n) else { throw SkrrError(key: "output", "expected a layer index that fits in 32 bits, got \(n)") }
            p.pointee.output_layer = layer
        }
        p.pointee.output = ManifestEnums.outputKind.wire(output.manifestKind)
    }

    func addProvenance(_ options: RuntimeFileWriter.Options, paramsKept: Int) throws {
        try Self.addProvenance(to: m, sourceModel: options.sourceModel, passes: options.passes, paramsTotal: options.paramsTotal,
                               paramsKept: paramsKept, path: path)
    }

    func packed() throws -> [UInt8] { try Self.packed(m, path: path) }

    // Shared with the pipeline file's manifest (PipelineFileWriter).

    static func outOfMemory(_ path: String) -> SkrrError { SkrrError(file: path, "out of memory while building the manifest") }

    static func addProvenance(to m: UnsafeMutablePointer<Skrr__Manifest>, sourceModel: String, passes: String, paramsTotal: Int,
                              paramsKept: Int, path: String) throws {
        guard let prov = skrr_provenance_new() else { throw outOfMemory(path) }
        m.pointee.provenance = prov
        guard skrr_pb_set_string(&prov.pointee.source_model, sourceModel) == 0,
              skrr_pb_set_string(&prov.pointee.passes, passes) == 0 else { throw outOfMemory(path) }
        prov.pointee.params_total = UInt64(paramsTotal)
        prov.pointee.params_kept = UInt64(paramsKept)
    }

    /// The manifest's bytes (protobuf-c writes fields in number order: deterministic).
    static func packed(_ m: UnsafeMutablePointer<Skrr__Manifest>, path: String) throws -> [UInt8] {
        let size = skrr_manifest_packed_size(m)
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer { skrr_manifest_pack_to(m, $0.baseAddress!, size) }
        guard written == size else { throw SkrrError(file: path, "manifest serialisation wrote \(written) bytes, expected \(size)") }
        return bytes
    }
}
