import SkrrEvaluation
import SkrrRuntime

/// What each pipeline reads from each of its encoders (docs/architecture.md, "Pipelines"): the one
/// table behind both the discrepancy D (the search compares exactly what the denoiser consumes)
/// and the default output a runtime file records (so `skrrc run FILE.skrr` gives it unasked).
public struct PipelineReads: Equatable, Sendable {
    public enum Pooled: Equatable, Sendable {
        case no
        /// The pooled output, projected: read when the encoder has a projection head
        /// (CLIPTextModelWithProjection's `text_embeds`).
        case ifProjected
        /// The pooled output (FLUX reads CLIP-L's `pooler_output`).
        case always
    }

    public var hidden: ConsumedOutputs.Hidden
    public var pooled: Pooled
    /// What `skrrc run` writes when no `--output` is given.
    public var defaultOutput: OutputSelection

    /// The row for `pipeline` and an encoder: `clip` is a causal CLIP text tower, everything else
    /// (T5, UMT5, BERT) gives its last hidden states.
    public static func of(_ pipeline: PipelineKind, clip: Bool) -> PipelineReads {
        switch (pipeline, clip) {
        case (.sd3, true), (.sdxl, true):
            return PipelineReads(hidden: .penultimate, pooled: .ifProjected, defaultOutput: .layer(-2))
        case (.flux, true):
            return PipelineReads(hidden: .none, pooled: .always, defaultOutput: .pooled)
        default:
            return PipelineReads(hidden: .last, pooled: .no, defaultOutput: .hidden)
        }
    }

    /// The outputs D compares for an encoder with (`projected`) or without a projection head.
    public func consumed(projected: Bool) -> ConsumedOutputs {
        let pooledRead: Bool
        switch pooled {
        case .no: pooledRead = false
        case .ifProjected: pooledRead = projected
        case .always: pooledRead = true
        }
        return ConsumedOutputs(hidden: hidden, pooled: pooledRead)
    }
}
