import SkrrIR
import SkrrPasses
import SkrrSupport

/// The `--report` JSON (docs/architecture.md, "Command line"): what was pruned, how well, and what the search cost.
public enum PruneReport {
    public static func make(source: ModelIR, result: ModelIR, method: String, pipeline: String, sparsityTarget: Double?,
                            context: PassContext, evalDiscrepancy: Double?, work: ScorerStatistics?, searchCompute: String,
                            calibration: Calibration?, seconds: Double) -> JSONValue {
        let skipped: [JSONValue] = result.skippedSlots.map { .number($0) }
        let reused: [(key: String, value: JSONValue)] = result.reusedSlots.map { (String($0.slot), .number($0.source)) }
        let keptBytes = result.referencedTensors.reduce(0) { $0 + (result.tensor(named: $1)?.byteCount ?? 0) }
        let stats = work
        let (order, orderDiscrepancies) = context.removalOrder
        let search = context.last(SkipSearchRecord.self)
        let resumed = resumedSteps(context)
        return .object([
            ("method", .string(method)),
            ("pipeline", .string(pipeline)),
            ("model", .string(source.name)),
            ("family", .string(source.family.rawValue)),
            ("sparsity_target", sparsityTarget.map { .number($0) } ?? .null),
            ("sparsity", .number(result.sparsity)),
            ("params_total", .number(source.sourceParameters)),
            ("params_kept", .number(result.keptParameters)),
            ("bytes_out", .number(keptBytes)),
            ("skipped", .array(skipped)),
            ("reused", .object(reused)),
            ("merged", .array(context.merges.map {
                .object([("into", .number($0.base)), ("folded", .array($0.folded.map { .number($0) }))])
            })),
            ("search_order", .array(order.map { .number($0) })),
            ("search_discrepancy", .array(orderDiscrepancies.map { .number($0) })),
            ("discrepancy", context.discrepancy.map { .number($0) } ?? .null),
            ("eval_discrepancy", evalDiscrepancy.map { .number($0) } ?? .null),
            ("subblock_evals", .number(stats?.subBlockEvaluations ?? 0)),
            ("subblock_evals_naive", .number(stats?.naiveSubBlockEvaluations ?? 0)),
            ("candidates_scored", .number(stats?.candidatesScored ?? 0)),
            ("passes", .array(context.records.map { .object([("pass", .string($0.pass)), ("summary", .string($0.summary))]) })),
            searchFields(search)[0],
            searchFields(search)[1],
            ("search_compute", .string(searchCompute)),
            ("resumed_steps", .number(resumed)),
            ("reuse_decisions", .array((context.last(ReuseRecord.self)?.decisions ?? []).map {
                .object([("slot", .number($0.slot)), ("source", .number($0.source)), ("d_before", .number($0.before)),
                         ("d_with", .number($0.after)), ("folds_lowered", .number($0.foldsLowered)), ("folds", .number($0.folds)),
                         ("accepted", .bool($0.accepted)), ("plain_rule_accepts", .bool($0.plainRuleAccepts))])
            })),
            ("calibration", calibration.map {
                .object([("source", .string($0.source.description)), ("prompts", .number($0.prompts.count)),
                         ("mean_tokens", .number(($0.meanTokens * 10).rounded() / 10))])
            } ?? .null),
            ("seconds", .number((seconds * 1000).rounded() / 1000)),
        ])
    }

    /// `resumed_steps`: search steps and re-use decisions a checkpoint gave back.
    static func resumedSteps(_ context: PassContext) -> Int {
        context.all(SkipSearchRecord.self).reduce(0) { $0 + $1.resumedSteps } + context.all(ReuseRecord.self).reduce(0) { $0 + $1.resumedDecisions }
    }

    /// `screen` and `search_steps`: how the skip search screened and what each step cost; the
    /// single-encoder and the joint report share them.
    static func searchFields(_ search: SkipSearchRecord?) -> [(key: String, value: JSONValue)] {
        [("screen", search?.screen.map { .object([("prompts", .number($0.prompts)), ("rescored", .number($0.rescored))]) } ?? .null),
         ("search_steps", .array((search?.steps ?? []).map {
             .object([("candidates", .number($0.candidates)), ("rescored", .number($0.rescored)),
                      ("subblock_evals", .number($0.subBlockEvaluations)),
                      ("screened_subblock_evals", .number($0.screenedSubBlockEvaluations))])
         }))]
    }
}
