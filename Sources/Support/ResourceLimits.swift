/// The largest sizes skrrc accepts from any file or option it reads (docs/limits.md).
///
/// Every reader (config.json, IR text, runtime files, prompts) checks its sizes against these
/// before it allocates anything whose size depends on them, so a corrupt or hostile file is
/// refused with the key named instead of trapping on an overflow, exhausting memory or looping
/// for hours. They sit orders of magnitude above every text encoder in use (T5-XXL: 24 layers,
/// d_model 4096, d_ff 10240, 64 heads, 32128 tokens) and low enough that products of them
/// (a weight matrix's elements, a 32-bit manifest field, a score matrix) cannot overflow.
public enum ResourceLimits {
    /// Transformer blocks (`num_layers`): 2 sub-blocks each, every one a search candidate.
    public static let layers = 1_024
    /// Any width: hidden size, heads, head size, feed-forward size, projection size.
    public static let dimension = 1 << 24
    /// Vocabulary entries (token ids are 32-bit).
    public static let vocabulary = 1 << 26
    /// Relative-position buckets (T5: 32).
    public static let relativeBuckets = 1 << 16
    /// T5's `relative_attention_max_distance` (128 in every T5): it only shapes the bucket formula.
    public static let relativeMaxDistance = 1 << 24
    /// Learned position-table rows and a preset's `max_length`.
    public static let positions = 1 << 20
    /// Token-type rows (BERT: 2).
    public static let tokenTypes = 1 << 16
    /// Tokens per sequence that `run` and calibration accept unless `--max-tokens` raises it.
    /// T5 has no position limit, but attention keeps `heads × tokens²` floats per batch: 4,096
    /// tokens on T5-XXL (64 heads) is 4.3 GB of position bias, about half the model again.
    /// The pipelines read 77 (CLIP), 256 (SD3), 300 (PixArt-Σ) or 512 (FLUX) tokens.
    public static let defaultTokensPerSequence = 4_096
    /// `--max-tokens` may not go above this (the score matrix of one head stays below 2^32 floats).
    public static let tokensPerSequence = 1 << 16
    /// Sequences in one `run` batch.
    public static let sequencesPerBatch = 65_536
}
