import SkrrIR
import SkrrPasses
import SkrrSupport
import Testing

/// A model scorer with a known answer: each folded (skipped) block lowers the output cosine by
/// its scripted cost; D = 1 − cosine. It records the blocks folded in every model it measured.
final class ScriptedModelScorer: ScheduleScorer, ModelScorer {
    let cost: [Int: Double]
    var statistics = ScorerStatistics()
    private(set) var measured: [[Int]] = []

    init(cost: [Int: Double]) { self.cost = cost }

    func folded(_ model: ModelIR) -> [Int] {
        (0..<model.config.numLayers).filter { model.schedule[2 * $0] == .skip }
    }

    func measure(_ model: ModelIR) throws -> ModelMeasurement {
        let blocks = folded(model)
        measured.append(blocks)
        let cosine = 1 - blocks.reduce(0) { $0 + (cost[$1] ?? 0) }
        return ModelMeasurement(discrepancy: 1 - cosine, outputCosine: cosine)
    }

    func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] { candidates.map { _ in 0 } }

    /// A context in which this scorer answers both analyses it implements.
    func context() -> PassContext {
        let context = PassContext(scheduleScorer: self)
        context.analyses.register(.modelScorer, self)
        return context
    }
}

/// The LaCo pass: scan order, threshold, interval, the relaxed acceptance that keeps a fixed
/// sparsity reachable, nested merges, and the IR it leaves.
@Suite struct LayerCollapseTests {
    // Tiny T5: 6 blocks of 164 params; 1,036 params in all. Sparsity 0.6 needs 4 folded blocks.
    let model = TinyModels.t5(layers: 6)

    @Test func modelIsWhatTheScenariosAssume() {
        #expect(model.sourceParameters == 1036)
        #expect(model.parameterCount(ofSubBlock: 0) + model.parameterCount(ofSubBlock: 1) == 164)
    }

    /// Top-down scan with C = 2, I = 2, T = 0.9: {4, 5} → 3 is accepted (cos 0.95); the scan jumps
    /// to base 1: {2, 3} → 1 (cos 0.74) and {1, 2} → 0 (cos 0.25) fail; a fresh scan accepts
    /// nothing either, so its best candidate, {2, 3} → 1, is taken below the threshold.
    @Test func scanAcceptsRejectsAndRelaxes() throws {
        let scorer = ScriptedModelScorer(cost: [1: 0.5, 2: 0.2, 3: 0.01, 4: 0.02, 5: 0.03])
        let context = scorer.context()
        let result = try LayerCollapse(sparsity: 0.6).run(model, context: context)
        try IRVerifier.verify(result)
        #expect(scorer.measured == [[4, 5], [2, 3, 4, 5], [1, 2, 4, 5], [2, 3, 4, 5], [1, 2, 4, 5]])
        #expect(context.merges.map(\.base) == [3, 1])
        #expect(context.merges.map(\.folded) == [[4, 5], [2, 3]])
        let record = try #require(context.last(MergeRecord.self))
        #expect(record.order == [8, 9, 10, 11, 4, 5, 6, 7])
        #expect(record.orderDiscrepancies.count == record.order.count)
        let summary = record.summary
        #expect(summary.contains("folded 4 5 into 3 (cos 0.95 ≥ 0.9)"), "\(summary)")
        #expect(summary.contains("folded 2 3 into 1 (cos 0.74 < 0.9: best of a scan that accepted nothing)"), "\(summary)")
        #expect(result.keptParameters == 1036 - 4 * 164)
        #expect(result.schedule.enumerated().filter { $0.element == .skip }.map(\.offset) == [4, 5, 6, 7, 8, 9, 10, 11])
    }

