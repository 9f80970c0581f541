import SkrrFrontend
import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrSupport

/// Everything `skrrc run` can be asked to do, typed.
public struct EncodeOptions: Sendable {
    /// A runtime file (.skrr), an IR file (.ir) or a model (file, index or folder).
    public var model: String
    public var encoder: String?
    public var prompts: [String] = []
    public var promptFiles: [String] = []
    /// Token-id sequences (`--ids`), instead of prompts.
    public var ids: [[Int32]] = []
    /// What to write; nil: `hidden`, or what a runtime file records.
    public var output: OutputSelection?
    /// nil: generic, or the preset a runtime file was compiled with.
    public var pipeline: PipelineKind?
    public var compute: ComputePrecision = .f32
    /// Tokens a sequence may have (`--max-tokens`, docs/limits.md).
    public var maxTokens = ResourceLimits.defaultTokensPerSequence
    /// Scan a model's weights for NaN/Inf before encoding, as compile does (model folders and
    /// checkpoints; runtime files carry checksums of weights that were scanned when written).
    public var weightCheck = true
    /// `.npy` or `.safetensors`.
    public var out: String

    public init(model: String, out: String) {
        self.model = model
        self.out = out
    }

    /// Every encoder together: a pipeline folder with several encoders, or a pipeline runtime
    /// file, and no `--encoder`.
    var isJoint: Bool {
        guard encoder == nil else { return false }
        if model.hasSuffix(".skrr") { return PipelineRuntimeFile.isPipelineFile(model) }
        return (try? PipelineFolder.read(model))?.isJoint == true
    }

    public func validate() throws {
        if prompts.isEmpty && promptFiles.isEmpty && ids.isEmpty {
            throw UsageError("give at least one --prompt, --prompt-file or --ids")
        }
        if !ids.isEmpty && !(prompts.isEmpty && promptFiles.isEmpty) {
            throw UsageError("--ids cannot be mixed with --prompt/--prompt-file in one batch")
        }
        if !out.hasSuffix(".npy") && !out.hasSuffix(".safetensors") {
            throw UsageError("-o must end in .npy or .safetensors, got '\(out)'")
        }
        // A pipeline folder or pipeline file without --encoder encodes with all its encoders
        // (EncodeJob.runJoint).
        if encoder == nil, isJoint {
            if !ids.isEmpty {
                throw UsageError("--ids names one tokenizer's ids; a pipeline's encoders each tokenize the prompt (give --prompt, or --encoder NAME)")
            }
            if let output {
                throw UsageError("--output \(output.description) applies to one encoder; the joint conditioning is prompt_embeds and pooled_prompt_embeds (or name --encoder)")
            }
        }
        if !(1...ResourceLimits.tokensPerSequence).contains(maxTokens) {
            throw UsageError("--max-tokens must be in 1...\(ResourceLimits.tokensPerSequence), got \(maxTokens)")
        }
    }
}

/// `skrrc run`: encode prompts (or token ids) with a runtime file, an IR file or a model, and
/// write the embeddings a diffusion pipeline consumes.
public enum EncodeJob {
    public static func run(_ options: EncodeOptions) throws {
        if options.isJoint {
            let session = options.model.hasSuffix(".skrr")
                ? try PipelineSession(file: try PipelineRuntimeFile(path: options.model), pipeline: options.pipeline)
                : try PipelineSession(folder: try PipelineFolder.read(options.model)!, pipeline: options.pipeline, weightCheck: options.weightCheck)
            try runJoint(options, session: session)
            return
        }
        let session = try EncoderSession(model: options.model, encoder: options.encoder, pipeline: options.pipeline,
                                         weightCheck: options.weightCheck)
        try OutputPaths.check(outputs: [("-o", options.out)], inputs: session.inputs + options.promptFiles)
        let prompts = try promptList(options)
        let batch = prompts.isEmpty ? try session.batch(ids: options.ids) : try session.batch(prompts: prompts, maxTokens: options.maxTokens)
        if options.compute == .bf16 && !session.program.tensors.contains(where: { $0.dtype == .bf16 }) {
            StandardStreams.err("note: --compute bf16 changes nothing here: no weight is stored in bf16 (compile with --weight-dtype bf16)\n")
        }
        let output = options.output ?? session.defaultOutput
        let arrays = try session.encode(batch, output: output, compute: options.compute, maxTokens: options.maxTokens)
        try write(arrays, output: output, pipeline: session.preset.name, to: options.out)
        let shape = arrays[0].shape
        StandardStreams.err("wrote \(options.out): \(shape[0]) × \(batch.length) tokens, width \(shape.last!)\n")
    }

    /// A pipeline folder with several encoders, or a pipeline file, and no `--encoder`: every
    /// encoder, combined as the pipeline's `encode_prompt` combines them.
    static func runJoint(_ options: EncodeOptions, session: PipelineSession) throws {
        try OutputPaths.check(outputs: [("-o", options.out)], inputs: session.inputs + options.promptFiles)
        let prompts = try promptList(options)
        let arrays = try session.encode(prompts: prompts, compute: options.compute, maxTokens: options.maxTokens)
        if options.out.hasSuffix(".npy") {
            try AtomicFile.write(options.out, bytes: EmbeddingWriters.npyBytes(arrays[0]))
        } else {
            try AtomicFile.write(options.out, bytes: EmbeddingWriters.safetensorsBytes(
                arrays, metadata: [("output", "joint"), ("pipeline", session.kind.rawValue),
                                   ("encoders", session.names.joined(separator: ","))]))
        }
        let shape = arrays[0].shape
        StandardStreams.err("wrote \(options.out): \(shape[0]) × \(shape[1]) tokens, width \(shape[2]) (\(session.kind.rawValue): \(session.names.joined(separator: " + ")))\n")
    }

    static func promptList(_ options: EncodeOptions) throws -> [(text: String, origin: String)] {
        var prompts: [(text: String, origin: String)] = options.prompts.enumerated().map { ($1, "--prompt \($0 + 1)") }
        for file in options.promptFiles {
            prompts += try PromptFiles.read(file).enumerated().map { ($1, "prompt \($0 + 1) of \(file)") }
        }
        return prompts
    }

    /// `.npy`: the one array asked for. `.safetensors`: every array, under diffusers' names.
    static func write(_ arrays: [NamedArray], output: OutputSelection, pipeline: String, to path: String) throws {
        if path.hasSuffix(".npy") {
            try AtomicFile.write(path, bytes: EmbeddingWriters.npyBytes(arrays[0]))
            return
        }
        try AtomicFile.write(path, bytes: EmbeddingWriters.safetensorsBytes(arrays, metadata: [("output", output.description), ("pipeline", pipeline)]))
    }
}
