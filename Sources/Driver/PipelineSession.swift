import SkrrRuntime
import SkrrSupport

/// Every text encoder of an SD3 or FLUX pipeline loaded together, encoding prompts into the joint
/// conditioning diffusers' `encode_prompt` builds (`JointConditioning`): what `skrrc run
/// PIPELINE_FOLDER` writes when no `--encoder` is named.
public final class PipelineSession {
    public let folder: PipelineFolder
    public let kind: PipelineKind
    /// The CLIP towers in diffusers' order (CLIP-L, then CLIP-G in SD3), and the T5 encoder.
    public let clip: [(name: String, session: EncoderSession)]
    public let t5: (name: String, session: EncoderSession)

    public var inputs: [String] { clip.flatMap(\.session.inputs) + t5.session.inputs }

    /// `pipeline`: the kind asked for (`--pipeline`); it must agree with model_index.json's class.
    public init(folder: PipelineFolder, pipeline: PipelineKind? = nil, weightCheck: Bool = true) throws {
        let index = FileSystem.join(folder.path, "model_index.json")
        guard let kind = pipeline ?? folder.kind else {
            throw SkrrError(file: index, key: "_class_name",
                            "\(folder.className) is not a pipeline skrrc can combine encoders for (SD3, FLUX); name one with --encoder")
        }
        if let inferred = folder.kind, inferred != kind {
            throw SkrrError(file: index, key: "_class_name", "is \(folder.className) (\(inferred.rawValue)), but --pipeline \(kind.rawValue) was given")
        }
        guard kind == .sd3 || kind == .flux else {
            throw SkrrError(file: index, key: "_class_name",
                            "joint encoding covers SD3 and FLUX; for \(kind.rawValue) name one encoder with --encoder (found: \(folder.encoders.joined(separator: ", ")))")
        }
        var clip: [(String, EncoderSession)] = [], t5: [(String, EncoderSession)] = []
        for name in folder.encoders {
            let session = try EncoderSession(model: folder.path, encoder: name, pipeline: kind, weightCheck: weightCheck)
            if session.program.spec.causal { clip.append((name, session)) } else { t5.append((name, session)) }
        }
        let expectedClip = kind == .sd3 ? 2 : 1
        guard clip.count == expectedClip, t5.count == 1 else {
            throw SkrrError(file: index, "\(kind.rawValue) combines \(expectedClip) CLIP encoder(s) and one T5 encoder; this folder has "
                            + "\(clip.count) CLIP (\(clip.map(\.0).joined(separator: ", "))) and \(t5.count) other (\(t5.map(\.0).joined(separator: ", ")))")
        }
        if kind == .sd3, let missing = clip.first(where: { $0.1.program.projection == nil }) {
            throw SkrrError(file: FileSystem.join(folder.path, missing.0), key: "text_projection.weight",
                            "SD3 reads each CLIP encoder's projected pooled output (CLIPTextModelWithProjection); this one has no projection")
        }
        self.folder = folder
        self.kind = kind
        self.clip = clip.map { (name: $0.0, session: $0.1) }
        self.t5 = (name: t5[0].0, session: t5[0].1)
    }

    /// Encodes prompts (each with where it came from, for messages) into `prompt_embeds` and
    /// `pooled_prompt_embeds`.
    public func encode(prompts: [(text: String, origin: String)], compute: ComputePrecision = .f32,
                       maxTokens: Int = ResourceLimits.defaultTokensPerSequence) throws -> [NamedArray] {
        var parts: [EncoderContribution] = []
        for (name, session) in clip {
            let batch = try session.batch(prompts: prompts, maxTokens: maxTokens)
            let output: OutputSelection = kind == .sd3 ? .layer(-2) : .pooled
            parts.append(try contribution(name, session.encode(batch, output: output, compute: compute, maxTokens: maxTokens)))
        }
        let t5Batch = try t5.session.batch(prompts: prompts, maxTokens: maxTokens)
        let t5Part = try contribution(t5.name, t5.session.encode(t5Batch, output: .hidden, compute: compute, maxTokens: maxTokens))
        let joint = kind == .sd3 ? try JointConditioning.sd3(clip: parts, t5: t5Part) : try JointConditioning.flux(clip: parts[0], t5: t5Part)
        return joint.named(batch: prompts.count)
    }

    /// One encoder's arrays (as `EncoderSession.encode` names them) as its share of the joint
    /// conditioning.
    func contribution(_ name: String, _ arrays: [NamedArray]) throws -> EncoderContribution {
        func floats(_ array: NamedArray) -> [Float] {
            if case let .float32(values) = array.values { return values }
            return []
        }
        let states = arrays.first { $0.name == "prompt_embeds" }
        let pooled = arrays.first { $0.name == "pooled_prompt_embeds" }
        let batch = states?.shape[0] ?? pooled?.shape[0] ?? 0
        return EncoderContribution(
            name: name, batch: batch, length: states?.shape[1] ?? 0, width: states?.shape[2] ?? 0, states: states.map(floats),
            pooledWidth: pooled?.shape[1] ?? 0, pooled: pooled.map(floats))
    }
}
