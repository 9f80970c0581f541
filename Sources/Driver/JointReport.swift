import SkrrIR
import SkrrPasses
import SkrrSupport

/// The `--report` JSON of a joint prune (issue 16): the overall figures under the single-encoder
/// report's keys, and `encoders` with each encoder's share. `search_order` numbers joint slots
/// (encoder after encoder, in `encoders`' order; `first_slot` says where each starts).
enum JointReport {
    static func make(pipeline: String, names: [String], sources: [ModelIR], results: [ModelIR], sparsityTarget: Double,
                     method: String, context: PassContext, discrepancy: Double, work: ScorerStatistics,
                     calibration: Calibration, separate: JointPruneJob.Separate?, pathRemoved: [Int], evalDiscrepancy: Double?, separateEval: Double?,
                     seconds: Double) -> JSONValue {
        let total = sources.reduce(0) { $0 + $1.sourceParameters }, kept = results.reduce(0) { $0 + $1.keptParameters }
        var firstSlot = 0
        var encoders: [(key: String, value: JSONValue)] = []
        for (name, (source, result)) in zip(names, zip(sources, results)) {
            encoders.append((name, .object([
                ("family", .string(source.family.rawValue)),
                ("first_slot", .number(firstSlot)),
                ("sparsity", .number(result.sparsity)),
                ("params_total", .number(source.sourceParameters)),
                ("params_kept", .number(result.keptParameters)),
                ("skipped", .array(result.skippedSlots.map { .number($0) })),
                ("reused", .object(result.reusedSlots.map { (String($0.slot), .number($0.source)) })),
            ])))
            firstSlot += source.schedule.count
        }
        let (order, orderDiscrepancies) = context.removalOrder
        return .object([
            ("method", .string(method)),
            ("pipeline", .string(pipeline)),
            ("joint", .bool(true)),
            ("sparsity_target", .number(sparsityTarget)),
            ("sparsity", .number(Double(total - kept) / Double(max(total, 1)))),
            ("params_total", .number(total)),
            ("params_kept", .number(kept)),
            ("encoders", .object(encoders)),
            ("search_order", .array(order.map { .number($0) })),
            ("search_discrepancy", .array(orderDiscrepancies.map { .number($0) })),
            // Parameters removed after each step of search_order: D at any parameter count on the way.
            ("search_params_removed", .array(pathRemoved.map { .number($0) })),
            ("discrepancy", .number(discrepancy)),
            ("eval_discrepancy", evalDiscrepancy.map { .number($0) } ?? .null),
            ("subblock_evals", .number(work.subBlockEvaluations)),
            ("subblock_evals_naive", .number(work.naiveSubBlockEvaluations)),
            ("candidates_scored", .number(work.candidatesScored)),
            ("passes", .array(context.records.map { .object([("pass", .string($0.pass)), ("summary", .string($0.summary))]) })),
        ] + PruneReport.searchFields(context.last(SkipSearchRecord.self)) + [
            ("resumed_steps", .number(PruneReport.resumedSteps(context))),
            ("calibration", .object([("source", .string(calibration.source.description)), ("prompts", .number(calibration.prompts.count)),
                                     ("mean_tokens", .number((calibration.meanTokens * 10).rounded() / 10))])),
            ("separate", separate.map { separate in
                let keptSeparately = separate.results.reduce(0) { $0 + $1.keptParameters }
                return .object([
                    ("discrepancy", .number(separate.discrepancy)),
                    ("eval_discrepancy", separateEval.map { .number($0) } ?? .null),
                    ("sparsity", .number(Double(total - keptSeparately) / Double(max(total, 1)))),
                    ("params_kept", .number(keptSeparately)),
                    ("encoders", .object(zip(names, separate.results).map { name, result in
                        (name, .object([("sparsity", .number(result.sparsity)),
                                        ("skipped", .array(result.skippedSlots.map { .number($0) }))]))
                    })),
                ])
            } ?? .null),
            ("seconds", .number((seconds * 1000).rounded() / 1000)),
        ])
    }
}
