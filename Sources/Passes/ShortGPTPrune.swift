import SkrrIR
import SkrrSupport

/// The ShortGPT baseline: score each whole block by `1 − cos(input, output)` on the dense model
/// and remove the least important blocks (both sub-blocks) in one shot until the target
/// sparsity is reached. No search, no re-use.
public struct ShortGPTPrune: ModelPass {
    public static let name = "shortgpt"
    public static let summary = "remove whole blocks with the most similar input and output (ShortGPT baseline)"
    public static let optionNames = ["sparsity"]
    /// Block similarities pick the blocks; the schedule scorer measures the result's D.
    public var requiredAnalyses: [AnalysisID] { [AnalysisKey.blockSimilarity.id, AnalysisKey.scheduleScorer.id] }

    public let sparsity: Double

    public init(sparsity: Double) { self.sparsity = sparsity }

    public init(options: PassOptions) throws {
        sparsity = try options.double("sparsity", default: nil, in: 0...1)
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let meter = try context.analysis(.blockSimilarity, for: Self.name)
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        let cosines = try meter.blockInputOutputCosines()
        let target = Int((sparsity * Double(model.sourceParameters)).rounded(.up))
        // Least important first; ties by block index so the order is deterministic.
        let order = cosines.indices.sorted { (1 - cosines[$0], $0) < (1 - cosines[$1], $1) }
        var result = model
        var dropped: [Int] = []
        for block in order {
            if model.sourceParameters - result.keptParameters >= target { break }
            result.schedule[2 * block] = .skip
            result.schedule[2 * block + 1] = .skip
            dropped += [2 * block, 2 * block + 1]
        }
        guard model.sourceParameters - result.keptParameters >= target else {
            throw SkrrError(key: Self.name, "target sparsity \(sparsity) is unreachable by removing whole blocks")
        }
        let discrepancy = try scorer.score([result.schedule], base: result.schedule)[0]
        context.record(BlockRemovalRecord(pass: Self.name, order: dropped, finalDiscrepancy: discrepancy))
        return result
    }
}
