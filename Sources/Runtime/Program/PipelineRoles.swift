import SkrrSupport

/// Which encoders of an SD3 or FLUX pipeline are the CLIP towers and which is T5, from what the
/// encoders are (a causal encoder is a CLIP tower), never from their names. A pipeline folder and
/// a pipeline runtime file are checked by the same rule, so a file that loads is one the joint
/// conditioning (`JointConditioning`) can be built from.
public struct PipelineRoles: Equatable, Sendable {
    /// The CLIP towers in the pipeline's order (CLIP-L, then CLIP-G in SD3).
    public var clip: [String]
    public var t5: String

    /// What the rule needs to know of one encoder.
    public struct Encoder: Sendable {
        public var name: String
        /// Causal attention: a CLIP text tower.
        public var clip: Bool
        /// It has a projection head (CLIPTextModelWithProjection).
        public var projected: Bool

        public init(name: String, clip: Bool, projected: Bool) {
            self.name = name
            self.clip = clip
            self.projected = projected
        }
    }

    /// `encoders` in the pipeline's order; a set the pipeline does not combine is refused,
    /// naming what is there. `file` and `key` place the message (model_index.json, or a
    /// runtime file's `manifest.pipeline.members`); `member` gives the file a faulty encoder is
    /// reported against.
    public static func assign(_ encoders: [Encoder], kind: PipelineKind, file: String, key: String? = nil,
                              member: (String) -> String) throws -> PipelineRoles {
        guard kind == .sd3 || kind == .flux else {
            throw SkrrError(file: file, key: key, "joint encoding covers SD3 and FLUX, not \(kind.rawValue)")
        }
        let clip = encoders.filter(\.clip), other = encoders.filter { !$0.clip }
        let expectedClip = kind == .sd3 ? 2 : 1
        guard clip.count == expectedClip, other.count == 1 else {
            throw SkrrError(file: file, key: key,
                            "\(kind.rawValue) combines \(expectedClip) CLIP encoder(s) and one T5 encoder; this pipeline has "
                            + "\(clip.count) CLIP (\(clip.map(\.name).joined(separator: ", "))) and \(other.count) other (\(other.map(\.name).joined(separator: ", ")))")
        }
        if kind == .sd3, let missing = clip.first(where: { !$0.projected }) {
            throw SkrrError(file: member(missing.name), key: "text_projection.weight",
                            "SD3 reads each CLIP encoder's projected pooled output (CLIPTextModelWithProjection); this one has no projection")
        }
        return PipelineRoles(clip: clip.map(\.name), t5: other[0].name)
    }
}
