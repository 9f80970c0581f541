import SkrrEvaluation
import SkrrFrontend
import SkrrSupport

/// Loads the denoiser's text projection for `--projection` (docs/architecture.md, "The discrepancy"): PixArt-Σ's
/// `caption_projection` (linear_1 → GELU(tanh) → linear_2) or SD3/FLUX's `context_embedder`
/// (one linear). Only those tensors are read from the denoiser's safetensors, through the
/// memory map, so a 24 GB transformer costs a few megabytes.
public enum ProjectionLoading {
    public static func load(_ path: String, encoderWidth: Int) throws -> Projection {
        let checkpoint = try CheckpointSet(path: try weightsPath(path))
        let layer = { (prefix: String) in try Self.layer(prefix, in: checkpoint) }
        let projection: Projection
        if let first = try layer("caption_projection.linear_1") {
            guard let second = try layer("caption_projection.linear_2") else {
                throw SkrrError(file: path, key: "caption_projection.linear_2.weight", "missing (caption_projection needs linear_1 and linear_2)")
            }
            projection = Projection(layers: [first, second], geluBetween: true)
        } else if let embedder = try layer("context_embedder") {
            projection = Projection(layers: [embedder], geluBetween: false)
        } else {
            throw SkrrError(file: path, key: "caption_projection.linear_1.weight",
                            "no text projection found (looked for caption_projection.linear_1/2 (PixArt) and context_embedder (SD3, FLUX))")
        }
        guard projection.layers[0].inWidth == encoderWidth else {
            throw SkrrError(file: path, key: projection.layers.count == 2 ? "caption_projection.linear_1.weight" : "context_embedder.weight",
                            "takes inputs of width \(projection.layers[0].inWidth), but the encoder's hidden size is \(encoderWidth)")
        }
        if projection.layers.count == 2 && projection.layers[1].inWidth != projection.layers[0].outWidth {
            throw SkrrError(file: path, key: "caption_projection.linear_2.weight",
                            "takes width \(projection.layers[1].inWidth), linear_1 gives \(projection.layers[0].outWidth)")
        }
        return projection
    }

    /// `prefix.weight` ([out, in]) and its optional `prefix.bias`, as f32; nil when the weight is absent.
    static func layer(_ prefix: String, in checkpoint: CheckpointSet) throws -> Projection.Layer? {
        guard let weight = checkpoint.locate(prefix + ".weight") else { return nil }
        let file = checkpoint.files[weight.fileIndex]
        guard weight.entry.shape.count == 2 else {
            throw SkrrError(file: file.path, key: prefix + ".weight", "expected a matrix, got shape \(formatShape(weight.entry.shape))")
        }
        let out = weight.entry.shape[0], inputs = weight.entry.shape[1]
        var bias: [Float]?
        if let b = checkpoint.locate(prefix + ".bias") {
            guard b.entry.shape == [out] else {
                throw SkrrError(file: checkpoint.files[b.fileIndex].path, key: prefix + ".bias",
                                "expected shape [\(out)], got \(formatShape(b.entry.shape))")
            }
            bias = try checkpoint.floatValues(of: b)
        }
        return Projection.Layer(weight: try checkpoint.floatValues(of: weight), bias: bias, outWidth: out, inWidth: inputs)
    }

    /// What an SD3 or FLUX denoiser reads from the joint conditioning: `context_embedder` on
    /// `prompt_embeds` (width `promptWidth`) and `time_text_embed.text_embedder` (Linear → SiLU →
    /// Linear) on `pooled_prompt_embeds` (width `pooledWidth`), each nil when the checkpoint has none.
    public static func loadJoint(_ path: String, promptWidth: Int, pooledWidth: Int) throws -> (context: Projection?, pooled: Projection?) {
        let checkpoint = try CheckpointSet(path: try weightsPath(path))
        var context: Projection?
        if let embedder = try layer("context_embedder", in: checkpoint) {
            guard embedder.inWidth == promptWidth else {
                throw SkrrError(file: path, key: "context_embedder.weight", "takes inputs of width \(embedder.inWidth), but prompt_embeds are \(promptWidth) wide")
            }
            context = Projection(layers: [embedder], between: .none)
        }
        var pooled: Projection?
        let prefix = "time_text_embed.text_embedder."
        if let first = try layer(prefix + "linear_1", in: checkpoint) {
            guard let second = try layer(prefix + "linear_2", in: checkpoint) else {
                throw SkrrError(file: path, key: prefix + "linear_2.weight", "missing (the pooled text projection needs linear_1 and linear_2)")
            }
            guard first.inWidth == pooledWidth else {
                throw SkrrError(file: path, key: prefix + "linear_1.weight", "takes inputs of width \(first.inWidth), but pooled_prompt_embeds are \(pooledWidth) wide")
            }
            guard second.inWidth == first.outWidth else {
                throw SkrrError(file: path, key: prefix + "linear_2.weight", "takes width \(second.inWidth), linear_1 gives \(first.outWidth)")
            }
            pooled = Projection(layers: [first, second], between: .silu)
        }
        return (context, pooled)
    }

    /// A safetensors file or index, or a diffusers `transformer/` folder (or a pipeline folder holding one).
    static func weightsPath(_ path: String) throws -> String {
        guard FileSystem.isDirectory(path) else { return path }
        for folder in [path, FileSystem.join(path, "transformer")] where FileSystem.isDirectory(folder) {
            let entries = FileSystem.listDirectory(folder)
            for name in ["diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.safetensors",
                         "model.safetensors.index.json", "model.safetensors"] where entries.contains(name) {
                return FileSystem.join(folder, name)
            }
        }
        throw SkrrError(file: path, "no denoiser weights (diffusion_pytorch_model.safetensors or an index) in this folder or its transformer/")
    }
}
