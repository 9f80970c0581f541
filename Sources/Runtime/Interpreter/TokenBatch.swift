import SkrrSupport

/// Token ids for one forward pass. Ragged sequences are padded to the longest (or to
/// `padToLength`, as pipeline presets require); `maskPadding` says whether padded keys are masked
/// (most presets) or attended like real tokens (SD3 and FLUX run T5 without a mask).
public struct TokenBatch: Sendable {
    public var ids: [[Int32]]
    public var tokenTypes: [[Int32]]?
    public var padToLength: Int?
    public var maskPadding: Bool

    public init(ids: [[Int32]], tokenTypes: [[Int32]]? = nil, padToLength: Int? = nil, maskPadding: Bool = true) {
        self.ids = ids
        self.tokenTypes = tokenTypes
        self.padToLength = padToLength
        self.maskPadding = maskPadding
    }

    public var length: Int { max(padToLength ?? 0, ids.map(\.count).max() ?? 0) }

    /// Refuses a batch above the limits (docs/limits.md) before anything sized by it is
    /// allocated: attention keeps `heads × length²` floats per batch, so a 40k-token prompt would
    /// ask for tens of GB and abort instead of failing with a message.
    public func checkLimits(maxTokens: Int) throws {
        guard ids.count <= ResourceLimits.sequencesPerBatch else {
            throw SkrrError(key: "ids", "expected at most \(ResourceLimits.sequencesPerBatch) sequences in one batch, got \(ids.count)")
        }
        if let padToLength, padToLength > maxTokens {
            throw SkrrError(key: "max_length", "the preset pads every sequence to \(padToLength) tokens, above the limit of "
                            + "\(maxTokens) tokens per sequence (docs/limits.md; `run --max-tokens` raises it)")
        }
        if let long = ids.firstIndex(where: { $0.count > maxTokens }) {
            throw SkrrError(key: "ids", TokenBatch.overLimit("sequence \(long)", tokens: ids[long].count, maxTokens: maxTokens))
        }
    }

    /// The message for a sequence above the token limit, shared by the callers that can name
    /// the prompt it came from.
    public static func overLimit(_ what: String, tokens: Int, maxTokens: Int) -> String {
        "\(what) has \(tokens) tokens, above the limit of \(maxTokens) per sequence (docs/limits.md)"
    }
}

/// What a forward pass returns. Arrays are row-major float32.
public struct EncoderOutput: Sendable {
    public var batch: Int
    public var length: Int
    public var width: Int
    /// `[batch, length, width]`: the final hidden states (after the final norm, if any).
    public var hidden: [Float]
    /// transformers' `hidden_states[i]` for each requested non-negative index i.
    public var layers: [Int: [Float]]
    /// `[batch, width]`, when the encoder has a pooling head.
    public var pooled: [Float]?
    /// `[batch, projection]`, when it also has a projection.
    public var projected: [Float]?
    public var projectionWidth: Int?
    /// `[batch, length]`: 1 for real tokens, 0 for padding.
    public var mask: [Int32]
}
