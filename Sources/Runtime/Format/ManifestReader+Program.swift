import CManifest
import SkrrSupport

/// The roles each component of the manifest may name: every role the shared shape table
/// (`WeightShapes`) gives it with every optional weight allowed, either FFN variant.
struct ManifestRoles {
    let attention: Set<String>, ffn: Set<String>, embeddings: Set<String>, finalNorm: Set<String>

    init(_ spec: EncoderSpec) {
        func names(_ roles: [WeightShapes.Role]...) -> Set<String> { Set(roles.joined().map(\.name)) }
        let p = spec.shapeParameters(gatedFFN: true)
        attention = names(WeightShapes.attention(p))
        ffn = names(WeightShapes.ffn(p), WeightShapes.ffn(spec.shapeParameters(gatedFFN: false)))
        // The shared relative-position table is stored with the embeddings, so that it survives
        // when block 0's attention (where T5 keeps it) is skipped.
        embeddings = names(WeightShapes.embeddings(p)).union(["relative_bias"])
        finalNorm = names(WeightShapes.finalNorm(p))
    }
}

/// The manifest's program: the tensor table, the stored sub-blocks, the slots that run them,
/// the embeddings, the final norm and the heads.
extension ManifestReader {
    /// `manifest.tensors`: unique UTF-8 names, weight dtypes, sane shapes, lengths that match
    /// them, aligned extents inside the data section; int8 tensors (format version 2) with their
    /// row scales, each finite and ≥ 0.
    func tensorTable(alignment: Int) throws -> (tensors: [ProgramTensor], extents: [StoredExtent], scales: [StoredExtent?]) {
        var tensors: [ProgramTensor] = []
        var extents: [StoredExtent] = []
        var scales: [StoredExtent?] = []
        var names: Set<String> = []
        for i in 0..<m.n_tensors {
            guard let t = m.tensors[i]?.pointee else { throw fail("manifest.tensors[\(i)]", "is missing") }
            let name = try string(t.name, "manifest.tensors[\(i)].name")
            guard !name.isEmpty else { throw fail("manifest.tensors[\(i)].name", "is empty") }
            guard names.insert(name).inserted else { throw fail(name, "appears twice in the tensor table (tensor \(i))") }
            let table = ManifestEnums.dtype
            if t.dtype == SKRR__DTYPE__DTYPE_I32 { throw fail(name, "dtype i32 cannot hold weights (expected f32, f16, bf16 or i8)") }
            guard let dtype = table.value(t.dtype) else {
                throw fail(name, "unknown dtype \(t.dtype.rawValue) (expected \(table.expected))")
            }
            guard t.n_shape >= 1, t.n_shape <= 4 else { throw fail(name, "expected 1 to 4 dimensions, got \(t.n_shape)") }
            let shape = (0..<t.n_shape).map { t.shape[$0] }
            guard shape.allSatisfy({ $0 <= UInt64(Int32.max) }), let count = checkedElementCount(shape.map { Int($0) }) else {
                throw fail(name, "shape \(shape) is too large")
            }
            let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, UInt64(expected) == t.length else {
                throw fail(name, "\(dtype.rawValue)\(formatShape(shape.map { Int($0) })) needs \(overflow ? "too many" : String(expected)) bytes, but the tensor table says \(t.length)")
            }
            extents.append(try extent(offset: t.offset, length: t.length, checksum: t.checksum, name, alignment: alignment))
            scales.append(try rowScales(t, dtype: dtype, rows: Int(shape[0]), name, alignment: alignment))
            tensors.append(ProgramTensor(name: name, dtype: dtype, shape: shape.map { Int($0) }))
        }
        return (tensors, extents, scales)
    }

    /// An int8 tensor's scales: present exactly for int8 (which needs format version 2), one f32
    /// per row, aligned, inside the data section, every value finite and ≥ 0.
    func rowScales(_ t: Skrr__Tensor, dtype: WeightType, rows: Int, _ name: String, alignment: Int) throws -> StoredExtent? {
        guard dtype.isScaled else {
            if t.scales != nil { throw fail("\(name).scales", "only int8 tensors have row scales; this one is \(dtype.rawValue)") }
            return nil
        }
        guard header.version >= 2 else {
            throw fail(name, "dtype i8 needs format version 2, but the file says version \(header.version)")
        }
        guard let e = t.scales?.pointee else { throw fail("\(name).scales", "an int8 tensor needs its row scales; none are given") }
        guard e.length == UInt64(rows) * 4 else {
            throw fail("\(name).scales", "expected \(rows) f32 scales (\(rows * 4) bytes, one per row), got \(e.length) bytes")
        }
        let place = try extent(offset: e.offset, length: e.length, checksum: e.checksum, "\(name).scales", alignment: alignment)
        let start = Int(header.dataOffset) + place.offset
        for row in 0..<rows {
            let value = Float(bitPattern: UInt32(littleEndian: file.loadUnaligned(fromByteOffset: start + row * 4, as: UInt32.self)))
            guard value.isFinite && value >= 0 else {
                throw fail("\(name).scales", "row \(row) has scale \(value) (expected a finite value ≥ 0); the file is corrupt")
            }
        }
        return place
    }

