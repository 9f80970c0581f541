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
        if !(1...ResourceLimits.tokensPerSequence).contains(maxTokens) {
            throw UsageError("--max-tokens must be in 1...\(ResourceLimits.tokensPerSequence), got \(maxTokens)")
        }
    }
}

/// `skrrc run`: encode prompts (or token ids) with a runtime file, an IR file or a model, and
/// write the embeddings a diffusion pipeline consumes.
public enum EncodeJob {
    /// The program to run and where its weights are, with the defaults the source implies.
    struct Loaded {
        var program: EncoderProgram
        var weights: WeightSource
        var preset: PipelinePreset
        var output: OutputSelection
        var family: String
        /// The files read to get here: no output may replace one of them.
        var inputs: [String]
    }

    public static func run(_ options: EncodeOptions) throws {
        var loaded = try load(options)
        if let kind = options.pipeline { loaded.preset = try PipelinePreset.preset(for: kind, clipEncoder: loaded.program.spec.causal) }
        let output = options.output ?? loaded.output
        let program = loaded.program
        try OutputPaths.check(outputs: [("-o", options.out)], inputs: loaded.inputs + options.promptFiles)
        let batch = try makeBatch(options, program: program, preset: loaded.preset)
        if output == .pooled && program.pooling == nil {
            throw SkrrError(key: "--output pooled", "this \(loaded.family) encoder has no pooling head")
        }
        if output == .projected && program.projection == nil {
            throw SkrrError(key: "--output projected", "this encoder has no projection head")
        }
        var layers: [Int] = []
        if case let .layer(n) = output { layers = [n] }
        let interpreter = try Interpreter(program: program, weights: loaded.weights)
        interpreter.maxTokens = options.maxTokens
        interpreter.compute = options.compute
        if options.compute == .bf16 {
            guard Interpreter.bf16ComputeSupported else {
                throw SkrrError(key: "--compute bf16", "this CPU has no AVX-512 BF16 instructions; use --compute f32")
            }
            if !program.tensors.contains(where: { $0.dtype == .bf16 }) {
                StandardStreams.err("note: --compute bf16 changes nothing here: no weight is stored in bf16 (compile with --weight-dtype bf16)\n")
            }
        }
        let result = try interpreter.run(batch, layers: layers)
        try write(result, output: output, blocks: program.blockCount, pipeline: loaded.preset.name, to: options.out)
        StandardStreams.err("wrote \(options.out): \(result.batch) × \(result.length) tokens, width \(result.width)\n")
    }

    static func load(_ options: EncodeOptions) throws -> Loaded {
        let path = options.model
        if path.hasSuffix(".skrr") {
            if let encoder = options.encoder {
                throw SkrrError(file: path, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; a runtime file holds one encoder")
            }
            let file = try RuntimeFile(path: path)
            return Loaded(program: file.program, weights: file, preset: file.preset,
                          output: file.info.defaultOutput, family: "compiled", inputs: [path])
        }
        let ir: ModelIR
        let inputs: [String]
        if path.hasSuffix(".ir") {
            if let encoder = options.encoder {
                throw SkrrError(file: path, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; an IR file holds one encoder")
            }
            ir = IRFiles.resolvingRoot(try IRFiles.read(path), readFrom: path)
            inputs = [path] + ir.inputFiles
        } else {
            let imported = try ModelImporter.importModel(at: path, encoder: options.encoder)
            if options.weightCheck { try WeightScan.check(imported) }
            ir = imported.ir
            inputs = imported.inputFiles
        }
        return Loaded(program: try Lowering.lower(ir), weights: try SourceWeights(model: ir),
                      preset: try PipelinePreset.preset(for: .generic, clipEncoder: ir.config.causal),
                      output: .hidden, family: ir.family.rawValue, inputs: inputs)
    }

    static func makeBatch(_ options: EncodeOptions, program: EncoderProgram, preset: PipelinePreset) throws -> TokenBatch {
        var sequences = options.ids
        var prompts: [(text: String, origin: String)] = options.prompts.enumerated().map { ($1, "--prompt \($0 + 1)") }
        for file in options.promptFiles {
            prompts += try PromptFiles.read(file).enumerated().map { ($1, "prompt \($0 + 1) of \(file)") }
        }
        guard prompts.count + sequences.count <= ResourceLimits.sequencesPerBatch else {
            throw SkrrError(key: "--prompt", "expected at most \(ResourceLimits.sequencesPerBatch) sequences in one batch, got \(prompts.count + sequences.count)")
        }
        if !prompts.isEmpty {
            let tokenizer = try TokenizerLoading.load(program.tokenizer)
            let limit = preset.truncationLength(maxPositions: program.spec.maxPositions)
            sequences = try prompts.map { prompt in
                let ids = try tokenizer.encode(prompt.text, maxLength: limit)
                guard ids.count <= options.maxTokens else {
                    throw SkrrError(key: "--max-tokens", TokenBatch.overLimit(prompt.origin, tokens: ids.count, maxTokens: options.maxTokens)
                                    + "; --max-tokens raises it")
                }
                return ids
            }
        } else if let maxLength = preset.maxLength, let long = sequences.firstIndex(where: { $0.count > maxLength }) {
            throw SkrrError(key: "--ids", "sequence \(long) has \(sequences[long].count) ids, more than the \(preset.name) maximum of \(maxLength)")
        }
        return TokenBatch(ids: sequences, padToLength: preset.padToMax ? preset.maxLength : nil, maskPadding: preset.useMask)
    }

    /// `.npy`: the one array asked for. `.safetensors`: diffusers' argument names, with the
    /// attention mask and the pooled output beside the hidden states when there is one.
    static func write(_ result: EncoderOutput, output: OutputSelection, blocks: Int, pipeline: String, to path: String) throws {
        let hiddenShape = [result.batch, result.length, result.width]
        let primary: NamedArray
        switch output {
        case .hidden:
            primary = NamedArray(name: "prompt_embeds", shape: hiddenShape, values: .float32(result.hidden))
        case let .layer(n):
            let resolved = n < 0 ? blocks + 1 + n : n
            primary = NamedArray(name: "prompt_embeds", shape: hiddenShape, values: .float32(result.layers[resolved]!))
        case .pooled:
            primary = NamedArray(name: "pooled_prompt_embeds", shape: [result.batch, result.width], values: .float32(result.pooled!))
        case .projected:
            primary = NamedArray(name: "pooled_prompt_embeds", shape: [result.batch, result.projectionWidth!], values: .float32(result.projected!))
        }
        if path.hasSuffix(".npy") {
            try AtomicFile.write(path, bytes: EmbeddingWriters.npyBytes(primary))
            return
        }
        var arrays = [primary]
        if primary.name == "prompt_embeds" {
            arrays.append(NamedArray(name: "prompt_attention_mask", shape: [result.batch, result.length],
                                     values: .int64(result.mask.map(Int64.init))))
            if let projected = result.projected {
                arrays.append(NamedArray(name: "pooled_prompt_embeds", shape: [result.batch, result.projectionWidth!], values: .float32(projected)))
            } else if let pooled = result.pooled {
                arrays.append(NamedArray(name: "pooled_prompt_embeds", shape: [result.batch, result.width], values: .float32(pooled)))
            }
        }
        try AtomicFile.write(path, bytes: EmbeddingWriters.safetensorsBytes(arrays, metadata: [("output", output.description), ("pipeline", pipeline)]))
    }
}
