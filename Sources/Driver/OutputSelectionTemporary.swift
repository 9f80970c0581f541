/// What `skrrc run` writes: TEMPORARY copy until the runtime's own type lands.
public enum OutputSelection: Equatable, Sendable, CustomStringConvertible {
    case hidden, pooled, projected
    case layer(Int)

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

    public var description: String {
        switch self {
        case .hidden: return "hidden"
        case .pooled: return "pooled"
        case .projected: return "projected"
        case let .layer(n): return "layer:\(n)"
        }
    }
}
