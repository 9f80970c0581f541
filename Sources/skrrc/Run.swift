import ArgumentParser
import SkrrDriver
import SkrrRuntime
import SkrrSupport

/// `skrrc run MODEL (--prompt T | --prompt-file F | --ids "5 17 1")... -o OUT`: binds the command
/// line to `EncodeOptions`; the work is `EncodeJob` (SkrrDriver).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode prompts (or token ids) and write the embeddings to .npy or .safetensors.",
        discussion: """
            Several --prompt/--ids form a batch; ragged sequences are padded to the longest and \
            masked, unless the pipeline preset pads to a fixed length or runs without a mask.
            .npy output holds one float32 array: [batch, seq, dim] for hidden/layer outputs, \
            [batch, dim] for pooled/projected. .safetensors output holds diffusers' argument names: \
            prompt_embeds, prompt_attention_mask, and pooled_prompt_embeds when the encoder pools.
            An SD3 or FLUX pipeline folder, or a pipeline runtime file (skrrc PIPELINE -o FILE.skrr), \
            without --encoder runs every text encoder and writes the joint conditioning diffusers' \
            encode_prompt builds: prompt_embeds (SD3: CLIP-L and CLIP-G penultimate states, \
            zero-padded to T5's width, then T5's; FLUX: T5's) and pooled_prompt_embeds (SD3: both \
            CLIP text_embeds; FLUX: CLIP-L's pooled output).
            """)

    @Argument(help: "A runtime file (.skrr), a model (file, index or folder, as for compile) or an IR file (.ir).")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder or pipeline runtime file, the text encoder to use (SD3/FLUX without it: all of them, joined).")
    var encoder: String?

    @Option(name: .long, help: "A prompt to encode (repeatable).")
    var prompt: [String] = []

    @Option(name: .long, help: "A UTF-8 file with one prompt per line; blank lines are skipped (repeatable).")
    var promptFile: [String] = []

    // Unconditional: a value may start with '-' ("-1 5"), and is then refused by name, not
    // mistaken for an option.
    @Option(name: .long, parsing: .unconditionalSingleValue, help: "Token ids, space-separated (repeatable), e.g. --ids \"5 17 1\".",
            transform: TokenIds.parse)
    var ids: [TokenIds] = []

    @Option(name: .long, help: "hidden | pooled | projected | layer:N (N may be negative: layer:-2 is the penultimate layer). Default: hidden, or what a .skrr file stores.")
    var output: OutputSelection?

    @Option(name: .long, help: "Pipeline preset: \(PipelineKind.allCases.map(\.rawValue).joined(separator: ", ")). Default: generic, or the preset a .skrr file was compiled with.")
    var pipeline: PipelineKind?

    @Option(name: .shortAndLong, help: "Output file: .npy or .safetensors.")
    var out: String

    @Option(name: .long, help: "f32 (default: exact products of the stored weights) | bf16 (bf16-stored weights multiply in bf16 on AVX-512 BF16: about twice as fast, ~3 significant digits) | int8 (int8-stored weights against activations quantized per token, exact int32 sums on AVX-512 VNNI; opt-in, errors in BENCHMARKS.md).")
    var compute: ComputePrecision = .f32

    @Option(name: .long, parsing: .unconditional, help: "Tokens a sequence may have (default \(ResourceLimits.defaultTokensPerSequence); attention keeps heads × tokens² floats, docs/limits.md).")
    var maxTokens: Int = ResourceLimits.defaultTokensPerSequence

    @Flag(name: .long, help: "Skip the scan of a model's weights for NaN/Inf (the scan reads the whole checkpoint).")
    var noWeightCheck = false

    var options: EncodeOptions {
        var o = EncodeOptions(model: model, out: out)
        o.encoder = encoder
        o.prompts = prompt
        o.promptFiles = promptFile
        o.ids = ids.map(\.values)
        o.output = output
        o.pipeline = pipeline
        o.compute = compute
        o.maxTokens = maxTokens
        o.weightCheck = !noWeightCheck
        return o
    }

    // Checked in run, not validate: ArgumentParser reports unknown options only after validate,
    // so a misspelt option would otherwise be hidden behind a message about what is missing.
    func run() throws {
        try usage(of: Run.self) { try options.validate() }
        try reportingErrors { try EncodeJob.run(options) }
    }
}
