import SkrrLowering
@testable import SkrrRuntime
import Testing

/// The interpreter splits its stages over workers only above about 4 M multiply-adds per chunk
/// (`Parallel.minimumChunkWork`), which the fixtures never reach: without a model this size the
/// threaded paths of the linear layers, the FFN activation and the attention core would run
/// single-threaded in every test, and ThreadSanitizer (scripts/sanitize.sh thread) would have
/// nothing to watch. Chunks never overlap and each is computed the same way on any worker, so
/// two workers give the same bits on every run, and one worker's result up to f32 rounding.
@Suite struct WorkerSplitTests {
    /// 1,024 rows: each projection (16 K multiply-adds per row) and FFN matrix (64 K) cut into
    /// at least two 4 M chunks, the activation (8 K weighted operations per row) into two, the
    /// attention core (2 sequences × 4 heads of 2 · 512² · 32) far above its 8 M threshold.
    static let model = SyntheticModel(layers: 2, d: 128, heads: 4, headDim: 32, ffn: 512)
    static let batch = TokenBatch(ids: (0..<2).map { (s: Int) -> [Int32] in
        (0..<512).map { (t: Int) -> Int32 in Int32(2 + (t * 7 + s * 3) % 47) }
    })

    @Test(.enabled(if: Interpreter.defaultThreads >= 2, "needs two threads"))
    func twoWorkersAreDeterministicAndAgreeWithOne() throws {
        let program = try Lowering.lower(Self.model.ir)
        func run(workers: Int) throws -> [Float] {
            let interpreter = try Interpreter(program: program, weights: Self.model.weights)
            interpreter.workerLimit = workers
            return try interpreter.run(Self.batch).hidden
        }
        // The premise: the projections are cut into two chunks (forEachRowRange's rule).
        #expect(Parallel.ranges(1024, pieces: 2, minimum: max(16, Parallel.minimumChunkWork / (128 * 128))).count == 2)
        let one = try run(workers: 1)
        let two = try run(workers: 2), again = try run(workers: 2)
        #expect(two.map(\.bitPattern) == again.map(\.bitPattern), "two workers, run to run")
        // Not the bits of one worker: sgemm on 512 rows sums in another order than on 1,024
        // (measured: 2e-6 of the largest value after two layers, 95 % of elements differ).
        let scale = one.map { abs($0) }.max() ?? 0
        let worst = zip(one, two).map { abs($0 - $1) }.max() ?? .infinity
        #expect(scale > 0 && worst <= 1e-5 * scale, "worst difference \(worst), largest value \(scale)")
    }
}
