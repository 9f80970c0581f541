import CManifest
import SkrrSupport

/// Turns a parsed protobuf manifest into an `EncoderProgram`, trusting nothing: every enum,
/// string, index, offset and length is checked, and errors name the field or tensor at fault.
/// Shapes are checked afterwards against the hyper-parameters (`ProgramValidation`).
enum ManifestDecoder {
    struct Result {
        var program: EncoderProgram
        var preset: PipelinePreset
        var info: RuntimeFileInfo
    }

    static let attentionRoles: Set<String> = [
        "norm.weight", "norm.bias", "q.weight", "q.bias", "k.weight", "k.bias", "v.weight", "v.bias", "o.weight", "o.bias",
        "relative_bias",
    ]
    static let ffnRoles: Set<String> = [
        "norm.weight", "norm.bias", "wi.weight", "wi.bias", "wi_0.weight", "wi_0.bias", "wi_1.weight", "wi_1.bias",
        "wo.weight", "wo.bias",
    ]
    static let embeddingRoles: Set<String> = ["token", "position", "token_type", "relative_bias", "norm.weight", "norm.bias"]

    static func decode(_ bytes: UnsafeRawBufferPointer, header: RuntimeFileHeader, file: UnsafeRawBufferPointer,
                       path: String) throws -> Result {
        func fail(_ key: String, _ message: String) -> SkrrError { SkrrError(file: path, key: key, message) }
        guard let base = bytes.baseAddress,
              let m = skrr_manifest_unpack(base.assumingMemoryBound(to: UInt8.self), bytes.count) else {
            throw fail("manifest", "the \(bytes.count) manifest bytes are not a valid protobuf skrr.Manifest (corrupt file?)")
        }
        defer { skrr_manifest_free_unpacked(m) }
        let mp = m.pointee

        guard mp.format_version == header.version else {
            throw fail("manifest.format_version", "expected \(header.version) (the header's version), got \(mp.format_version)")
        }
        func string(_ raw: UnsafeMutablePointer<CChar>?, _ key: String) throws -> String {
            guard let raw else { return "" }
            guard let value = String(validatingCString: raw) else { throw fail(key, "is not valid UTF-8") }
            return value
        }
        let alignment = Int(mp.alignment)
        guard alignment >= RuntimeFileFormat.alignment, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw fail("manifest.alignment", "expected a power of two between 64 and 1 MiB, got \(mp.alignment)")
        }
        guard header.dataOffset % UInt64(alignment) == 0 else {
            throw fail("header.data_offset", "expected a multiple of the manifest alignment \(alignment), got \(header.dataOffset)")
        }
        guard mp.data_size == header.dataLength else {
            throw fail("manifest.data_size", "expected \(header.dataLength) (the header's data_length), got \(mp.data_size)")
        }
        let dataSize = Int(header.dataLength)

