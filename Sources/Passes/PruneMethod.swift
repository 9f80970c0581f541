/// The pruning methods `-O prune --method M` compares on the same calibration data and report
/// (docs/architecture.md, "Baselines").
public enum PruneMethod: String, CaseIterable, Sendable {
    /// Skip (beam search) and re-use: the method this compiler implements.
    case skrr
    /// Skrr without the re-use phase.
    case skipOnly = "skip-only"
    /// Greedy sub-block removal (beam 1) under plain output MSE: no null prompt, no projection.
    case finercut
    /// Whole blocks removed in one shot by `1 − cos(input, output)`.
    case shortgpt
    /// Rear layers folded into earlier ones by merged weights while the output cosine stays high.
    case laco

    /// The pass pipeline the method runs; `screen` > 0 screens skip-search's candidates on that
    /// many prompts; `reuseFolds` > 1 makes re-use hold on that many calibration folds. The scoring differences (FinerCut's plain MSE) are the driver's: passes only
    /// ask for "the" scorer.
    public func pipeline(sparsity: Double, beam: Int, screen: Int = 0, reuseFolds: Int = 1) -> [PassInvocation] {
        let search = { (beam: Int) in
            PassInvocation(name: SkipSearch.name, options: [("sparsity", "\(sparsity)"), ("beam", "\(beam)")]
                + (screen > 0 ? [("screen", "\(screen)")] : []))
        }
        let dwe = PassInvocation(name: DeadWeightElim.name)
        switch self {
        case .skrr:
            let reuse = PassInvocation(name: ReuseRewrite.name, options: reuseFolds > 1 ? [("folds", "\(reuseFolds)")] : [])
            return [search(beam), reuse, dwe]
        case .skipOnly: return [search(beam), dwe]
        case .finercut: return [search(1), dwe]
        case .shortgpt: return [PassInvocation(name: ShortGPTPrune.name, options: [("sparsity", "\(sparsity)")]), dwe]
        case .laco: return [PassInvocation(name: LayerCollapse.name, options: [("sparsity", "\(sparsity)")]), dwe]
        }
    }
}
