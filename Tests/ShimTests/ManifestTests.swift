import CManifest
import Foundation
import Testing

private func str(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
private func str(_ p: UnsafeMutablePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

private func pack(_ m: UnsafePointer<Skrr__Manifest>) -> [UInt8] {
    let size = skrr_manifest_packed_size(m)
    var bytes = [UInt8](repeating: 0, count: size)
    // Too small a buffer: nothing written, size reported.
    #expect(size == 0 || skrr_manifest_pack_to(m, &bytes, size - 1) == size)
    #expect(skrr_manifest_pack_to(m, &bytes, bytes.count) == size)
    return bytes
}

private func unpack(_ bytes: [UInt8]) -> UnsafeMutablePointer<Skrr__Manifest>? {
    bytes.withUnsafeBufferPointer { skrr_manifest_unpack($0.baseAddress, $0.count) }
}

/// Tensors of the sample: name, dtype, shape, offset, length, checksum.
private let sampleTensors: [(String, Skrr__DType, [UInt64], UInt64, UInt64, UInt64)] = [
    ("shared.weight", SKRR__DTYPE__DTYPE_F32, [100, 64], 0, 25_600, 0x0123_4567_89AB_CDEF),
    ("encoder.block.0.layer.0.SelfAttention.q.weight", SKRR__DTYPE__DTYPE_BF16, [64, 64], 25_600, 8_192, 1),
    ("encoder.block.1.layer.1.DenseReluDense.wo.weight", SKRR__DTYPE__DTYPE_F16, [64, 128], 33_792, 16_384, .max),
    ("encoder.final_layer_norm.weight", SKRR__DTYPE__DTYPE_F32, [64], 50_176, 256, 0),
    ("text_projection.weight", SKRR__DTYPE__DTYPE_F32, [32, 64], 50_432, 8_192, 42),
]
/// Slots of a 3-block model: block 1's attention and block 2's FFN are skipped,
/// and block 0's attention is re-used in block 2's slot.
private enum SlotAction: Equatable { case skip, run(UInt32) }
private let sampleSlots: [SlotAction] = [.run(0), .run(1), .skip, .run(2), .run(0), .skip]
private let inlineModel: [UInt8] = [0, 1, 2, 0, 255, 0x0A, 0x80]

/// Builds the sample manifest through the C helpers, as the backend will.
private func buildSample() throws -> UnsafeMutablePointer<Skrr__Manifest> {
    let m = try #require(skrr_manifest_new())
    #expect(m.pointee.format_version == SKRR_MANIFEST_FORMAT_VERSION)
    #expect(skrr_pb_set_string(&m.pointee.producer, "first value, replaced") == 0)
    #expect(skrr_pb_set_string(&m.pointee.producer, "skrrc test 0.1") == 0)
    m.pointee.alignment = 64
    m.pointee.data_size = 58_624

    let h = try #require(skrr_model_hyper_new())
    h.pointee.hidden_size = 64
    h.pointee.num_layers = 3
    h.pointee.num_heads = 4
    h.pointee.head_dim = 16
    h.pointee.ffn_size = 128
    h.pointee.vocab_size = 100
    h.pointee.norm_eps = 1e-6
    h.pointee.norm_kind = SKRR__NORM_KIND__NORM_KIND_RMS
    h.pointee.norm_placement = SKRR__NORM_PLACEMENT__NORM_PLACEMENT_PRE
    h.pointee.activation = SKRR__ACTIVATION__ACTIVATION_GELU_TANH
    h.pointee.gated_ffn = 1
    h.pointee.attention_scaling = SKRR__ATTENTION_SCALING__ATTENTION_SCALING_NONE
    h.pointee.position_encoding = SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_SHARED
    h.pointee.relative_buckets = 32
    h.pointee.relative_max_distance = 128
    h.pointee.projection_dim = 32
    h.pointee.eos_token_id = skrr_token_id_new(1)
    h.pointee.pad_token_id = skrr_token_id_new(0)  // id 0, present
    m.pointee.hyper = h

    for (name, dtype, shape, offset, length, checksum) in sampleTensors {
        let t = try #require(skrr_tensor_new())
        #expect(skrr_pb_set_string(&t.pointee.name, name) == 0)
        t.pointee.dtype = dtype
        #expect(skrr_tensor_set_shape(t, [9, 9, 9], 3) == 0)  // replaced below
        #expect(skrr_tensor_set_shape(t, shape, shape.count) == 0)
        t.pointee.offset = offset
        t.pointee.length = length
        t.pointee.checksum = checksum
        #expect(skrr_manifest_add_tensor(m, t) == 0)
    }

    let attn0 = try #require(skrr_sub_block_new(SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_ATTENTION, 0))
    #expect(skrr_sub_block_add_operand(attn0, skrr_operand_new("q.weight", 1)) == 0)
    #expect(skrr_manifest_add_sub_block(m, attn0) == 0)
    let ffn0 = try #require(skrr_sub_block_new(SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN, 0))
    #expect(skrr_manifest_add_sub_block(m, ffn0) == 0)  // no operands: an empty repeated field
    let ffn1 = try #require(skrr_sub_block_new(SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN, 1))
    #expect(skrr_sub_block_add_operand(ffn1, skrr_operand_new("wo.weight", 2)) == 0)
    #expect(skrr_manifest_add_sub_block(m, ffn1) == 0)

    for action in sampleSlots {
        switch action {
        case .skip: #expect(skrr_manifest_add_slot(m, skrr_slot_new_skip()) == 0)
        case .run(let i): #expect(skrr_manifest_add_slot(m, skrr_slot_new_run(i)) == 0)
        }
    }

    let emb = try #require(skrr_embeddings_new())
    #expect(skrr_embeddings_add_operand(emb, skrr_operand_new("token", 0)) == 0)
    #expect(skrr_embeddings_add_operand(emb, skrr_operand_new("relative_bias", 1)) == 0)
    m.pointee.embeddings = emb
    let norm = try #require(skrr_final_norm_new())
    #expect(skrr_final_norm_add_operand(norm, skrr_operand_new("weight", 3)) == 0)
    m.pointee.final_norm = norm
    let head = try #require(skrr_head_new("projected"))
    #expect(skrr_head_add_operand(head, skrr_operand_new("weight", 4)) == 0)
    #expect(skrr_manifest_add_head(m, head) == 0)

    let tok = try #require(skrr_tokenizer_new(SKRR__TOKENIZER_KIND__TOKENIZER_KIND_SENTENCEPIECE))
    tok.pointee.add_eos = 1
    let model = try #require(skrr_tokenizer_file_new("spiece.model"))
    #expect(skrr_tokenizer_file_set_extent(model, skrr_extent_new(1, 2, 3)) == 0)  // replaced below
    #expect(skrr_tokenizer_file_set_data(model, inlineModel, inlineModel.count) == 0)
    #expect(skrr_tokenizer_add_file(tok, model) == 0)
    let big = try #require(skrr_tokenizer_file_new("vocab.json"))
    #expect(skrr_tokenizer_file_set_data(big, [1, 2, 3], 3) == 0)  // replaced below
    #expect(skrr_tokenizer_file_set_extent(big, skrr_extent_new(58_624, 0, 0xFEED)) == 0)
    #expect(skrr_tokenizer_add_file(tok, big) == 0)
    m.pointee.tokenizer = tok

    let preset = try #require(skrr_preset_new())
    #expect(skrr_pb_set_string(&preset.pointee.name, "pixart-sigma") == 0)
    preset.pointee.max_length = 300
    preset.pointee.pad_to_max = 1
    preset.pointee.use_mask = 1
    preset.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER
    preset.pointee.output_layer = -2
    m.pointee.preset = preset

    let prov = try #require(skrr_provenance_new())
    #expect(skrr_pb_set_string(&prov.pointee.source_model, "t5-tiny/ (ünïcode ok)") == 0)
    #expect(skrr_pb_set_string(&prov.pointee.passes, "skip-search{sparsity=0.4 beam=3},reuse-rewrite") == 0)
    prov.pointee.params_total = 4_760_000_000
    prov.pointee.params_kept = 2_760_000_000
    m.pointee.provenance = prov
    return m
}

/// Checks every field of a manifest against the sample.
private func expectSample(_ m: UnsafePointer<Skrr__Manifest>) throws {
    let p = m.pointee
    #expect(p.format_version == SKRR_MANIFEST_FORMAT_VERSION && SKRR_MANIFEST_FORMAT_VERSION == 2)  // skrr_manifest_new's
    #expect(str(p.producer) == "skrrc test 0.1")
    #expect(p.alignment == 64 && p.data_size == 58_624)

    let h = try #require(p.hyper).pointee
    #expect(h.hidden_size == 64 && h.num_layers == 3 && h.num_heads == 4 && h.head_dim == 16)
    #expect(h.ffn_size == 128 && h.vocab_size == 100)
    #expect(h.norm_eps == 1e-6)
    #expect(h.norm_kind == SKRR__NORM_KIND__NORM_KIND_RMS)
    #expect(h.norm_placement == SKRR__NORM_PLACEMENT__NORM_PLACEMENT_PRE)
    #expect(h.activation == SKRR__ACTIVATION__ACTIVATION_GELU_TANH)
    #expect(h.gated_ffn != 0 && h.linear_bias == 0 && h.causal == 0)
    #expect(h.attention_scaling == SKRR__ATTENTION_SCALING__ATTENTION_SCALING_NONE)
    #expect(h.position_encoding == SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_SHARED)
    #expect(h.relative_buckets == 32 && h.relative_max_distance == 128)
    #expect(h.max_positions == 0 && h.type_vocab_size == 0 && h.projection_dim == 32)
    #expect(h.bos_token_id == nil)  // absent stays absent
    #expect(h.eos_token_id?.pointee.id == 1)
    #expect(h.pad_token_id?.pointee.id == 0)  // present, and 0

    try #require(p.n_tensors == sampleTensors.count)
    for (i, expected) in sampleTensors.enumerated() {
        let t = try #require(p.tensors[i]).pointee
        #expect(str(t.name) == expected.0)
        #expect(t.dtype == expected.1)
        #expect(Array(UnsafeBufferPointer(start: t.shape, count: t.n_shape)) == expected.2)
        #expect(t.offset == expected.3 && t.length == expected.4 && t.checksum == expected.5)
    }

    try #require(p.n_sub_blocks == 3)
    let blocks = (0..<3).map { p.sub_blocks[$0]!.pointee }
    #expect(blocks.map(\.kind) == [SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_ATTENTION,
                                   SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN,
                                   SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN])
    #expect(blocks.map(\.block) == [0, 0, 1])
    #expect(blocks.map(\.n_operands) == [1, 0, 1])
    #expect(str(blocks[0].operands[0]!.pointee.role) == "q.weight" && blocks[0].operands[0]!.pointee.tensor == 1)
    #expect(str(blocks[2].operands[0]!.pointee.role) == "wo.weight" && blocks[2].operands[0]!.pointee.tensor == 2)

    try #require(p.n_slots == sampleSlots.count)
    var slots: [SlotAction] = []
    for i in 0..<p.n_slots {
        let s = p.slots[i]
        var run: UInt32 = 0
        if skrr_slot_is_skip(s) == 1 {
            slots.append(.skip)
        } else if skrr_slot_get_run(s, &run) == 1 {
            slots.append(.run(run))
        }
    }
    #expect(slots == sampleSlots)

    func operands(_ n: Int, _ ops: UnsafeMutablePointer<UnsafeMutablePointer<Skrr__Operand>?>?) -> [String] {
        (0..<n).map { "\(str(ops![$0]!.pointee.role)!)=\(ops![$0]!.pointee.tensor)" }
    }
    let emb = try #require(p.embeddings).pointee
    #expect(operands(emb.n_operands, emb.operands) == ["token=0", "relative_bias=1"])
    let norm = try #require(p.final_norm).pointee
    #expect(operands(norm.n_operands, norm.operands) == ["weight=3"])
    try #require(p.n_heads == 1)
    #expect(str(p.heads[0]!.pointee.name) == "projected")
    #expect(operands(p.heads[0]!.pointee.n_operands, p.heads[0]!.pointee.operands) == ["weight=4"])

    let tok = try #require(p.tokenizer).pointee
    #expect(tok.kind == SKRR__TOKENIZER_KIND__TOKENIZER_KIND_SENTENCEPIECE)
    #expect(tok.add_eos != 0 && tok.add_bos == 0 && tok.lowercase == 0 && tok.strip_accents == 0)
    try #require(tok.n_files == 2)
    let model = tok.files[0]
    #expect(str(model?.pointee.name) == "spiece.model")
    var len = 0
    let data = skrr_tokenizer_file_data(model, &len)
    #expect(Array(UnsafeBufferPointer(start: data, count: len)) == inlineModel)
    #expect(skrr_tokenizer_file_extent(model) == nil)
    let big = tok.files[1]
    #expect(str(big?.pointee.name) == "vocab.json")
    #expect(skrr_tokenizer_file_data(big, &len) == nil && len == 0)
    let ext = try #require(skrr_tokenizer_file_extent(big)).pointee
    #expect(ext.offset == 58_624 && ext.length == 0 && ext.checksum == 0xFEED)

    let preset = try #require(p.preset).pointee
    #expect(str(preset.name) == "pixart-sigma")
    #expect(preset.max_length == 300 && preset.pad_to_max != 0 && preset.use_mask != 0)
    #expect(preset.output == SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER && preset.output_layer == -2)

    let prov = try #require(p.provenance).pointee
    #expect(str(prov.source_model) == "t5-tiny/ (ünïcode ok)")
    #expect(str(prov.passes) == "skip-search{sparsity=0.4 beam=3},reuse-rewrite")
    #expect(prov.params_total == 4_760_000_000 && prov.params_kept == 2_760_000_000)
}

