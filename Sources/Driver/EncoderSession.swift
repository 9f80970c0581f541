import SkrrFrontend
import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrSupport

/// An encoder loaded once that encodes batch after batch: `skrrc run` makes one for its one
/// batch, the C library (libskrr, Sources/CAPI) keeps one per handle. Both go through the same
/// loading checks, tokenisation, limits and output arrays, so what the library returns is
/// bit-identical to what `skrrc run` writes.
///
/// One session runs one batch at a time (the interpreter reuses its buffers); callers that
/// share a session between threads serialise their calls.
public final class EncoderSession {
    public let program: EncoderProgram
    /// The preset prompts are padded by: the runtime file's, or the `pipeline` asked for.
    public let preset: PipelinePreset
    /// What to return when no output is named: what the runtime file stores, else `hidden`.
    public let defaultOutput: OutputSelection
    /// The family for messages ("compiled" for a runtime file).
    public let family: String
    /// Every file read to load it: no output may replace one of them.
    public let inputs: [String]
    let weights: WeightSource
    let interpreter: Interpreter
    private var tokenizer: PromptTokenizer?

    /// Loads a runtime file (.skrr), an IR file (.ir) or a model (file, index, folder or
    /// pipeline folder with `encoder`). A model's weights are scanned for NaN/Inf unless
    /// `weightCheck` is false.
    public init(model path: String, encoder: String? = nil, pipeline: PipelineKind? = nil, weightCheck: Bool = true) throws {
        let weights: WeightSource
        var preset: PipelinePreset
        if path.hasSuffix(".skrr") {
            let file: RuntimeFile
            if let encoder {
                guard PipelineRuntimeFile.isPipelineFile(path) else {
                    throw SkrrError(file: path, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder or a pipeline runtime file; this runtime file holds one encoder")
                }
                file = try PipelineRuntimeFile(path: path).member(named: encoder)
            } else {
                file = try RuntimeFile(path: path)
            }
            (program, weights, preset, defaultOutput, family, inputs) = (file.program, file, file.preset, file.info.defaultOutput, "compiled", [path])
        } else {
            let ir: ModelIR
            if path.hasSuffix(".ir") {
                if let encoder {
                    throw SkrrError(file: path, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; an IR file holds one encoder")
                }
                ir = IRFiles.resolvingRoot(try IRFiles.read(path), readFrom: path)
                inputs = [path] + ir.inputFiles
            } else {
                let imported = try ModelImporter.importModel(at: path, encoder: encoder)
                if weightCheck { try WeightScan.check(imported) }
                ir = imported.ir
                inputs = imported.inputFiles
            }
            program = try Lowering.lower(ir)
            weights = try SourceWeights(model: ir)
            preset = try PipelinePreset.preset(for: .generic, clipEncoder: ir.config.causal)
            defaultOutput = .hidden
            family = ir.family.rawValue
        }
        if let pipeline { preset = try PipelinePreset.preset(for: pipeline, clipEncoder: program.spec.causal) }
        self.preset = preset
        self.weights = weights
        interpreter = try Interpreter(program: program, weights: weights)
    }

    /// One encoder of a loaded pipeline file, with the preset it was compiled with.
    public init(member file: RuntimeFile, inputs: [String]) throws {
        (program, weights, preset, defaultOutput, family, self.inputs) = (file.program, file, file.preset, file.info.defaultOutput, "compiled", inputs)
        interpreter = try Interpreter(program: program, weights: file)
    }

    /// A batch of prompts, each with where it came from for messages ("--prompt 2", "prompt 3
    /// of FILE"), tokenised as the preset truncates; each must fit `maxTokens`.
    public func batch(prompts: [(text: String, origin: String)], maxTokens: Int) throws -> TokenBatch {
        try checkBatchSize(prompts.count)
        if tokenizer == nil { tokenizer = try TokenizerLoading.load(program.tokenizer, padId: program.spec.padTokenId) }
        let tokenizer = tokenizer!
        let limit = preset.truncationLength(maxPositions: program.spec.maxPositions)
        let sequences = try prompts.map { prompt in
            try tokenizer.encode(prompt.text, maxLength: limit, maxTokens: maxTokens, origin: prompt.origin,
                                 key: "--max-tokens", hint: "; --max-tokens raises it")
        }
        return padded(sequences)
    }

    /// A batch of token-id sequences; a preset with a maximum length refuses longer ones.
    public func batch(ids: [[Int32]]) throws -> TokenBatch {
        try checkBatchSize(ids.count)
        if let maxLength = preset.maxLength, let long = ids.firstIndex(where: { $0.count > maxLength }) {
            throw SkrrError(key: "--ids", "sequence \(long) has \(ids[long].count) ids, more than the \(preset.name) maximum of \(maxLength)")
        }
        return padded(ids)
    }

    private func checkBatchSize(_ count: Int) throws {
        guard count <= ResourceLimits.sequencesPerBatch else {
            throw SkrrError(key: "--prompt", "expected at most \(ResourceLimits.sequencesPerBatch) sequences in one batch, got \(count)")
        }
    }

    private func padded(_ sequences: [[Int32]]) -> TokenBatch {
        TokenBatch(ids: sequences, padToLength: preset.padToMax ? preset.maxLength : nil, maskPadding: preset.useMask)
    }

    /// Runs the batch and returns diffusers' arrays: the output asked for first
    /// (`prompt_embeds` for hidden and layer outputs, `pooled_prompt_embeds` for pooled and
    /// projected), then, beside `prompt_embeds`, `prompt_attention_mask` and the pooled output
    /// when the encoder pools.
    public func encode(_ batch: TokenBatch, output requested: OutputSelection? = nil, compute: ComputePrecision = .f32,
                       maxTokens: Int = ResourceLimits.defaultTokensPerSequence) throws -> [NamedArray] {
        let output = requested ?? defaultOutput
        if output == .pooled && program.pooling == nil {
            throw SkrrError(key: "--output pooled", "this \(family) encoder has no pooling head")
        }
        if output == .projected && program.projection == nil {
            throw SkrrError(key: "--output projected", "this encoder has no projection head")
        }
        if compute == .bf16 && !Interpreter.bf16ComputeSupported {
            throw SkrrError(key: "--compute bf16", "this CPU has neither AVX-512 BF16 nor AVX2 with FMA; use --compute f32")
        }
        if compute == .int8 && !program.tensors.contains(where: { $0.dtype == .int8 }) {
            throw SkrrError(key: "--compute int8", "this model stores no int8 weights (\(Self.dtypeSummary(program))); compile it with --weight-dtype int8 -o FILE.skrr")
        }
        var layers: [Int] = []
        if case let .layer(n) = output { layers = [n] }
        interpreter.maxTokens = maxTokens
        interpreter.compute = compute
        let result = try interpreter.run(batch, layers: layers)
        return Self.arrays(result, output: output, blocks: program.blockCount)
    }

    /// The weight dtypes a program stores, for messages ("bf16, f32").
    static func dtypeSummary(_ program: EncoderProgram) -> String {
        Set(program.tensors.map(\.dtype.rawValue)).sorted().joined(separator: ", ")
    }

    static func arrays(_ result: EncoderOutput, output: OutputSelection, blocks: Int) -> [NamedArray] {
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
        return arrays
    }
}
