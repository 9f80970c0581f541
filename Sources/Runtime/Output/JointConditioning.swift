import SkrrSupport

/// What one encoder of a multi-encoder pipeline contributes to the joint conditioning: its
/// token states (`[batch, length, width]`; CLIP's penultimate layer, T5's last) and its pooled
/// vector (`[batch, pooledWidth]`; CLIP's projected `text_embeds` in SD3, the plain pooler output
/// in FLUX).
public struct EncoderContribution: Sendable {
    public var name: String
    public var batch: Int
    public var length: Int
    public var width: Int
    public var states: [Float]?
    public var pooledWidth: Int
    public var pooled: [Float]?

    public init(name: String, batch: Int, length: Int, width: Int, states: [Float]?, pooledWidth: Int = 0, pooled: [Float]? = nil) {
        self.name = name
        self.batch = batch
        self.length = length
        self.width = width
        self.states = states
        self.pooledWidth = pooledWidth
        self.pooled = pooled
    }
}

/// The conditioning a multi-encoder pipeline hands its denoiser, built exactly as diffusers'
/// `encode_prompt` builds it (docs/architecture.md, "Pipelines with several encoders"). It lives
/// in the runtime, not the driver, because both `skrrc run` on a pipeline and a joint search's
/// discrepancy must assemble the same arrays from the same per-encoder outputs.
public enum JointConditioning {
    public struct Arrays: Sendable {
        /// `[batch, tokens, width]`.
        public var promptEmbeds: [Float]
        public var tokens: Int
        public var width: Int
        /// `[batch, pooledWidth]`.
        public var pooled: [Float]
        public var pooledWidth: Int

        public init(promptEmbeds: [Float], tokens: Int, width: Int, pooled: [Float], pooledWidth: Int) {
            self.promptEmbeds = promptEmbeds
            self.tokens = tokens
            self.width = width
            self.pooled = pooled
            self.pooledWidth = pooledWidth
        }

        public func named(batch: Int) -> [NamedArray] {
            [NamedArray(name: "prompt_embeds", shape: [batch, tokens, width], values: .float32(promptEmbeds)),
             NamedArray(name: "pooled_prompt_embeds", shape: [batch, pooledWidth], values: .float32(pooled))]
        }
    }

    /// SD3: the CLIP encoders' states concatenated on features, zero-padded on features to T5's
    /// width, then T5's states appended on the sequence; pooled = the CLIP `text_embeds`
    /// concatenated. `clip` in pipeline order (CLIP-L, CLIP-G).
    public static func sd3(clip: [EncoderContribution], t5: EncoderContribution) throws -> Arrays {
        guard let first = clip.first else { throw SkrrError(key: "sd3", "SD3 needs its CLIP encoders") }
        let batch = first.batch, clipLength = first.length
        for part in clip + [t5] where part.batch != batch {
            throw SkrrError(key: part.name, "encoded \(part.batch) prompts, \(first.name) \(batch)")
        }
        for part in clip where part.length != clipLength {
            throw SkrrError(key: part.name, "gives \(part.length) positions, \(first.name) \(clipLength): SD3 concatenates them on features")
        }
        let clipWidth = clip.reduce(0) { $0 + $1.width }
        guard clipWidth <= t5.width else {
            throw SkrrError(key: t5.name, "is \(t5.width) wide, narrower than the CLIP states it must hold (\(clip.map { "\($0.name) \($0.width)" }.joined(separator: " + ")))")
        }
        let tokens = clipLength + t5.length, width = t5.width
        var embeds = [Float](repeating: 0, count: batch * tokens * width)
        var column = 0
        for part in clip {
            let states = try required(part.states, part.name, "token states")
            for row in 0..<(batch * clipLength) {
                let (b, p) = row.quotientAndRemainder(dividingBy: clipLength)
                let source = row * part.width, target = (b * tokens + p) * width + column
                embeds.replaceSubrange(target..<(target + part.width), with: states[source..<(source + part.width)])
            }
            column += part.width
        }
        let t5States = try required(t5.states, t5.name, "token states")
        for b in 0..<batch {
            let target = (b * tokens + clipLength) * width
            embeds.replaceSubrange(target..<target + t5.length * width,
                                   with: t5States[(b * t5.length * width)..<((b + 1) * t5.length * width)])
        }
        let pooledWidth = clip.reduce(0) { $0 + $1.pooledWidth }
        var pooled = [Float](repeating: 0, count: batch * pooledWidth)
        column = 0
        for part in clip {
            let values = try required(part.pooled, part.name, "pooled vector")
            for b in 0..<batch {
                let target = b * pooledWidth + column, source = b * part.pooledWidth
                pooled.replaceSubrange(target..<(target + part.pooledWidth), with: values[source..<(source + part.pooledWidth)])
            }
            column += part.pooledWidth
        }
        return Arrays(promptEmbeds: embeds, tokens: tokens, width: width, pooled: pooled, pooledWidth: pooledWidth)
    }

    /// FLUX: T5's states as they are; pooled = CLIP-L's pooler output.
    public static func flux(clip: EncoderContribution, t5: EncoderContribution) throws -> Arrays {
        guard clip.batch == t5.batch else {
            throw SkrrError(key: clip.name, "encoded \(clip.batch) prompts, \(t5.name) \(t5.batch)")
        }
        return Arrays(promptEmbeds: try required(t5.states, t5.name, "token states"), tokens: t5.length, width: t5.width,
                      pooled: try required(clip.pooled, clip.name, "pooled vector"), pooledWidth: clip.pooledWidth)
    }

    private static func required(_ values: [Float]?, _ name: String, _ what: String) throws -> [Float] {
        guard let values else { throw SkrrError(key: name, "gave no \(what), which the joint conditioning needs") }
        return values
    }
}
