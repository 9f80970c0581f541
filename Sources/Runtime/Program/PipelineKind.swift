/// The text-to-image pipelines whose encoder settings skrrc knows (docs/architecture.md,
/// "Pipelines"). The one vocabulary for `--pipeline`, presets and runtime files.
public enum PipelineKind: String, CaseIterable, Sendable {
    /// Any encoder on its own: prompts padded to the longest in the batch, padding masked.
    case generic
    /// PixArt-Σ: T5-XXL, 300 tokens padded to max length, masked.
    case pixartSigma = "pixart-sigma"
    /// Stable Diffusion 3: T5-XXL (256 tokens, no mask) with CLIP-L and CLIP-G (77 tokens).
    case sd3
    /// FLUX.1: T5-XXL (512 tokens, no mask) with CLIP-L's pooled output.
    case flux
    /// SDXL: two CLIP encoders, 77 tokens, penultimate layer.
    case sdxl
}
