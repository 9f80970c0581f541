import SkrrSupport

/// Typed, error-reporting access to a HF `config.json`. Every message names the file and the
/// key, and says what type or range was expected and what was found.
struct ConfigReader {
    let json: JSONValue
    let path: String
    /// Key prefix for nested configs (`text_config.`), so messages point at the right key.
    let prefix: String

    init(json: JSONValue, path: String, prefix: String = "") throws {
        guard json.objectMembers != nil else {
            throw SkrrError(file: path, key: prefix.isEmpty ? nil : String(prefix.dropLast()), "expected a JSON object, got \(json.typeName)")
        }
        self.json = json
        self.path = path
        self.prefix = prefix
    }

    func has(_ key: String) -> Bool {
        if let value = json[key], value != .null { return true }
        return false
    }

    func nested(_ key: String) throws -> ConfigReader {
        guard let value = json[key] else { throw SkrrError(file: path, key: prefix + key, "missing") }
        return try ConfigReader(json: value, path: path, prefix: prefix + key + ".")
    }

    /// An integer, at most `max` (`ResourceLimits`): a size that would make the importer loop or
    /// allocate for ever is refused here, with the key named, before anything is built from it.
    func int(_ key: String, default fallback: Int? = nil, positive: Bool = true, max: Int? = nil) throws -> Int {
        guard let value = json[key], value != .null else {
            if let fallback { return fallback }
            throw SkrrError(file: path, key: prefix + key, "missing (expected \(positive ? "a positive" : "an") integer)")
        }
        guard let int = value.intValue else {
            throw SkrrError(file: path, key: prefix + key, "expected an integer, got \(describe(value))")
        }
        if positive && int <= 0 { throw SkrrError(file: path, key: prefix + key, "expected a positive integer, got \(int)") }
        if let max, int > max {
            throw SkrrError(file: path, key: prefix + key, "expected at most \(max) (skrrc's limit, docs/limits.md), got \(int)")
        }
        return int
    }

    func optionalInt(_ key: String, max: Int? = nil) throws -> Int? {
        guard has(key) else { return nil }
        return try int(key, positive: false, max: max)
    }

    func double(_ key: String, default fallback: Double) throws -> Double {
        guard let value = json[key], value != .null else { return fallback }
        guard let number = value.doubleValue, number.isFinite else {
            throw SkrrError(file: path, key: prefix + key, "expected a number, got \(describe(value))")
        }
        return number
    }

    func positiveDouble(_ key: String, default fallback: Double) throws -> Double {
        let value = try double(key, default: fallback)
        guard value > 0 else { throw SkrrError(file: path, key: prefix + key, "expected a positive number, got \(value)") }
        return value
    }

    func string(_ key: String, default fallback: String? = nil) throws -> String {
        guard let value = json[key], value != .null else {
            if let fallback { return fallback }
            throw SkrrError(file: path, key: prefix + key, "missing (expected a string)")
        }
        guard let text = value.stringValue else {
            throw SkrrError(file: path, key: prefix + key, "expected a string, got \(describe(value))")
        }
        return text
    }

    func strings(_ key: String) throws -> [String] {
        guard let value = json[key], value != .null else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw SkrrError(file: path, key: prefix + key, "expected an array of strings, got \(describe(value))")
        }
        return items.compactMap(\.stringValue)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = json[key], value != .null else { return fallback }
        guard let flag = value.boolValue else {
            throw SkrrError(file: path, key: prefix + key, "expected true or false, got \(describe(value))")
        }
        return flag
    }

    private func describe(_ value: JSONValue) -> String {
        switch value {
        case let .string(text): return "the string \"\(text)\""
        case let .number(text): return text
        default: return value.typeName
        }
    }
}