        // Hyper-parameters.
        guard let hp = mp.hyper?.pointee else { throw fail("manifest.hyper", "is missing") }
        func positive(_ value: UInt32, _ name: String) throws -> Int {
            guard value > 0, value <= 1 << 24 else { throw fail("manifest.hyper.\(name)", "expected 1...\(1 << 24), got \(value)") }
            return Int(value)
        }
        let hidden = try positive(hp.hidden_size, "hidden_size"), layers = try positive(hp.num_layers, "num_layers")
        let heads = try positive(hp.num_heads, "num_heads"), headDim = try positive(hp.head_dim, "head_dim")
        let ffn = try positive(hp.ffn_size, "ffn_size")
        let vocab = Int(hp.vocab_size)
        guard vocab > 0, vocab <= 1 << 26 else { throw fail("manifest.hyper.vocab_size", "expected 1...\(1 << 26), got \(hp.vocab_size)") }
        guard hp.norm_eps.isFinite, hp.norm_eps >= 0 else { throw fail("manifest.hyper.norm_eps", "expected a finite value >= 0, got \(hp.norm_eps)") }
        let norm: RuntimeNorm
        switch hp.norm_kind {
        case SKRR__NORM_KIND__NORM_KIND_RMS: norm = .rms
        case SKRR__NORM_KIND__NORM_KIND_LAYER: norm = .layer
        default: throw fail("manifest.hyper.norm_kind", "expected NORM_KIND_RMS (1) or NORM_KIND_LAYER (2), got \(hp.norm_kind.rawValue)")
        }
        let postNorm: Bool
        switch hp.norm_placement {
        case SKRR__NORM_PLACEMENT__NORM_PLACEMENT_PRE: postNorm = false
        case SKRR__NORM_PLACEMENT__NORM_PLACEMENT_POST: postNorm = true
        default: throw fail("manifest.hyper.norm_placement", "expected PRE (1) or POST (2), got \(hp.norm_placement.rawValue)")
        }
        let activation: RuntimeActivation
        switch hp.activation {
        case SKRR__ACTIVATION__ACTIVATION_GELU_TANH: activation = .geluTanh
        case SKRR__ACTIVATION__ACTIVATION_GELU_ERF: activation = .gelu
        case SKRR__ACTIVATION__ACTIVATION_QUICK_GELU: activation = .quickGelu
        case SKRR__ACTIVATION__ACTIVATION_RELU: activation = .relu
        default: throw fail("manifest.hyper.activation", "expected 1...4, got \(hp.activation.rawValue)")
        }
        let scale: Bool
        switch hp.attention_scaling {
        case SKRR__ATTENTION_SCALING__ATTENTION_SCALING_NONE: scale = false
        case SKRR__ATTENTION_SCALING__ATTENTION_SCALING_INV_SQRT_HEAD_DIM: scale = true
        default: throw fail("manifest.hyper.attention_scaling", "expected NONE (1) or INV_SQRT_HEAD_DIM (2), got \(hp.attention_scaling.rawValue)")
        }
        var relative = false, shared = false
        switch hp.position_encoding {
        case SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_SHARED: relative = true; shared = true
        case SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_PER_LAYER: relative = true
        case SKRR__POSITION_ENCODING__POSITION_ENCODING_LEARNED: break
        default: throw fail("manifest.hyper.position_encoding", "expected 1...3, got \(hp.position_encoding.rawValue)")
        }
        var buckets: Int?, maxDistance: Int?
        if relative {
            let b = Int(hp.relative_buckets), d = Int(hp.relative_max_distance)
            // The bucket formula divides by log(max_distance / (buckets / 4)): both must be sane.
            guard b >= 4, b <= 1 << 16 else { throw fail("manifest.hyper.relative_buckets", "expected 4...65536 for relative positions, got \(b)") }
            guard d > b / 4, d <= 1 << 24 else {
                throw fail("manifest.hyper.relative_max_distance", "expected \(b / 4 + 1)...\(1 << 24) (more than relative_buckets / 4), got \(d)")
            }
            buckets = b
            maxDistance = d
        }
        func token(_ id: UnsafeMutablePointer<Skrr__TokenId>?, _ name: String) throws -> Int? {
            guard let id else { return nil }
            guard Int(id.pointee.id) < vocab else { throw fail("manifest.hyper.\(name)", "expected an id below vocab_size \(vocab), got \(id.pointee.id)") }
            return Int(id.pointee.id)
        }
        let spec = EncoderSpec(
            hiddenSize: hidden, numHeads: heads, headDim: headDim, ffnSize: ffn, vocabSize: vocab, norm: norm,
            postNorm: postNorm, normEps: hp.norm_eps, activation: activation, gatedFFN: hp.gated_ffn != 0, scaleScores: scale,
            causal: hp.causal != 0, relativeBuckets: buckets, relativeMaxDistance: maxDistance,
            maxPositions: hp.max_positions == 0 ? nil : Int(hp.max_positions),
            eosTokenId: try token(hp.eos_token_id, "eos_token_id"), padTokenId: try token(hp.pad_token_id, "pad_token_id"),
            finalNormInsideStack: hp.final_norm_inside_stack != 0)