    /// The second merge folds block 3, already holding merged weights: its merge refers to the
    /// first merge's tensors, and dead-weight-elim keeps exactly the inputs still needed.
    @Test func nestedMergesReferToEarlierMergesAndSurviveDeadWeightElim() throws {
        let scorer = ScriptedModelScorer(cost: [1: 0.5, 2: 0.2, 3: 0.01, 4: 0.02, 5: 0.03])
        let context = scorer.context()
        let result = try DeadWeightElim().run(try LayerCollapse(sparsity: 0.6).run(model, context: context), context: context)
        try IRVerifier.verify(result)
        let q = try #require(result.tensor(named: "laco2.block1.attention.q.weight"))
        #expect(q.origin == .merge(base: "b1.q", deltas: ["b2.q", "laco1.block3.attention.q.weight"]))
        #expect(result.tensor(named: "laco1.block3.attention.q.weight")?.origin == .merge(base: "b3.q", deltas: ["b4.q", "b5.q"]))
        #expect(result.subBlocks[2].tensor(for: "q.weight") == "laco2.block1.attention.q.weight")
        // Every original tensor of blocks 1–5 is still an input; block 0 is untouched.
        for block in 1...5 { #expect(result.tensor(named: "b\(block).wo") != nil) }
        #expect(result.subBlocks[0].tensor(for: "q.weight") == "b0.q")
        let text = IRPrinter.print(result)
        #expect(text.contains("%laco2.block1.attention.q.weight f32[6, 4] merge base %b1.q deltas [%b2.q, %laco1.block3.attention.q.weight]"))
        #expect(text.contains("subblock 4 attention block 2 {  // runs in no slot; weights kept only as merge inputs"))
        #expect(text.contains("subblock 2 attention block 1 {  // 100 params, merged weights"))
        #expect(try IRPrinter.print(IRParser.parse(text)) == text)
    }

    /// With I = 1 the scan moves down one layer after a merge: base 2 then folds block 3 (the only
    /// live block above it) and the merged block 3 becomes a delta.
    @Test func intervalSetsWhereTheScanResumes() throws {
        let scorer = ScriptedModelScorer(cost: [1: 0.5, 2: 0.2, 3: 0.01, 4: 0.02, 5: 0.03])
        let context = scorer.context()
        _ = try LayerCollapse(sparsity: 0.6, layers: 2, interval: 1).run(model, context: context)
        #expect(scorer.measured.prefix(2) == [[4, 5], [3, 4, 5]])
        #expect(context.merges.first.map { ($0.base, $0.folded) } ?? (-1, []) == (3, [4, 5]))
        #expect(context.merges.dropFirst().first.map { ($0.base, $0.folded) } ?? (-1, []) == (2, [3]))
    }

    /// A merge folds only as many layers as the target still needs (one block here, not C = 2).
    @Test func mergeFoldsNoMoreThanTheTargetNeeds() throws {
        let scorer = ScriptedModelScorer(cost: [:])
        let context = scorer.context()
        let result = try LayerCollapse(sparsity: 0.1).run(model, context: context)
        #expect(scorer.measured == [[4]])
        #expect(context.merges.map(\.folded) == [[4]])
        #expect(result.keptParameters == 1036 - 164)
    }

    @Test func unreachableTargetNamesTheMaximum() throws {
        let context = ScriptedModelScorer(cost: [:]).context()
        #expect(throws: SkrrError.self) { try LayerCollapse(sparsity: 0.9).run(model, context: context) }
        do {
            _ = try LayerCollapse(sparsity: 0.9).run(model, context: context)
        } catch let error as SkrrError {
            #expect(error.description.contains("folding every layer into one removes 79.2% of the parameters"), "\(error)")
        }
    }

    @Test func optionsAreTypedAndChecked() throws {
        let pass = try PassRegistry.make(PassInvocation(name: "laco", options: [("sparsity", "0.3"), ("layers", "4"), ("interval", "1"), ("threshold", "0.65")]))
        let laco = try #require(pass as? LayerCollapse)
        #expect(laco.layers == 4 && laco.interval == 1 && laco.threshold == 0.65 && laco.sparsity == 0.3)
        #expect(throws: SkrrError.self) { try PassRegistry.make(PassInvocation(name: "laco", options: [("sparsity", "0.3"), ("layers", "0")])) }
        #expect(throws: SkrrError.self) { try PassRegistry.make(PassInvocation(name: "laco", options: [("threshold", "0.5")])) }
        #expect(PruneMethod.laco.pipeline(sparsity: 0.25, beam: 3).map(\.description)
            == ["laco{sparsity=0.25}", "dead-weight-elim"])
    }

    @Test func aScorerThatCannotMeasureModelsIsRefused() throws {
        let context = PassContext(scheduleScorer: ScriptedScorer(cost: [:]))
        #expect(throws: SkrrError.self) { try LayerCollapse(sparsity: 0.3).run(model, context: context) }
    }
}
