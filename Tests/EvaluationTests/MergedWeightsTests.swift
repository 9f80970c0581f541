import SkrrLowering
import SkrrEvaluation
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport
import Testing

/// LaCo's merged weights: the values computed, and whole-model scoring of models that hold them.
@Suite struct MergedWeightsTests {
    let generic = try! PipelinePreset.preset(for: .generic, clipEncoder: false)

    func floats(_ weights: WeightSource, _ index: Int) -> [Float] {
        Array(weights.bytes(ofTensor: index).bindMemory(to: Float.self))
    }

    func denseWeights(_ model: SyntheticModel, for merged: ModelIR) throws -> DerivedWeights {
        try DerivedWeights(model: merged) { _, tensor in
            model.weights.bytes(ofTensor: model.ir.tensors.firstIndex { $0.name == tensor.name }!)
        }
    }

    /// θ*₁ = θ₁ + (θ₂ − θ₁) + (θ₃ − θ₁) for every tensor of block 1, checked element by element
    /// against the same sum done here in double precision.
    @Test func mergedTensorsAreTheRDSCSum() throws {
        let model = SyntheticModel(layers: 4)
        let merged = try LayerCollapse(sparsity: 0.5).collapse(model.ir, base: 1, folded: [2, 3], step: 1)
        let weights = try denseWeights(model, for: merged)
        var checked = 0
        for role in ["q.weight", "k.weight", "v.weight", "o.weight", "norm.weight"] {
            let name = try #require(merged.subBlocks[2].tensor(for: role))
            #expect(name == "laco1.block1.attention.\(role)")
            let value = floats(weights, merged.tensors.firstIndex { $0.name == name }!)
            let parts = try [1, 2, 3].map { block -> [Float] in
                let source = try #require(model.ir.subBlocks[2 * block].tensor(for: role))
                return floats(model.weights, model.ir.tensors.firstIndex { $0.name == source }!)
            }
            for i in value.indices {
                let expected = Double(parts[0][i]) + (Double(parts[1][i]) - Double(parts[0][i])) + (Double(parts[2][i]) - Double(parts[0][i]))
                #expect(abs(Double(value[i]) - expected) <= 1e-6 * max(1, abs(expected)), "\(role)[\(i)]")
                checked += 1
            }
        }
        #expect(checked > 500)
        // Blocks 2 and 3 run nowhere; block 1 runs the merged weights.
        #expect(merged.schedule[4] == .skip && merged.schedule[7] == .skip && merged.schedule[2] == .run(2))
    }

    /// bf16 inputs are widened, summed in f32 and rounded once to the declared dtype.
    @Test func bf16MergesRoundOnceToNearestEven() throws {
        func bf16(_ values: [Float]) -> [UInt8] {
            values.flatMap { v -> [UInt8] in
                let bits = HalfPrecision.floatToBF16(v)
                return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
            }
        }
        let a: [Float] = [1, 0.5, -2, 3.25], b: [Float] = [1.5, 0.25, 4, 3], c: [Float] = [1.0078125, 0.5, -2, 100]
        let tensors = [("a", a), ("b", b), ("c", c)].map { name, values in
            TensorDecl(name: name, dtype: .bf16, shape: [4], location: TensorLocation(file: 0, offset: 0, length: 8))
        } + [TensorDecl(name: "m", dtype: .bf16, shape: [4], origin: .merge(base: "a", deltas: ["b", "c"]))]
        var model = SyntheticModel(layers: 1).ir
        model.tensors = tensors
        let storage = [bf16(a), bf16(b), bf16(c)]
        let weights = try DerivedWeights(model: model) { index, _ in
            storage[index].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        }
        let out = weights.bytes(ofTensor: 3)
        for i in 0..<4 {
            let expected = HalfPrecision.floatToBF16(a[i] + (b[i] - a[i]) + (c[i] - a[i]))
            #expect(out.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) == expected)
        }
        withExtendedLifetime(storage) {}
    }

    @Test func overflowingMergeIsAnErrorNamingTheTensor() throws {
        var model = SyntheticModel(layers: 1).ir
        model.tensors = [
            TensorDecl(name: "a", dtype: .f32, shape: [1], location: TensorLocation(file: 0, offset: 0, length: 4)),
            TensorDecl(name: "b", dtype: .f32, shape: [1], location: TensorLocation(file: 0, offset: 0, length: 4)),
            TensorDecl(name: "m", dtype: .f32, shape: [1], origin: .merge(base: "a", deltas: ["b", "b"])),
        ]
        let values: [[Float]] = [[-3e38], [3e38]]
        do {
            _ = try DerivedWeights(model: model) { index, _ in
                values[index].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
            }
            Issue.record("no error")
        } catch let error as SkrrError {
            #expect(error.description.contains("m"), "\(error)")
            #expect(error.description.contains("overflows"), "\(error)")
        }
    }