    /// `manifest.sub_blocks`: each a known kind of a block that exists, with its weights; paired
    /// with its sub-block index (2·block for attention, 2·block + 1 for the FFN).
    func subBlocks(_ hyper: DecodedHyper, roles: ManifestRoles, tensorCount: Int) throws -> [(slot: ProgramSlot, source: Int)] {
        var subBlocks: [(slot: ProgramSlot, source: Int)] = []
        for i in 0..<m.n_sub_blocks {
            let what = "manifest.sub_blocks[\(i)]"
            guard let b = m.sub_blocks[i]?.pointee else { throw fail(what, "is missing") }
            guard Int(b.block) < hyper.layers else {
                throw fail("\(what).block", "expected a block below num_layers \(hyper.layers), got \(b.block)")
            }
            let offset = try value(ManifestEnums.subBlockKind, b.kind, "\(what).kind")
            let source = 2 * Int(b.block) + offset
            if offset == 0 {
                let ops = try operands(b.n_operands, b.operands, allowed: roles.attention, what, tensorCount: tensorCount)
                let weights = AttentionWeights(
                    norm: try ops.norm("norm."), q: try ops.linear("q"), k: try ops.linear("k"), v: try ops.linear("v"),
                    o: try ops.linear("o"), relativeBias: ops["relative_bias"])
                subBlocks.append((.attention(weights, source: source), source))
            } else {
                let ops = try operands(b.n_operands, b.operands, allowed: roles.ffn, what, tensorCount: tensorCount)
                let gated = hyper.spec.gatedFFN
                let weights = FFNWeights(
                    norm: try ops.norm("norm."), wi: try ops.linear(gated ? "wi_0" : "wi"), wiGate: gated ? try ops.linear("wi_1") : nil,
                    wo: try ops.linear("wo"))
                subBlocks.append((.ffn(weights, source: source), source))
            }
        }
        return subBlocks
    }

    /// `manifest.slots`: 2 × num_layers, each a skip or a stored sub-block of the slot's kind.
    func slots(running subBlocks: [(slot: ProgramSlot, source: Int)], layers: Int) throws -> [ProgramSlot] {
        guard m.n_slots == 2 * layers else {
            throw fail("manifest.slots", "expected \(2 * layers) slots (2 × num_layers), got \(m.n_slots)")
        }
        var slots: [ProgramSlot] = []
        for i in 0..<m.n_slots {
            let what = "manifest.slots[\(i)]"
            let s = m.slots[i]
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
        return slots
    }

    /// `manifest.embeddings`, with the shared relative-position table the position encoding asks for.
    func embeddings(_ positions: ManifestPositionEncoding, roles: ManifestRoles, tensorCount: Int) throws
        -> (weights: EmbeddingWeights, sharedBias: Int?) {
        let what = "manifest.embeddings"
        guard let e = m.embeddings?.pointee else { throw fail(what, "is missing") }
        let ops = try operands(e.n_operands, e.operands, allowed: roles.embeddings, what, tensorCount: tensorCount)
        let weights = EmbeddingWeights(
            token: try ops.required("token"), position: ops["position"], tokenType: ops["token_type"],
            norm: ops["norm.weight"] == nil ? nil : try ops.norm("norm."))
        if ops["norm.bias"] != nil && ops["norm.weight"] == nil {
            throw fail(what, "has a norm.bias without a norm.weight")
        }
        let shared = positions == .relativeShared
        let sharedBias = ops["relative_bias"]
        if shared != (sharedBias != nil) {
            throw fail(what, shared ? "position_encoding RELATIVE_SHARED needs a 'relative_bias' table" : "has a 'relative_bias' table, but position_encoding is not RELATIVE_SHARED")
        }
        if positions == .learned && ops["position"] == nil {
            throw fail(what, "position_encoding LEARNED needs a 'position' table")
        }
        return (weights, sharedBias)
    }

    /// `manifest.final_norm`, when the encoder has one.
    func finalNorm(roles: ManifestRoles, tensorCount: Int) throws -> NormWeights? {
        guard let f = m.final_norm?.pointee else { return nil }
        return try operands(f.n_operands, f.operands, allowed: roles.finalNorm, "manifest.final_norm", tensorCount: tensorCount).norm("")
    }

    /// `manifest.heads`: at most one pooling head, and a projection only of a pooled output.
    func heads(tensorCount: Int) throws -> (pooling: Pooling?, projection: Int?) {
        var pooling: Pooling?, projection: Int?
        for i in 0..<m.n_heads {
            let what = "manifest.heads[\(i)]"
            guard let h = m.heads[i]?.pointee else { throw fail(what, "is missing") }
            let name = try string(h.name, "\(what).name")
            if name.hasPrefix("pool.") && pooling != nil { throw fail(what, "a second pooling head '\(name)'") }
            func ops(_ allowed: Set<String>) throws -> ManifestOperands {
                try operands(h.n_operands, h.operands, allowed: allowed, what, tensorCount: tensorCount)
            }
            switch name {
            case "pool.eos_token":
                _ = try ops([])
                pooling = .eosToken
            case "pool.argmax_token":
                _ = try ops([])
                pooling = .argmaxToken
            case "pool.first_token_tanh":
                let (weight, bias) = try ops(["weight", "bias"]).weightAndBias("")
                pooling = .firstTokenTanh(LinearWeights(weight: weight, bias: bias))
            case "projected":
                guard projection == nil else { throw fail(what, "a second 'projected' head") }
                projection = try ops(["weight"]).required("weight")
            default:
                throw fail("\(what).name", "unknown head '\(name)' (expected pool.eos_token, pool.argmax_token, pool.first_token_tanh or projected)")
            }
        }
        if projection != nil && pooling == nil { throw fail("manifest.heads", "a 'projected' head needs a pooling head") }
        return (pooling, projection)
    }
}
