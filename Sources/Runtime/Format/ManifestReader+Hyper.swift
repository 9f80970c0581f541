import CManifest
import SkrrSupport

/// The encoder's numerics as the manifest states them, and the two facts about them that the
/// rest of the manifest is checked against.
struct DecodedHyper {
    var spec: EncoderSpec
    var layers: Int
    var positions: ManifestPositionEncoding
}

extension ManifestReader {
    /// The manifest's agreement with the header it came with; returns the data alignment.
    func checkContainer() throws -> Int {
        guard m.format_version == header.version else {
            throw fail("manifest.format_version", "expected \(header.version) (the header's version), got \(m.format_version)")
        }
        guard m.pipeline == nil else {
            throw fail("manifest.pipeline", "is set in a format \(header.version) file; only a pipeline file (format \(RuntimeFileFormat.pipelineVersion)) holds several encoders")
        }
        return try checkAlignment()
    }

    /// `manifest.alignment` and `data_size` against the header (every format version).
    func checkAlignment() throws -> Int {
        let alignment = Int(m.alignment)
        guard alignment >= RuntimeFileFormat.alignment, alignment & (alignment - 1) == 0, alignment <= 1 << 20 else {
            throw fail("manifest.alignment", "expected a power of two between 64 and 1 MiB, got \(m.alignment)")
        }
        guard header.dataOffset % UInt64(alignment) == 0 else {
            throw fail("header.data_offset", "expected a multiple of the manifest alignment \(alignment), got \(header.dataOffset)")
        }
        guard m.data_size == header.dataLength else {
            throw fail("manifest.data_size", "expected \(header.dataLength) (the header's data_length), got \(m.data_size)")
        }
        return alignment
    }

    /// `manifest.hyper`: sizes in range, every enum known, relative-position parameters sane.
    func hyperParameters() throws -> DecodedHyper {
        guard let hp = m.hyper?.pointee else { throw fail("manifest.hyper", "is missing") }
        // The limits of docs/limits.md, as every reader applies them.
        func positive(_ value: UInt32, _ name: String, limit: Int = ResourceLimits.dimension) throws -> Int {
            guard value > 0, value <= limit else { throw fail("manifest.hyper.\(name)", "expected 1...\(limit), got \(value)") }
            return Int(value)
        }
        let hidden = try positive(hp.hidden_size, "hidden_size")
        let layers = try positive(hp.num_layers, "num_layers", limit: ResourceLimits.layers)
        let heads = try positive(hp.num_heads, "num_heads"), headDim = try positive(hp.head_dim, "head_dim")
        let ffn = try positive(hp.ffn_size, "ffn_size")
        let vocab = try positive(hp.vocab_size, "vocab_size", limit: ResourceLimits.vocabulary)
        guard hp.norm_eps.isFinite, hp.norm_eps >= 0 else { throw fail("manifest.hyper.norm_eps", "expected a finite value >= 0, got \(hp.norm_eps)") }
        let norm = try value(ManifestEnums.normKind, hp.norm_kind, "manifest.hyper.norm_kind")
        let postNorm = try value(ManifestEnums.normPlacement, hp.norm_placement, "manifest.hyper.norm_placement")
        let activation = try value(ManifestEnums.activation, hp.activation, "manifest.hyper.activation")
        let scale = try value(ManifestEnums.attentionScaling, hp.attention_scaling, "manifest.hyper.attention_scaling")
        let positions = try value(ManifestEnums.positionEncoding, hp.position_encoding, "manifest.hyper.position_encoding")
        var buckets: Int?, maxDistance: Int?
        if positions != .learned {
            let b = Int(hp.relative_buckets), d = Int(hp.relative_max_distance)
            // The bucket formula divides by log(max_distance / (buckets / 4)): both must be sane.
            guard b >= 4, b <= ResourceLimits.relativeBuckets else {
                throw fail("manifest.hyper.relative_buckets", "expected 4...\(ResourceLimits.relativeBuckets) for relative positions, got \(b)")
            }
            guard d > b / 4, d <= ResourceLimits.relativeMaxDistance else {
                throw fail("manifest.hyper.relative_max_distance",
                           "expected \(b / 4 + 1)...\(ResourceLimits.relativeMaxDistance) (more than relative_buckets / 4), got \(d)")
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
        return DecodedHyper(spec: spec, layers: layers, positions: positions)
    }
}
