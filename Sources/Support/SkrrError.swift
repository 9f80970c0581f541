/// The one error type users see. Every message names the file at fault and, where there is one,
/// the tensor or key, and says what was expected and what was found (docs/architecture.md §6).
///
/// Several problems found in one pass (for example every missing and mis-shaped tensor of a
/// checkpoint) travel together in `notes`, so a user fixes them in one round instead of many.
public struct SkrrError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in, as the user named it (or as derived from what they named).
    public var file: String?
    /// The tensor name, JSON key or IR entity the problem is about.
    public var key: String?
    /// What is wrong, ideally "expected X, got Y".
    public var message: String
    /// Further problems of the same check, one line each.
    public var notes: [String]

    public init(file: String? = nil, key: String? = nil, _ message: String, notes: [String] = []) {
        self.file = file
        self.key = key
        self.message = message
        self.notes = notes
    }

    public var description: String {
        var head = ""
        if let file { head += "\(file): " }
        if let key { head += "'\(key)': " }
        head += message
        return ([head] + notes.map { "  \($0)" }).joined(separator: "\n")
    }

    /// The same error attributed to `file` when it did not name one yet.
    public func inFile(_ path: String) -> SkrrError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }
}
