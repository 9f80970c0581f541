/// What a run returns to the pipeline: the final hidden states, the pooled or the projected
/// output, or transformers' `hidden_states[N]` (`layer:N`; a negative N counts from the end,
/// layer:-2 being the penultimate). `skrrc run --output` takes this spelling, and a runtime
/// file stores the one its pipeline reads, so it is parsed and spelled in one place.
public enum OutputSelection: Equatable, Sendable, CustomStringConvertible {
    case hidden, pooled, projected
    case layer(Int)

    /// Parses `hidden | pooled | projected | layer:N`; nil for anything else.
    public init?(_ text: String) {
        switch text {
        case "hidden": self = .hidden
        case "pooled": self = .pooled
        case "projected": self = .projected
        default:
            guard text.hasPrefix("layer:"), let n = Int(text.dropFirst(6)) else { return nil }
            self = .layer(n)
        }
    }

    /// The spelling `init?(_:)` reads.
    public var description: String {
        switch self {
        case .hidden: return "hidden"
        case .pooled: return "pooled"
        case .projected: return "projected"
        case let .layer(n): return "layer:\(n)"
        }
    }
}
