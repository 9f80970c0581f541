import ArgumentParser
import SkrrLowering
import SkrrFrontend
import SkrrIR
import SkrrRuntime
import SkrrSupport

/// `skrrc run MODEL (--prompt T | --prompt-file F | --ids "5 17 1")... -o OUT`: encode prompts
/// and save embeddings a diffusion pipeline can consume.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode prompts (or token ids) and write the embeddings to .npy or .safetensors.",
        discussion: """
            Several --prompt/--ids form a batch; ragged sequences are padded to the longest and \
            masked, unless the pipeline preset pads to a fixed length or runs without a mask.
            .npy output holds one float32 array: [batch, seq, dim] for hidden/layer outputs, \
            [batch, dim] for pooled/projected. .safetensors output holds diffusers' argument names: \
            prompt_embeds, prompt_attention_mask, and pooled_prompt_embeds when the encoder pools.
            """)

    @Argument(help: "A runtime file (.skrr), a model (file, index or folder, as for compile) or an IR file (.ir).")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder, the text encoder to use.")
    var encoder: String?

    @Option(name: .long, help: "A prompt to encode (repeatable).")
    var prompt: [String] = []

    @Option(name: .long, help: "A UTF-8 file with one prompt per line; blank lines are skipped (repeatable).")
    var promptFile: [String] = []

    @Option(name: .long, help: "Token ids, space-separated (repeatable), e.g. --ids \"5 17 1\".")
    var ids: [String] = []

    @Option(name: .long, help: "hidden | pooled | projected | layer:N (N may be negative: layer:-2 is the penultimate layer). Default: hidden, or what a .skrr file stores.")
    var output: String?

    @Option(name: .long, help: "Pipeline preset: \(PipelinePreset.names.joined(separator: ", ")). Default: generic, or the preset a .skrr file was compiled with.")
    var pipeline: String?

    @Option(name: .shortAndLong, help: "Output file: .npy or .safetensors.")
    var out: String

    @Option(name: .long, help: "f32 (default: exact products of the stored weights) | bf16 (bf16-stored weights multiply in bf16 on AVX-512 BF16: about twice as fast, ~3 significant digits).")
    var compute: String = "f32"

    var selection: OutputSelection? { OutputSelection(output ?? "hidden") }

    func validate() throws {
        if prompt.isEmpty && promptFile.isEmpty && ids.isEmpty {
            throw ValidationError("give at least one --prompt, --prompt-file or --ids")
        }
        if !ids.isEmpty && !(prompt.isEmpty && promptFile.isEmpty) {
            throw ValidationError("--ids cannot be mixed with --prompt/--prompt-file in one batch")
        }
        if selection == nil { throw ValidationError("--output must be hidden, pooled, projected or layer:N, got '\(output ?? "")'") }
        if !out.hasSuffix(".npy") && !out.hasSuffix(".safetensors") {
            throw ValidationError("-o must end in .npy or .safetensors, got '\(out)'")
        }
        for list in ids {
            let parts = list.split(whereSeparator: { $0 == " " || $0 == "," })
            if parts.isEmpty || parts.contains(where: { Int32($0) == nil }) {
                throw ValidationError("--ids must be space-separated integers, got '\(list)'")
            }
        }
        if let pipeline, !PipelinePreset.names.contains(pipeline) {
            throw ValidationError("unknown --pipeline '\(pipeline)' (known: \(PipelinePreset.names.joined(separator: ", ")))")
        }
        if ComputePrecision(rawValue: compute) == nil { throw ValidationError("--compute must be f32 or bf16, got '\(compute)'") }
    }

    func run() throws {
        try reportingErrors {
            let program: EncoderProgram
            let weights: WeightSource
            var preset: PipelinePreset
            var selection = self.selection!
            var outputName = output ?? "hidden"
            let family: String
            if model.hasSuffix(".skrr") {
                if let encoder {
                    throw SkrrError(file: model, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; a runtime file holds one encoder")
                }
                let file = try RuntimeFile(path: model)
                program = file.program
                weights = file
                preset = file.preset
                family = "compiled"
                if output == nil {
                    selection = file.info.defaultOutput
                    outputName = file.info.defaultOutput.description
                }
            } else {
                let ir: ModelIR
                if model.hasSuffix(".ir"), let encoder {
                    throw SkrrError(file: model, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; an IR file holds one encoder")
                }
                if model.hasSuffix(".ir") {
                    let bytes = try readWholeFile(model)
                    ir = try IRParser.parse(String(decoding: bytes, as: UTF8.self), source: model)
                } else {
                    ir = try ModelImporter.importModel(at: model, encoder: encoder).ir
                }
                program = try Lowering.lower(ir)
                weights = try SourceWeights(model: ir)
                preset = try PipelinePreset.named("generic", clipEncoder: ir.config.causal)
                family = ir.family.rawValue
            }
            if let pipeline { preset = try PipelinePreset.named(pipeline, clipEncoder: program.spec.causal) }
            let batch = try makeBatch(program: program, preset: preset)
            if selection == .pooled && program.pooling == nil {
                throw SkrrError(key: "--output pooled", "this \(family) encoder has no pooling head")
            }
            if selection == .projected && program.projection == nil {
                throw SkrrError(key: "--output projected", "this encoder has no projection head")
            }
            var layers: [Int] = []
            if case let .layer(n) = selection { layers = [n] }
            let interpreter = try Interpreter(program: program, weights: weights)
            interpreter.compute = ComputePrecision(rawValue: compute)!
            if interpreter.compute == .bf16 {
                guard Interpreter.bf16ComputeSupported else {
                    throw SkrrError(key: "--compute bf16", "this CPU has no AVX-512 BF16 instructions; use --compute f32")
                }
                if !program.tensors.contains(where: { $0.dtype == .bf16 }) {
                    StandardStreams.err("note: --compute bf16 changes nothing here: no weight is stored in bf16 (compile with --weight-dtype bf16)\n")
                }
            }
            let result = try interpreter.run(batch, layers: layers)
            try write(result, selection: selection, blocks: program.blockCount, output: outputName, pipeline: preset.name)
            StandardStreams.err("wrote \(out): \(result.batch) × \(result.length) tokens, width \(result.width)\n")
        }
    }

    func makeBatch(program: EncoderProgram, preset: PipelinePreset) throws -> TokenBatch {
        var sequences: [[Int32]] = ids.map { $0.split(whereSeparator: { $0 == " " || $0 == "," }).map { Int32($0)! } }
        var prompts = prompt
        for file in promptFile { prompts += try CalibrationSetup.readPrompts(file) }
        if !prompts.isEmpty {
            let tokenizer = try TokenizerLoading.load(program.tokenizer)
            let limit = preset.truncationLength(maxPositions: program.spec.maxPositions)
            sequences = try prompts.map { try tokenizer.encode($0, maxLength: limit) }
        } else if let maxLength = preset.maxLength, let long = sequences.firstIndex(where: { $0.count > maxLength }) {
            throw SkrrError(key: "--ids", "sequence \(long) has \(sequences[long].count) ids, more than the \(preset.name) maximum of \(maxLength)")
        }
        return TokenBatch(ids: sequences, padToLength: preset.padToMax ? preset.maxLength : nil, maskPadding: preset.useMask)
    }

    func write(_ result: EncoderOutput, selection: OutputSelection, blocks: Int, output: String, pipeline: String) throws {
        let hiddenShape = [result.batch, result.length, result.width]
        let primary: NamedArray
        switch selection {
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
        if out.hasSuffix(".npy") {
            try AtomicFile.write(out, bytes: EmbeddingWriters.npyBytes(primary))
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
        try AtomicFile.write(out, bytes: EmbeddingWriters.safetensorsBytes(arrays, metadata: [("output", output), ("pipeline", pipeline)]))
    }
}
