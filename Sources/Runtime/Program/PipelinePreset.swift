import SkrrSupport

/// How a text-to-image pipeline feeds its encoder (docs/architecture.md §8): maximum length,
/// whether prompts are padded to it, and whether padding is masked.
public struct PipelinePreset: Equatable, Sendable {
    public var kind: PipelineKind
    public var maxLength: Int?
    public var padToMax: Bool
    public var useMask: Bool

    public init(kind: PipelineKind, maxLength: Int?, padToMax: Bool, useMask: Bool) {
        self.kind = kind
        self.maxLength = maxLength
        self.padToMax = padToMax
        self.useMask = useMask
    }

    /// The pipeline's spelling (`pixart-sigma`), as `--pipeline` and runtime files write it.
    public var name: String { kind.rawValue }

    /// The length prompts are truncated to: the preset's maximum, and never more than an
    /// encoder with learned positions can hold (as transformers truncates to the model's limit).
    public func truncationLength(maxPositions: Int?) -> Int? {
        switch (maxLength, maxPositions) {
        case let (preset?, positions?): return min(preset, positions)
        case let (preset?, nil): return preset
        case let (nil, positions): return positions
        }
    }

    /// The preset for an encoder: CLIP towers always see 77 padded positions without a mask in
    /// SD3, FLUX and SDXL; T5 settings differ per pipeline.
    public static func preset(for kind: PipelineKind, clipEncoder: Bool) throws -> PipelinePreset {
        let name = kind.rawValue
        switch (kind, clipEncoder) {
        case (.generic, _): return PipelinePreset(kind: kind, maxLength: nil, padToMax: false, useMask: true)
        case (.pixartSigma, false): return PipelinePreset(kind: kind, maxLength: 300, padToMax: true, useMask: true)
        case (.sd3, false): return PipelinePreset(kind: kind, maxLength: 256, padToMax: true, useMask: false)
        case (.flux, false): return PipelinePreset(kind: kind, maxLength: 512, padToMax: true, useMask: false)
        case (.sd3, true), (.flux, true), (.sdxl, true):
            return PipelinePreset(kind: kind, maxLength: 77, padToMax: true, useMask: false)
        case (.pixartSigma, true):
            throw SkrrError(key: name, "PixArt-Σ has no CLIP encoder; use --pipeline generic for this model")
        case (.sdxl, false):
            throw SkrrError(key: name, "SDXL uses CLIP encoders only; use --pipeline generic for this model")
        }
    }
}
