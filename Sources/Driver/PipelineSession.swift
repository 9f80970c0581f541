import SkrrRuntime
import SkrrSupport

/// Every text encoder of an SD3 or FLUX pipeline loaded together, encoding prompts into the joint
/// conditioning diffusers' `encode_prompt` builds (`JointConditioning`): what `skrrc run
/// PIPELINE_FOLDER` or `skrrc run PIPELINE_FILE.skrr` writes when no `--encoder` is named.
public final class PipelineSession {
    public let kind: PipelineKind
    /// The encoders' names in diffusers' order (those the pipeline combines).
    public let names: [String]
    /// The CLIP towers in diffusers' order (CLIP-L, then CLIP-G in SD3), and the T5 encoder.
    public let clip: [(name: String, session: EncoderSession)]
    public let t5: (name: String, session: EncoderSession)

    public var inputs: [String] { Array(Set(clip.flatMap(\.session.inputs) + t5.session.inputs)).sorted() }

    /// `pipeline`: the kind asked for (`--pipeline`); it must agree with model_index.json's class.
    public convenience init(folder: PipelineFolder, pipeline: PipelineKind? = nil, weightCheck: Bool = true) throws {
        let kind = try Self.kind(of: folder, asked: pipeline)
        let sessions = try folder.encoders.map {
            ($0, try EncoderSession(model: folder.path, encoder: $0, pipeline: kind, weightCheck: weightCheck))
        }
        let roles = try Self.roles(sessions.map { PipelineRoles.Encoder(name: $0.0, clip: $0.1.program.spec.causal, projected: $0.1.program.projection != nil) },
                                   kind: kind, folder: folder)
        self.init(kind: kind, sessions: sessions, roles: roles)
    }

    /// A pipeline runtime file (format 3): its members with the presets they were compiled with.
    /// `pipeline` (`--pipeline`), if given, must be the file's kind.
    public convenience init(file: PipelineRuntimeFile, pipeline: PipelineKind? = nil) throws {
        if let pipeline, pipeline != file.kind {
            throw SkrrError(file: file.path, key: "--pipeline \(pipeline.rawValue)", "this pipeline file was compiled for \(file.kind.rawValue)")
        }
        let sessions = try file.members.map { ($0.name, try EncoderSession(member: $0.file, inputs: [file.path])) }
        self.init(kind: file.kind, sessions: sessions, roles: file.roles)
    }

    init(kind: PipelineKind, sessions: [(String, EncoderSession)], roles: PipelineRoles) {
        let byName = Dictionary(uniqueKeysWithValues: sessions)
        self.kind = kind
        let used = Set(roles.clip + [roles.t5])
        names = sessions.map(\.0).filter(used.contains)
        clip = roles.clip.map { (name: $0, session: byName[$0]!) }
        t5 = (name: roles.t5, session: byName[roles.t5]!)
    }

    /// The pipeline kind joint encoding and pruning use: `asked` (`--pipeline`) or the one
    /// model_index.json's class implies; the two must agree, and it must be SD3 or FLUX.
    public static func kind(of folder: PipelineFolder, asked: PipelineKind?) throws -> PipelineKind {
        let index = FileSystem.join(folder.path, "model_index.json")
        guard let kind = asked ?? folder.kind else {
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
        return kind
    }

    /// Which of the folder's encoders (in diffusers' order, each a causal CLIP tower or not, with
    /// or without a projection head) are the CLIP towers and which is T5; refuses a set the
    /// pipeline does not combine, naming what is there.
    public static func roles(_ encoders: [PipelineRoles.Encoder], kind: PipelineKind, folder: PipelineFolder) throws -> PipelineRoles {
        try PipelineRoles.assign(encoders, kind: kind, file: FileSystem.join(folder.path, "model_index.json")) {
            FileSystem.join(folder.path, $0)
        }
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
