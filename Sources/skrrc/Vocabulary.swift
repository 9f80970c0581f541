import ArgumentParser
import SkrrDriver
import SkrrPasses
import SkrrRuntime

// The typed vocabularies of the command line: ArgumentParser checks every value and lists the
// allowed ones in its usage errors (exit 64), so no command compares strings by hand.
extension OptimizationLevel: ExpressibleByArgument {}
extension PruneMethod: ExpressibleByArgument {}
extension SkipSearch.Ranking: ExpressibleByArgument {}
extension PipelineKind: ExpressibleByArgument {}
extension WeightType: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}

extension OutputSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { ["hidden", "pooled", "projected", "layer:N"] }
}

/// One `--ids "5 17 1"` sequence. Each id must be a token id (0...2^31-1); the message names
/// the first one that is not, and why.
struct TokenIds {
    let values: [Int32]

    static func parse(_ argument: String) throws -> TokenIds {
        let parts = argument.split(whereSeparator: { $0 == " " || $0 == "," })
        guard !parts.isEmpty else { throw ValidationError("expected token ids, e.g. \"5 17 1\"") }
        let values = try parts.map { part -> Int32 in
            guard let value = Int(part) else { throw ValidationError("'\(part)' is not an integer") }
            guard value >= 0 else { throw ValidationError("\(value) is negative; token ids are 0...\(Int32.max)") }
            guard let id = Int32(exactly: value) else { throw ValidationError("\(value) is above the largest token id, \(Int32.max)") }
            return id
        }
        return TokenIds(values: values)
    }
}