@Suite("protobuf-c manifest")
struct ManifestTests {
    @Test func builtManifestMatchesSample() throws {
        let m = try buildSample()
        defer { skrr_manifest_free(m) }
        try expectSample(m)
    }

    @Test func packUnpackRoundTrip() throws {
        let m = try buildSample()
        defer { skrr_manifest_free(m) }
        let bytes = pack(m)
        #expect(!bytes.isEmpty)
        #expect(pack(m) == bytes)  // deterministic
        let u = try #require(unpack(bytes))
        defer { skrr_manifest_free_unpacked(u) }
        try expectSample(u)
        #expect(pack(u) == bytes)  // unpack -> pack is the identity
    }

    @Test func unsetFieldsReadAsDefaults() throws {
        let m = try #require(skrr_manifest_new())
        defer { skrr_manifest_free(m) }
        let bytes = pack(m)
        #expect(bytes == [0x08, 0x02])  // only format_version = 2, the newest (the writer lowers it to 1 without int8)
        let u = try #require(unpack(bytes))
        defer { skrr_manifest_free_unpacked(u) }
        #expect(u.pointee.format_version == 2)
        #expect(str(u.pointee.producer) == "")
        #expect(u.pointee.hyper == nil && u.pointee.n_tensors == 0 && u.pointee.tokenizer == nil)
        // An empty slot (neither skip nor run) is representable — the loader rejects it.
        let s = try #require(skrr_slot_new_skip())
        s.pointee.action_case = SKRR__SLOT__ACTION__NOT_SET
        #expect(skrr_slot_is_skip(s) == 0 && skrr_slot_get_run(s, nil) == 0)
        #expect(skrr_manifest_add_slot(u, s) == 0)
    }

