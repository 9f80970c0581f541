import ArgumentParser
import SkrrDriver
import SkrrPasses
import SkrrRuntime

// The typed vocabularies of the command line: ArgumentParser checks every value and lists the
// allowed ones in its usage errors (exit 64), so no command compares strings by hand.
extension OptimizationLevel: ExpressibleByArgument {}
extension PruneMethod: ExpressibleByArgument {}
extension PipelineKind: ExpressibleByArgument {}
extension WeightType: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}

extension OutputSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { ["hidden", "pooled", "projected", "layer:N"] }
}

/// One `--ids "5 17 1"` sequence.
struct TokenIds: ExpressibleByArgument {
    let values: [Int32]
    init?(argument: String) {
        let parts = argument.split(whereSeparator: { $0 == " " || $0 == "," })
        let parsed = parts.compactMap { Int32($0) }
        guard !parts.isEmpty, parsed.count == parts.count else { return nil }
        values = parsed
    }
}