        // Tensors.
        var tensors: [ProgramTensor] = []
        var extents: [StoredExtent] = []
        var names: Set<String> = []
        func extent(offset: UInt64, length: UInt64, checksum: UInt64, _ key: String, aligned: Bool) throws -> StoredExtent {
            guard offset <= UInt64(dataSize), length <= UInt64(dataSize) - offset else {
                throw fail(key, "bytes \(offset)..<\(offset &+ length) of the data section lie outside its \(dataSize) bytes")
            }
            if aligned && offset % UInt64(alignment) != 0 {
                throw fail(key, "offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            return StoredExtent(offset: Int(offset), length: Int(length), checksum: checksum)
        }
        for i in 0..<mp.n_tensors {
            guard let t = mp.tensors[i]?.pointee else { throw fail("manifest.tensors[\(i)]", "is missing") }
            let name = try string(t.name, "manifest.tensors[\(i)].name")
            guard !name.isEmpty else { throw fail("manifest.tensors[\(i)].name", "is empty") }
            guard names.insert(name).inserted else { throw fail(name, "appears twice in the tensor table (tensor \(i))") }
            let dtype: WeightType
            switch t.dtype {
            case SKRR__DTYPE__DTYPE_F32: dtype = .f32
            case SKRR__DTYPE__DTYPE_F16: dtype = .f16
            case SKRR__DTYPE__DTYPE_BF16: dtype = .bf16
            case SKRR__DTYPE__DTYPE_I32: throw fail(name, "dtype i32 cannot hold weights (expected f32, f16 or bf16)")
            default: throw fail(name, "unknown dtype \(t.dtype.rawValue) (expected f32 (1), f16 (2) or bf16 (3))")
            }
            guard t.n_shape >= 1, t.n_shape <= 4 else { throw fail(name, "expected 1 to 4 dimensions, got \(t.n_shape)") }
            let shape = (0..<t.n_shape).map { t.shape[$0] }
            guard shape.allSatisfy({ $0 <= UInt64(Int32.max) }), let count = checkedElementCount(shape.map { Int($0) }) else {
                throw fail(name, "shape \(shape) is too large")
            }
            let elementBytes = dtype == .f32 ? 4 : 2
            let (expected, overflow) = count.multipliedReportingOverflow(by: elementBytes)
            guard !overflow, UInt64(expected) == t.length else {
                throw fail(name, "\(dtype.rawValue)\(formatShape(shape.map { Int($0) })) needs \(overflow ? "too many" : String(expected)) bytes, but the tensor table says \(t.length)")
            }
            extents.append(try extent(offset: t.offset, length: t.length, checksum: t.checksum, name, aligned: true))
            tensors.append(ProgramTensor(name: name, dtype: dtype, shape: shape.map { Int($0) }))
        }

        func operands(_ n: Int, _ list: UnsafeMutablePointer<UnsafeMutablePointer<Skrr__Operand>?>?, allowed: Set<String>,
                      _ what: String) throws -> [String: Int] {
            var found: [String: Int] = [:]
            for i in 0..<n {
                guard let op = list?[i]?.pointee else { throw fail("\(what).operands[\(i)]", "is missing") }
                let role = try string(op.role, "\(what).operands[\(i)].role")
                guard allowed.contains(role) else {
                    throw fail("\(what).operands[\(i)]", "unknown role '\(role)' (expected one of \(allowed.sorted().joined(separator: ", ")))")
                }
                guard found[role] == nil else { throw fail("\(what).\(role)", "role given twice") }
                guard Int(op.tensor) < tensors.count else {
                    throw fail("\(what).\(role)", "refers to tensor \(op.tensor), but the tensor table has \(tensors.count) tensors (missing tensor)")
                }
                found[role] = Int(op.tensor)
            }
            return found
        }
        func required(_ ops: [String: Int], _ role: String, _ what: String) throws -> Int {
            guard let index = ops[role] else { throw fail(what, "has no tensor for role '\(role)'") }
            return index
        }
        func normWeights(_ ops: [String: Int], prefix: String, _ what: String) throws -> NormWeights {
            NormWeights(weight: try required(ops, prefix + "weight", what), bias: ops[prefix + "bias"])
        }
        func linear(_ ops: [String: Int], _ name: String, _ what: String) throws -> LinearWeights {
            LinearWeights(weight: try required(ops, name + ".weight", what), bias: ops[name + ".bias"])
        }

        // Sub-blocks and slots.
        var subBlocks: [(slot: ProgramSlot, source: Int)] = []
        for i in 0..<mp.n_sub_blocks {
            let what = "manifest.sub_blocks[\(i)]"
            guard let b = mp.sub_blocks[i]?.pointee else { throw fail(what, "is missing") }
            guard Int(b.block) < layers else { throw fail("\(what).block", "expected a block below num_layers \(layers), got \(b.block)") }
            switch b.kind {
            case SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_ATTENTION:
                let ops = try operands(b.n_operands, b.operands, allowed: attentionRoles, what)
                let source = 2 * Int(b.block)
                let weights = AttentionWeights(
                    norm: try normWeights(ops, prefix: "norm.", what), q: try linear(ops, "q", what), k: try linear(ops, "k", what),
                    v: try linear(ops, "v", what), o: try linear(ops, "o", what), relativeBias: ops["relative_bias"])
                subBlocks.append((.attention(weights, source: source), source))
            case SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN:
                let ops = try operands(b.n_operands, b.operands, allowed: ffnRoles, what)
                let source = 2 * Int(b.block) + 1
                let weights: FFNWeights
                if spec.gatedFFN {
                    weights = FFNWeights(norm: try normWeights(ops, prefix: "norm.", what), wi: try linear(ops, "wi_0", what),
                                         wiGate: try linear(ops, "wi_1", what), wo: try linear(ops, "wo", what))
                } else {
                    weights = FFNWeights(norm: try normWeights(ops, prefix: "norm.", what), wi: try linear(ops, "wi", what),
                                         wiGate: nil, wo: try linear(ops, "wo", what))
                }
                subBlocks.append((.ffn(weights, source: source), source))
            default:
                throw fail("\(what).kind", "expected ATTENTION (1) or FFN (2), got \(b.kind.rawValue)")
            }
        }
        guard mp.n_slots == 2 * layers else {
            throw fail("manifest.slots", "expected \(2 * layers) slots (2 × num_layers), got \(mp.n_slots)")
        }
        var slots: [ProgramSlot] = []
        for i in 0..<mp.n_slots {
            let what = "manifest.slots[\(i)]"
            let s = mp.slots[i]
            var run: UInt32 = 0
            if skrr_slot_is_skip(s) == 1 {
                guard s?.pointee.skip != 0 else { throw fail(what, "skip = false is not a valid slot action") }
                slots.append(.skip)
            } else if skrr_slot_get_run(s, &run) == 1 {
                guard Int(run) < subBlocks.count else {
                    throw fail(what, "runs sub-block \(run), but the file has \(subBlocks.count) sub-blocks")
                }
                let (slot, source) = subBlocks[Int(run)]
                guard source % 2 == i % 2 else {
                    throw fail(what, "a slot of kind \(i % 2 == 0 ? "attention" : "ffn") cannot run sub-block \(run) (\(source % 2 == 0 ? "attention" : "ffn") of block \(source / 2))")
                }
                slots.append(slot)
            } else {
                throw fail(what, "has neither skip nor run")
            }
        }

        // Embeddings, final norm, heads.
        guard let e = mp.embeddings?.pointee else { throw fail("manifest.embeddings", "is missing") }
        let eops = try operands(e.n_operands, e.operands, allowed: embeddingRoles, "manifest.embeddings")
        let embeddings = EmbeddingWeights(
            token: try required(eops, "token", "manifest.embeddings"), position: eops["position"], tokenType: eops["token_type"],
            norm: eops["norm.weight"] == nil ? nil : try normWeights(eops, prefix: "norm.", "manifest.embeddings"))
        if eops["norm.bias"] != nil && eops["norm.weight"] == nil {
            throw fail("manifest.embeddings", "has a norm.bias without a norm.weight")
        }
        let sharedBias = eops["relative_bias"]
        if shared != (sharedBias != nil) {
            throw fail("manifest.embeddings", shared ? "position_encoding RELATIVE_SHARED needs a 'relative_bias' table" : "has a 'relative_bias' table, but position_encoding is not RELATIVE_SHARED")
        }
        if !relative && eops["position"] == nil {
            throw fail("manifest.embeddings", "position_encoding LEARNED needs a 'position' table")
        }
        var finalNorm: NormWeights?
        if let f = mp.final_norm?.pointee {
            let ops = try operands(f.n_operands, f.operands, allowed: ["weight", "bias"], "manifest.final_norm")
            finalNorm = try normWeights(ops, prefix: "", "manifest.final_norm")
        }
        var pooling: Pooling?, projection: Int?
        for i in 0..<mp.n_heads {
            let what = "manifest.heads[\(i)]"
            guard let h = mp.heads[i]?.pointee else { throw fail(what, "is missing") }
            let name = try string(h.name, "\(what).name")
            let isPool = name.hasPrefix("pool.")
            if isPool && pooling != nil { throw fail(what, "a second pooling head '\(name)'") }
            switch name {
            case "pool.eos_token":
                _ = try operands(h.n_operands, h.operands, allowed: [], what)
                pooling = .eosToken
            case "pool.argmax_token":
                _ = try operands(h.n_operands, h.operands, allowed: [], what)
                pooling = .argmaxToken
            case "pool.first_token_tanh":
                let ops = try operands(h.n_operands, h.operands, allowed: ["weight", "bias"], what)
                pooling = .firstTokenTanh(LinearWeights(weight: try required(ops, "weight", what), bias: ops["bias"]))
            case "projected":
                guard projection == nil else { throw fail(what, "a second 'projected' head") }
                let ops = try operands(h.n_operands, h.operands, allowed: ["weight"], what)
                projection = try required(ops, "weight", what)
            default:
                throw fail("\(what).name", "unknown head '\(name)' (expected pool.eos_token, pool.argmax_token, pool.first_token_tanh or projected)")
            }
        }
        if projection != nil && pooling == nil { throw fail("manifest.heads", "a 'projected' head needs a pooling head") }

        // Tokenizer.
        var tokenizer: TokenizerFiles?
        var tokenizerInfo: [(name: String, length: Int, extent: StoredExtent?)] = []
        if let t = mp.tokenizer?.pointee {
            let kind: TokenizerKindName, expectedNames: [String]
            switch t.kind {
            case SKRR__TOKENIZER_KIND__TOKENIZER_KIND_SENTENCEPIECE: kind = .sentencepiece; expectedNames = ["spiece.model"]
            case SKRR__TOKENIZER_KIND__TOKENIZER_KIND_CLIP_BPE: kind = .clipBPE; expectedNames = ["vocab.json", "merges.txt"]
            case SKRR__TOKENIZER_KIND__TOKENIZER_KIND_WORDPIECE: kind = .wordpiece; expectedNames = ["vocab.txt"]
            default: throw fail("manifest.tokenizer.kind", "expected 1...3, got \(t.kind.rawValue)")
            }
            var contents: [String: [UInt8]] = [:]
            for i in 0..<t.n_files {
                let what = "manifest.tokenizer.files[\(i)]"
                guard let f = t.files[i] else { throw fail(what, "is missing") }
                let name = try string(f.pointee.name, "\(what).name")
                guard expectedNames.contains(name), contents[name] == nil else {
                    throw fail("\(what).name", "expected one of \(expectedNames.joined(separator: ", ")) once each, got '\(name)'")
                }
                var length = 0
                if let data = skrr_tokenizer_file_data(f, &length) {
                    contents[name] = Array(UnsafeBufferPointer(start: data, count: length))
                    tokenizerInfo.append((name, length, nil))
                } else if let x = skrr_tokenizer_file_extent(f)?.pointee {
                    let stored = try extent(offset: x.offset, length: x.length, checksum: x.checksum, "tokenizer file \(name)", aligned: false)
                    let start = Int(header.dataOffset) + stored.offset
                    let slice = UnsafeRawBufferPointer(rebasing: file[start..<(start + stored.length)])
                    let actual = XXH64.hash(slice)
                    guard actual == stored.checksum else {
                        throw fail("tokenizer file \(name)", "checksum mismatch: expected xxh64 \(hex(stored.checksum)), got \(hex(actual)); the file is corrupt")
                    }
                    contents[name] = Array(slice)
                    tokenizerInfo.append((name, stored.length, stored))
                } else {
                    throw fail(what, "holds neither data nor an extent")
                }
            }
            for name in expectedNames where contents[name] == nil {
                throw fail("manifest.tokenizer", "a \(kind.rawValue) tokenizer needs the file \(name)")
            }
            tokenizer = TokenizerFiles(kind: kind, paths: expectedNames.map { "\(path):\($0)" }, lowercase: t.lowercase != 0,
                                       contents: expectedNames.map { contents[$0]! })
        }

        // Preset.
        var preset = PipelinePreset(name: "generic", maxLength: nil, padToMax: false, useMask: true)
        var output = "hidden"
        if let p = mp.preset?.pointee {
            let name = try string(p.name, "manifest.preset.name")
            guard PipelinePreset.names.contains(name) else {
                throw fail("manifest.preset.name", "unknown pipeline '\(name)' (known: \(PipelinePreset.names.joined(separator: ", ")))")
            }
            guard p.pad_to_max == 0 || p.max_length > 0 else { throw fail("manifest.preset", "pad_to_max needs a max_length") }
            preset = PipelinePreset(name: name, maxLength: p.max_length == 0 ? nil : Int(p.max_length), padToMax: p.pad_to_max != 0,
                                    useMask: p.use_mask != 0)
            switch p.output {
            case SKRR__OUTPUT_KIND__OUTPUT_KIND_HIDDEN: output = "hidden"
            case SKRR__OUTPUT_KIND__OUTPUT_KIND_POOLED: output = "pooled"
            case SKRR__OUTPUT_KIND__OUTPUT_KIND_PROJECTED: output = "projected"
            case SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER:
                guard Int(p.output_layer) >= -(layers + 1) && Int(p.output_layer) <= layers else {
                    throw fail("manifest.preset.output_layer", "expected -\(layers + 1)...\(layers), got \(p.output_layer)")
                }
                output = "layer:\(p.output_layer)"
            default: throw fail("manifest.preset.output", "expected 1...4, got \(p.output.rawValue)")
            }
        }

        // Stored ranges may not overlap: the writer never shares bytes between entries, so an
        // overlap means a forged or damaged table (re-used weights are one entry, not two).
        var ranges = zip(tensors.map(\.name), extents).map { (name: "'\($0)'", extent: $1) }
        ranges += tokenizerInfo.compactMap { entry in entry.extent.map { (name: "tokenizer file \(entry.name)", extent: $0) } }
        ranges.sort { ($0.extent.offset, $0.extent.length) < ($1.extent.offset, $1.extent.length) }
        var previous: (name: String, extent: StoredExtent)?
        for range in ranges where range.extent.length > 0 {
            if let previous, range.extent.offset < previous.extent.offset + previous.extent.length {
                throw fail(range.name, "data bytes \(range.extent.offset)..<\(range.extent.offset + range.extent.length) overlap \(previous.name) at \(previous.extent.offset)..<\(previous.extent.offset + previous.extent.length)")
            }
            previous = range
        }

        let prov = mp.provenance?.pointee
        let info = RuntimeFileInfo(
            fileSize: file.count, header: header, alignment: alignment, producer: try string(mp.producer, "manifest.producer"),
            sourceModel: try string(prov?.source_model, "manifest.provenance.source_model"),
            passes: try string(prov?.passes, "manifest.provenance.passes"),
            paramsTotal: Int(clamping: prov?.params_total ?? 0), paramsKept: Int(clamping: prov?.params_kept ?? 0),
            tensorExtents: extents, tokenizerFiles: tokenizerInfo, presetName: preset.name, defaultOutput: output)
        let program = EncoderProgram(
            spec: spec, tensors: tensors, embeddings: embeddings, sharedPositionBias: sharedBias, slots: slots,
            finalNorm: finalNorm, pooling: pooling, projection: projection, tokenizer: tokenizer)
        return Result(program: program, preset: preset, info: info)
    }
}