    @Test func appendingToAnUnpackedTree() throws {
        let m = try buildSample()
        let bytes = pack(m)
        skrr_manifest_free(m)
        let u = try #require(unpack(bytes))
        // Arrays allocated by protobuf-c grow through the same helpers.
        let t = try #require(skrr_tensor_new())
        #expect(skrr_pb_set_string(&t.pointee.name, "extra") == 0)
        #expect(skrr_manifest_add_tensor(u, t) == 0)
        #expect(skrr_pb_set_string(&u.pointee.producer, "rewritten") == 0)
        #expect(skrr_tokenizer_file_set_extent(u.pointee.tokenizer.pointee.files[0], skrr_extent_new(0, 7, 7)) == 0)
        let again = pack(u)
        skrr_manifest_free_unpacked(u)
        let v = try #require(unpack(again))
        defer { skrr_manifest_free_unpacked(v) }
        #expect(v.pointee.n_tensors == sampleTensors.count + 1)
        #expect(str(v.pointee.tensors[sampleTensors.count]!.pointee.name) == "extra")
        #expect(str(v.pointee.producer) == "rewritten")
        #expect(skrr_tokenizer_file_extent(v.pointee.tokenizer.pointee.files[0])?.pointee.length == 7)
    }

    @Test func nullArgumentsAreRefused() throws {
        #expect(skrr_manifest_add_tensor(nil, nil) == -1)
        let m = try #require(skrr_manifest_new())
        defer { skrr_manifest_free(m) }
        #expect(skrr_manifest_add_tensor(m, nil) == -1)
        #expect(skrr_pb_set_string(nil, "x") == -1)
        #expect(skrr_tensor_set_shape(nil, nil, 0) == -1)
        #expect(skrr_tokenizer_file_set_extent(nil, nil) == -1)
        #expect(skrr_manifest_packed_size(nil) == 0)
        skrr_manifest_free(nil)
        skrr_manifest_free_unpacked(nil)
    }

