import SkrrBackend
import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrSupport

/// Writes a pipeline's encoders, pruned or not, as one runtime file (format 3,
/// `PipelineFileWriter`): each encoder lowered and stored with the pipeline's preset and the
/// output the pipeline reads from it, exactly as `skrrc PIPELINE --encoder NAME -o FILE.skrr`
/// would write it alone.
enum PipelineFileOutput {
    static func write(kind: PipelineKind, names: [String], encoders: [ModelIR], folder: PipelineFolder, passes: String,
                      weightDType: WeightType?, to path: String) throws {
        var members: [PipelineFileWriter.Member] = []
        for (name, model) in zip(names, encoders) {
            // `skrrc run FILE` encodes prompts with every member: each needs its tokenizer
            // (`--no-tokenizer`, for an encoder run on ids alone, has no meaning here).
            guard Lowering.tokenizerFiles(model) != nil else {
                throw SkrrError(file: FileSystem.join(folder.path, name), key: "tokenizer",
                                "no tokenizer files (expected \(TokenizerCheck.expectedFiles(model.family))); every encoder of a pipeline file needs its tokenizer, since skrrc run FILE tokenizes each prompt for each encoder")
            }
            try TokenizerCheck.check(model, writesRuntimeFile: true, allowMissing: false)
            let clip = model.config.causal
            let options = RuntimeFileWriter.Options(
                weightDType: weightDType, preset: try PipelinePreset.preset(for: kind, clipEncoder: clip),
                defaultOutput: PipelineReads.of(kind, clip: clip).defaultOutput, sourceModel: model.name, passes: passes,
                paramsTotal: model.sourceParameters)
            members.append(.init(name: name, program: try Lowering.lower(model), weights: try SourceWeights(model: model), options: options))
        }
        let summary = try PipelineFileWriter.write(kind: kind, members: members, sourceModel: FileSystem.basename(folder.path),
                                                   passes: passes, to: path)
        let parts = zip(names, summary.members).map { "\($0) \(Formatting.grouped($1.fileSize))" }
        StandardStreams.err("wrote \(path): \(Formatting.grouped(summary.fileSize)) bytes, \(kind.rawValue) pipeline of \(names.count) encoders (\(parts.joined(separator: ", ")) bytes)\n")
    }
}