    /// `measure` of a merged model: D equals an independent computation through `Interpreter.run`
    /// on the merged program, and the cosine is 1 exactly for the dense model.
    @Test func wholeModelScoringMatchesADirectComputation() throws {
        let model = SyntheticModel(layers: 4)
        let prompts = SyntheticModel.prompts(count: 6)
        var options = DiscrepancyScorer.Options()
        options.includeNullPrompt = false
        let scorer = try DiscrepancyScorer(model: model.ir, weights: model.weights, prompts: prompts, nullPrompt: nil,
                                           preset: generic, options: options)
        let denseMeasure = try scorer.measure(model.ir)
        #expect(denseMeasure.discrepancy == 0)
        #expect(abs(denseMeasure.outputCosine - 1) < 1e-12)

        let merged = try LayerCollapse(sparsity: 0.5).collapse(model.ir, base: 1, folded: [2, 3], step: 1)
        let measured = try scorer.measure(merged)
        let dense = try Interpreter(program: try Lowering.lower(model.ir), weights: model.weights)
        let small = try Interpreter(program: try Lowering.lower(merged), weights: try denseWeights(model, for: merged))
        let pairs = try directOutputs(dense, small, prompts: prompts) { $0.hidden }
        var cosines = 0.0, rows = 0
        let d = model.ir.config.hiddenSize
        for (a, b) in pairs {
            for row in 0..<(a.count / d) {
                var dot = 0.0, na = 0.0, nb = 0.0
                for j in (row * d)..<((row + 1) * d) {
                    dot += Double(a[j]) * Double(b[j]); na += Double(a[j]) * Double(a[j]); nb += Double(b[j]) * Double(b[j])
                }
                cosines += dot / (na * nb).squareRoot()
                rows += 1
            }
        }
        let expected = meanSquaredDifference(pairs)
        #expect(expected > 0)
        #expect(abs(measured.discrepancy - expected) <= 1e-6 * expected, "scorer \(measured.discrepancy), direct \(expected)")
        #expect(abs(measured.outputCosine - cosines / Double(rows)) <= 1e-6)
        #expect(measured.outputCosine < 1)
    }

    /// A merge high in the encoder resumes from the dense run's cached prefix: bit-identical D
    /// and cosine to running from the embeddings (a budget too small to cache anything), with
    /// fewer sub-block runs.
    @Test func mergedCandidatesResumeFromTheDensePrefix() throws {
        let model = SyntheticModel(layers: 6)
        let cached = try model.scorer(prompts: 6), uncached = try model.scorer(budget: 1, prompts: 6)
        let merged = try LayerCollapse(sparsity: 0.5).collapse(model.ir, base: 3, folded: [4, 5], step: 1)
        _ = try cached.measure(model.ir)  // the dense run is now cached
        let before = cached.statistics.subBlockEvaluations
        let a = try cached.measure(merged), b = try uncached.measure(merged)
        #expect(a == b)
        #expect(a.discrepancy > 0)
        // Slots 0–5 come from the cache; only the merged block 3 (slots 6, 7) runs.
        #expect(cached.statistics.subBlockEvaluations - before == 2)
    }

    /// For a schedule-only change, whole-model D is the schedule search's D, bit for bit.
    @Test func wholeModelDiscrepancyEqualsScheduleDiscrepancy() throws {
        let model = SyntheticModel(layers: 3)
        let scorer = try DiscrepancyScorer(model: model.ir, weights: model.weights, prompts: SyntheticModel.prompts(count: 7),
                                           nullPrompt: [1], preset: generic)
        var pruned = model.ir
        pruned.schedule[1] = .skip
        pruned.schedule[4] = .run(2)
        let viaSchedule = try scorer.score([pruned.schedule], base: model.ir.schedule)[0]
        #expect(try scorer.discrepancy(of: pruned) == viaSchedule)
    }

    /// The LaCo pass on a real scorer reaches the target and its result is measured as it runs.
    @Test func layerCollapseReachesTheTargetOnARealScorer() throws {
        let model = SyntheticModel(layers: 6)
        let scorer = try DiscrepancyScorer(model: model.ir, weights: model.weights, prompts: SyntheticModel.prompts(count: 5),
                                           nullPrompt: [1], preset: generic)
        let context = PassContext(scoringWith: scorer)
        let result = try LayerCollapse(sparsity: 0.4).run(model.ir, context: context)
        try IRVerifier.verify(result)
        #expect(result.sparsity >= 0.4)
        #expect(!context.merges.isEmpty)
        #expect(try scorer.discrepancy(of: result) == context.discrepancy)
        let afterDWE = try DeadWeightElim().run(result, context: context)
        #expect(try scorer.discrepancy(of: afterDWE) == context.discrepancy)
    }
}