    @Test func garbageIsRejected() {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("overlong varint tag", [UInt8](repeating: 0xFF, count: 11)),
            ("length past the end", [0x22, 0x05, 0x0A]),  // tensors: 5 bytes promised, 1 given
            ("truncated sub-message", [0x1A, 0x02, 0x08]),  // hyper: 2 bytes promised, 1 given
            ("message field sent as a varint", [0x18, 0x01]),
            ("varint field sent as bytes", [0x0A, 0x01, 0x01]),
            ("reserved wire type 7", [0x0F, 0x00]),
            ("huge length", [0x22, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ("zero field number", [0x00, 0x01]),
        ]
        for (label, bytes) in cases {
            let u = unpack(bytes)
            #expect(u == nil, "\(label)")
            skrr_manifest_free_unpacked(u)
        }
        #expect(skrr_manifest_unpack(nil, 10) == nil)
    }

    /// What the parser lets through, so the loader knows what it must check itself.
    @Test func unknownFieldsAndBadUTF8PassTheParser() throws {
        // Field 16 does not exist (15 is version 3's pipeline): kept and skipped (forward compatibility).
        let future = try #require(unpack([0x08, 0x01, 0x80, 0x01, 0x05]))
        #expect(future.pointee.format_version == 1)
        skrr_manifest_free_unpacked(future)
        // protobuf-c does not validate UTF-8 in strings: producer = C3 28.
        let bad = try #require(unpack([0x12, 0x02, 0xC3, 0x28]))
        let raw = UnsafeRawPointer(bad.pointee.producer!).assumingMemoryBound(to: UInt8.self)
        #expect(Array(UnsafeBufferPointer(start: raw, count: 2)) == [0xC3, 0x28])
        #expect(String(validatingCString: bad.pointee.producer!) == nil)
        skrr_manifest_free_unpacked(bad)
    }

    /// A prefix of a valid manifest either fails to parse or — protobuf has no
    /// end marker — was cut exactly between two top-level fields, in which case
    /// it parses to exactly those fields.
    @Test func truncationsAreRejectedOrExact() throws {
        let m = try buildSample()
        let bytes = pack(m)
        skrr_manifest_free(m)
        var rejected = 0
        for cut in 1..<bytes.count {
            let prefix = Array(bytes.prefix(cut))
            if let u = unpack(prefix) {
                #expect(pack(u) == prefix, "cut \(cut) parsed to something else")
                skrr_manifest_free_unpacked(u)
            } else {
                rejected += 1
            }
        }
        #expect(rejected > bytes.count * 9 / 10, "\(rejected) of \(bytes.count - 1) cuts rejected")
        #expect(unpack(Array(bytes.dropLast())) == nil)
    }

    /// Random byte corruption never crashes the parser.
    @Test func corruptionNeverCrashes() throws {
        let m = try buildSample()
        let bytes = pack(m)
        skrr_manifest_free(m)
        var state: UInt64 = 2024
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        var parsed = 0
        for _ in 0..<2000 {
            var b = bytes
            for _ in 0..<(1 + next() % 4) { b[next() % b.count] = UInt8(truncatingIfNeeded: next()) }
            if let u = unpack(b) {
                parsed += 1
                _ = pack(u)
                skrr_manifest_free_unpacked(u)
            }
        }
        // Some corruptions (inside a string, a checksum) are undetectable here;
        // that is what the container checksum is for.
        #expect(parsed < 2000)
    }
}
