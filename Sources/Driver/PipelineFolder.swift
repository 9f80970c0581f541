import SkrrRuntime
import SkrrSupport

/// A diffusers pipeline folder read as a whole (`model_index.json`): which pipeline it is and
/// which text encoders it holds, in diffusers' order. Joint mode (issue 16) works on this; one
/// encoder alone goes through `ModelLocator` with `--encoder`.
public struct PipelineFolder: Equatable, Sendable {
    public var path: String
    /// `_class_name`, e.g. "StableDiffusion3Pipeline".
    public var className: String
    /// The pipeline kind the class implies, if skrrc knows it.
    public var kind: PipelineKind?
    /// `text_encoder`, `text_encoder_2`, ... that model_index.json names with a class and whose
    /// folder holds a config.json, sorted as diffusers numbers them.
    public var encoders: [String]

    /// nil when `path` is not a folder with model_index.json.
    public static func read(_ path: String) throws -> PipelineFolder? {
        let index = FileSystem.join(path, "model_index.json")
        guard FileSystem.isDirectory(path), FileSystem.isFile(index) else { return nil }
        let json = try readJSONFile(index)
        guard let members = json.objectMembers else {
            throw SkrrError(file: index, "expected a JSON object, got \(json.typeName)")
        }
        guard let className = json["_class_name"]?.stringValue else {
            throw SkrrError(file: index, key: "_class_name", "missing or not a string: the pipeline class says how its encoders are combined")
        }
        var encoders: [String] = []
        for (key, value) in members where key.hasPrefix("text_encoder") {
            // diffusers writes [library, class], or [null, null] for a component left out.
            guard let pair = value.arrayValue, pair.count == 2 else {
                throw SkrrError(file: index, key: key, "expected [library, class], got \(value.typeName)")
            }
            if pair[1] == .null { continue }
            guard FileSystem.isFile(FileSystem.join(FileSystem.join(path, key), "config.json")) else {
                throw SkrrError(file: index, key: key, "names \(pair[1].stringValue ?? "a class"), but \(FileSystem.join(path, key))/config.json is missing")
            }
            encoders.append(key)
        }
        encoders.sort { order($0) < order($1) }
        return PipelineFolder(path: path, className: className, kind: kind(ofClass: className), encoders: encoders)
    }

    /// `text_encoder` is 1, `text_encoder_2` is 2, ...
    static func order(_ encoder: String) -> Int {
        Int(encoder.dropFirst("text_encoder_".count)) ?? 1
    }

    /// The kind of a diffusers pipeline class (img2img and inpainting variants included).
    public static func kind(ofClass name: String) -> PipelineKind? {
        if name.hasPrefix("StableDiffusion3") { return .sd3 }
        if name.hasPrefix("Flux") { return .flux }
        if name.hasPrefix("PixArtSigma") { return .pixartSigma }
        if name.hasPrefix("StableDiffusionXL") { return .sdxl }
        return nil
    }

    /// Whether `skrrc MODEL` on this folder without `--encoder` means every encoder together.
    public var isJoint: Bool { encoders.count > 1 }
}
