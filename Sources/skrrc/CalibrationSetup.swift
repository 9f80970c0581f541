import SkrrLowering
import SkrrEvaluation
import SkrrFrontend
import SkrrIR
import SkrrRuntime
import SkrrSupport

/// Turns the command's calibration options into token ids and scorers: calibration prompts
/// (built-in or `--calib`), the empty prompt, the pipeline preset, and held-out `--eval` prompts.
struct CalibrationSetup {
    let imported: ImportedModel
    let preset: PipelinePreset
    let tokenizer: PromptTokenizer
    let weights: SourceWeights
    let prompts: [[Int32]]
    let nullPrompt: [Int32]
    let evalPrompts: [[Int32]]?
    let projection: Projection?

    init(imported: ImportedModel, command: Compile) throws {
        self.imported = imported
        preset = try PipelinePreset.named(command.pipeline, clipEncoder: imported.ir.config.causal)
        let program = try Lowering.lower(imported.ir)
        tokenizer = try TokenizerLoading.load(program.tokenizer)
        weights = try SourceWeights(model: imported.ir)
        let texts = try command.calib.map(CalibrationSetup.readPrompts) ?? BuiltinPrompts.parti
        guard !texts.isEmpty else { throw SkrrError(file: command.calib, "no prompts (one per line expected)") }
        let tokenizer = self.tokenizer
        let limit = preset.truncationLength(maxPositions: imported.ir.config.maxPositions)
        prompts = try texts.prefix(command.calibSize).map { try tokenizer.encode($0, maxLength: limit) }
        nullPrompt = try tokenizer.encode("", maxLength: limit)
        projection = try command.projection.map { try ProjectionLoading.load($0, encoderWidth: imported.ir.config.hiddenSize) }
        evalPrompts = try command.eval.map { path in
            let held = try CalibrationSetup.readPrompts(path)
            guard !held.isEmpty else { throw SkrrError(file: path, "no prompts (one per line expected)") }
            return try held.map { try tokenizer.encode($0, maxLength: limit) }
        }
    }

    static func readPrompts(_ path: String) throws -> [String] {
        let bytes = try readWholeFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SkrrError(file: path, "not valid UTF-8 text") }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// What the pipeline reads from this encoder: every method is scored on exactly that.
    var consumed: ConsumedOutputs {
        ConsumedOutputs.forPipeline(preset.name, clip: imported.ir.config.causal,
                                    projected: imported.ir.heads.contains { $0.kind == .projection })
    }

    /// FinerCut measures plain output MSE: no null-prompt term, no projection.
    func scorer(forMethod method: String) throws -> DiscrepancyScorer {
        var options = DiscrepancyScorer.Options()
        options.includeNullPrompt = method != "finercut"
        options.consumed = consumed
        return try DiscrepancyScorer(model: imported.ir, weights: weights, prompts: prompts, nullPrompt: nullPrompt,
                                     preset: preset, projection: method == "finercut" ? nil : projection, options: options)
    }

    /// D of the result (schedule and weights) on the held-out prompts (with the null term, as Skrr
    /// defines D).
    func evalDiscrepancy(of result: ModelIR) throws -> Double? {
        guard let evalPrompts else { return nil }
        var options = DiscrepancyScorer.Options()
        options.consumed = consumed
        let scorer = try DiscrepancyScorer(model: imported.ir, weights: weights, prompts: evalPrompts, nullPrompt: nullPrompt,
                                           preset: preset, projection: projection, options: options)
        return try scorer.discrepancy(of: result)
    }
}
