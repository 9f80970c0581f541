import SkrrEvaluation
import SkrrIR
import SkrrLowering
import SkrrPasses
import SkrrRuntime
import Testing

/// Slots with bf16 weights run over all batches' rows at once (BatchRunner,
/// Interpreter.apply(_:toAll:)). That is only allowed because every row gets exactly the bits it gets
/// in its own batch, so a search's choices cannot depend on it: these tests hold that promise.
@Suite struct RowWiseFusionTests {
    /// Widths that are not multiples of the packing kernel's 16-column panels or 6-row tiles.
    static let model = SyntheticModel(layers: 3, d: 40, heads: 2, headDim: 12, ffn: 52, matrices: .bf16)
    static let f32Model = SyntheticModel(layers: 3, d: 40, heads: 2, headDim: 12, ffn: 52)

    /// The packing kernel runs on AVX2+FMA CPUs (every x86-64 host this project targets).
    static var packedAvailable: Bool {
        guard let made = try? rowWiseInterpreter(model) else { return false }
        return made != nil
    }

    static func rowWiseInterpreter(_ model: SyntheticModel, workers: Int = 2) throws -> Interpreter? {
        let interpreter = try Interpreter(program: try Lowering.lower(model.ir), weights: model.weights)
        interpreter.halfWeightKernel = .packed
        interpreter.workerLimit = workers
        guard interpreter.rowWiseFusable(interpreter.program.slots[1]) else { return nil }
        return interpreter
    }

    /// Ragged batches: 1 to 5 sequences of 2 to 19 tokens, no row count a tile multiple.
    static func batches() -> [TokenBatch] {
        (0..<6).map { (b: Int) -> TokenBatch in
            let sequences: [[Int32]] = (0...(b % 5)).map { (s: Int) -> [Int32] in
                let length = 2 + (b * 7 + s * 5) % 18
                return (0..<length).map { (t: Int) -> Int32 in Int32(2 + (t * 13 + b + s) % 45) }
            }
            return TokenBatch(ids: sequences)
        }
    }

    @Test(.enabled(if: packedAvailable, "needs the AVX2+FMA packing kernel"), arguments: [1, 2, 3])
    func everyRowGetsTheBitsOfItsOwnBatch(_ workers: Int) throws {
        let program = try Lowering.lower(Self.model.ir)
        let single = try Interpreter(program: program, weights: Self.model.weights)
        single.halfWeightKernel = .packed
        single.workerLimit = 1
        let fused = try #require(try Self.rowWiseInterpreter(Self.model, workers: workers))
        var expected = try Self.batches().map { try single.begin($0) }
        var together = expected
        // Every slot in turn: attention (scores per sequence, projections over all rows) and FFN.
        for slot in program.slots {
            let before = together.flatMap(\.hidden)
            for i in expected.indices { try single.apply(slot, to: &expected[i]) }
            try fused.apply(slot, toAll: &together)
            #expect(together.flatMap(\.hidden).map(\.bitPattern) == expected.flatMap(\.hidden).map(\.bitPattern), "\(slot)")
            #expect(together.flatMap(\.hidden) != before, "the slot changed the states")
        }
    }

    /// `--compute bf16` on AMX: fused like the packing kernel, with the same promise (the
    /// search with `--search-compute bf16` batches its slots only because of it).
    @Test(.enabled(if: BF16ComputeKernel.preferred == .amx, "needs Intel AMX-BF16"), arguments: [1, 2])
    func amxComputeGivesEveryRowTheBitsOfItsOwnBatch(_ workers: Int) throws {
        let program = try Lowering.lower(Self.model.ir)
        let single = try Interpreter(program: program, weights: Self.model.weights)
        single.compute = .bf16
        single.workerLimit = 1
        let fused = try Interpreter(program: program, weights: Self.model.weights)
        fused.compute = .bf16
        fused.workerLimit = workers
        let exact = try Interpreter(program: program, weights: Self.model.weights)
        var expected = try Self.batches().map { try single.begin($0) }
        var together = expected, f32 = expected
        for slot in program.slots {
            #expect(fused.rowWiseFusable(slot) == (slot != .skip))
            for i in expected.indices {
                try single.apply(slot, to: &expected[i])
                try exact.apply(slot, to: &f32[i])
            }
            try fused.apply(slot, toAll: &together)
            #expect(together.flatMap(\.hidden).map(\.bitPattern) == expected.flatMap(\.hidden).map(\.bitPattern), "\(slot)")
        }
        // bf16 arithmetic really ran: close to the exact f32 states, not equal to them.
        let bf16States = together.flatMap(\.hidden), f32States = f32.flatMap(\.hidden)
        #expect(bf16States != f32States)
        let error = zip(bf16States, f32States).map { abs($0 - $1) }.max()!, scale = f32States.map(abs).max()!
        #expect(error < 0.05 * scale, "bf16 states within 5 % of the f32 ones: \(error) of \(scale)")
    }

    /// A state with more rows than a group holds (3 × 700 > 2048) takes the per-batch attention
    /// path inside a call over batches; its neighbours are still grouped.
    @Test(.enabled(if: packedAvailable, "needs the AVX2+FMA packing kernel"))
    func aStateLargerThanAGroupKeepsItsBits() throws {
        let program = try Lowering.lower(Self.model.ir)
        let single = try Interpreter(program: program, weights: Self.model.weights)
        single.halfWeightKernel = .packed
        single.workerLimit = 1
        let fused = try #require(try Self.rowWiseInterpreter(Self.model))
        let large = TokenBatch(ids: (0..<3).map { (s: Int) -> [Int32] in (0..<700).map { (t: Int) -> Int32 in Int32(2 + (t * 7 + s) % 45) } })
        var expected = try ([large] + Self.batches()).map { try single.begin($0) }
        var together = expected
        for slot in program.slots.prefix(2) {
            for i in expected.indices { try single.apply(slot, to: &expected[i]) }
            try fused.apply(slot, toAll: &together)
        }
        #expect(together.flatMap(\.hidden).map(\.bitPattern) == expected.flatMap(\.hidden).map(\.bitPattern))
    }

    @Test func onlyHalfWeightSlotsOnThePackingKernelAreFused() throws {
        let f32 = try Interpreter(program: try Lowering.lower(Self.f32Model.ir), weights: Self.f32Model.weights)
        #expect(!f32.rowWiseFusable(f32.program.slots[1]), "f32 weights go through OpenBLAS, which may choose kernels by size")
        let half = try Interpreter(program: try Lowering.lower(Self.model.ir), weights: Self.model.weights)
        half.halfWeightKernel = .panels
        #expect(!half.rowWiseFusable(half.program.slots[0]) && !half.rowWiseFusable(half.program.slots[1]),
                "the panels kernel calls sgemm per panel")
        var states = try Self.batches().map { try f32.begin($0) }
        #expect(throws: (any Error).self) { try f32.apply(f32.program.slots[1], toAll: &states) }
    }

    /// The scorer with and without fusion: the same D bits for every candidate.
    @Test func scoresDoNotDependOnFusion() throws {
        let base = Self.model.skipping([2])
        let candidates = (0..<Self.model.ir.schedule.count).filter { $0 != 2 }.map { Self.model.skipping([2, $0]) }
        let fused = try Self.model.scorer(prompts: 11).score(candidates, base: base).map(\.bitPattern)
        #expect(Set(fused).count > 1)
        #expect(fused == (try Self.model.scorer(prompts: 11, fuseRows: false).score(candidates, base: base).map(\.bitPattern)))
    }
}
