import SkrrSupport

/// What one fuzz input did to a reader. A reader may accept or refuse any input; what it must
/// never do is crash, trap, hang, or break one of the invariants the entry checks on what it
/// accepted (those throw `FuzzInvariantViolation`, which the fuzzer turns into a crash).
public enum FuzzOutcome: Equatable, Sendable {
    case accepted
    /// The reader refused the input; the error's text as a user would see it.
    case rejected(String)
}

/// A property that held for every accepted input and did not for this one (for example an IR
/// text that parses but whose printed form does not parse back to the same text).
public struct FuzzInvariantViolation: Error, CustomStringConvertible {
    public let target: String
    public let message: String
    public var description: String { "fuzz target \(target): invariant violated: \(message)" }
}

/// One reader driven by one byte string. The same value is called by the libFuzzer executables
/// in fuzz/ and by the regression test that replays fuzz/regressions/ in the ordinary test run,
/// so a crash found by fuzzing stays reproducible without libFuzzer.
public struct FuzzTarget: Sendable {
    /// Folder name under fuzz/regressions and fuzz/corpus, and the executable's suffix.
    public let name: String
    /// What it reads, for `scripts/fuzz.sh` and the README.
    public let summary: String
    /// libFuzzer's `-max_len` for this target: large enough for its seeds.
    public let maxLength: Int
    let body: @Sendable ([UInt8], FuzzCheck) throws -> Void

    init(name: String, summary: String, maxLength: Int, body: @escaping @Sendable ([UInt8], FuzzCheck) throws -> Void) {
        self.name = name
        self.summary = summary
        self.maxLength = maxLength
        self.body = body
    }

    /// Runs the reader on `input`. Throws only `FuzzInvariantViolation`; every other error is the
    /// reader refusing the input.
    public func run(_ input: [UInt8]) throws -> FuzzOutcome {
        do {
            try body(input, FuzzCheck(target: name))
            return .accepted
        } catch let violation as FuzzInvariantViolation {
            throw violation
        } catch {
            return .rejected(String(describing: error))
        }
    }
}

/// How a target's body reports a broken invariant (`try check(ok, "what broke")`).
struct FuzzCheck: Sendable {
    let target: String

    func callAsFunction(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw violation(message()) }
    }

    func violation(_ message: String) -> FuzzInvariantViolation {
        FuzzInvariantViolation(target: target, message: message)
    }
}

/// Every fuzz target, in the order `scripts/fuzz.sh` runs them.
public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        safeTensors, json, modelConfig, ir, runtimeFile, sentencePiece, clipBPE, wordPiece, pipeline,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Splits a fuzz input into the files and text a tokenizer needs. The parts are separated by
/// `separator`, a line no tokenizer file contains, so a seed is just the files and the prompt
/// joined by it and every mutation still reaches both the files and the text.
enum FuzzInputParts {
    static let separator = Array("\n--skrr-fuzz-part--\n".utf8)

    /// Exactly `count` parts: missing ones are empty, extra separators stay in the last part.
    static func split(_ input: [UInt8], into count: Int) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var start = 0, i = 0
        while parts.count < count - 1 && i + separator.count <= input.count {
            if input[i] == separator[0] && Array(input[i..<(i + separator.count)]) == separator {
                parts.append(Array(input[start..<i]))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(Array(input[start...]))
        while parts.count < count { parts.append([]) }
        return parts
    }

    /// The parts joined again; the seed generator writes inputs this way.
    static func join(_ parts: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { out += separator }
            out += part
        }
        return out
    }
}

extension FuzzTarget {
    /// libFuzzer's per-input callback (fuzz/libfuzzer/Sources/FuzzDriver): run one input, and turn a broken
    /// invariant into a crash libFuzzer records (a refused input is a normal outcome).
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        do {
            _ = try run(input)
        } catch {
            fatalError(String(describing: error))
        }
        return 0
    }
}
