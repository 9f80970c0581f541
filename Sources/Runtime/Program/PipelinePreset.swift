import SkrrSupport

/// How a text-to-image pipeline feeds its encoder (docs/architecture.md §3): maximum length, whether
/// prompts are padded to it, and whether padding is masked.
public struct PipelinePreset: Equatable, Sendable {
    public var name: String
    public var maxLength: Int?
    public var padToMax: Bool
    public var useMask: Bool

    public static let names = PipelineKind.allCases.map(\.rawValue)

    /// The preset's pipeline (nil only for names no runtime file may hold: the loader refuses them).
    public var kind: PipelineKind? { PipelineKind(rawValue: name) }

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
    public static func named(_ name: String, clipEncoder: Bool) throws -> PipelinePreset {
        guard let kind = PipelineKind(rawValue: name) else {
            throw SkrrError(key: name, "unknown pipeline (known: \(names.joined(separator: ", ")))")
        }
        return try preset(for: kind, clipEncoder: clipEncoder)
    }

    public static func preset(for kind: PipelineKind, clipEncoder: Bool) throws -> PipelinePreset {
        let name = kind.rawValue
        switch (kind, clipEncoder) {
        case (.generic, _): return PipelinePreset(name: name, maxLength: nil, padToMax: false, useMask: true)
        case (.pixartSigma, false): return PipelinePreset(name: name, maxLength: 300, padToMax: true, useMask: true)
        case (.sd3, false): return PipelinePreset(name: name, maxLength: 256, padToMax: true, useMask: false)
        case (.flux, false): return PipelinePreset(name: name, maxLength: 512, padToMax: true, useMask: false)
        case (.sd3, true), (.flux, true), (.sdxl, true):
            return PipelinePreset(name: name, maxLength: 77, padToMax: true, useMask: false)
        case (.pixartSigma, true):
            throw SkrrError(key: name, "PixArt-Σ has no CLIP encoder; use --pipeline generic for this model")
        case (.sdxl, false):
            throw SkrrError(key: name, "SDXL uses CLIP encoders only; use --pipeline generic for this model")
        }
    }
}
