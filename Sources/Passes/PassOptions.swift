import SkrrSupport

/// Typed access to a pass's `{key=value}` options, with messages naming pass and option.
public struct PassOptions {
    let pass: String
    let values: [(key: String, value: String)]

    public init(pass: String, values: [(key: String, value: String)]) {
        self.pass = pass
        self.values = values
    }

    func raw(_ key: String) -> String? { values.first(where: { $0.key == key })?.value }

    public func double(_ key: String, default fallback: Double?, in range: ClosedRange<Double>) throws -> Double {
        guard let text = raw(key) else {
            guard let fallback else { throw SkrrError(key: pass, "needs the option \(key)=VALUE") }
            return fallback
        }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw SkrrError(key: pass, "option \(key)=\(text) must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = raw(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw SkrrError(key: pass, "option \(key)=\(text) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// One of the raw values of `E` (`rank=per-parameter`).
    public func choice<E: RawRepresentable & CaseIterable>(_ key: String, default fallback: E) throws -> E where E.RawValue == String {
        guard let text = raw(key) else { return fallback }
        guard let value = E(rawValue: text) else {
            throw SkrrError(key: pass, "option \(key)=\(text) must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
