import Foundation
@testable import SkrrFuzzEntries
import SkrrTestSupport
import Testing

/// Replays every input the fuzzers ever crashed on (fuzz/regressions/<target>/NAME) through the
/// same entry point the fuzzer calls, without libFuzzer, so CI keeps them fixed. Each input has a
/// NAME.expect beside it: `accepted`, or `rejected: TEXT` where TEXT must occur in the error.
struct RegressionReplayTests {
    static let root = TestPaths.repositoryRoot + "/fuzz/regressions"

    struct Case: CustomTestStringConvertible, Sendable {
        var target: String
        var input: String
        var testDescription: String { "\(target)/\((input as NSString).lastPathComponent)" }
    }

    static func cases() -> [Case] {
        let manager = FileManager.default
        let targets = ((try? manager.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted()
        return targets.flatMap { target in
            let folder = root + "/" + target
            let names = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            return names.filter { !$0.hasSuffix(".expect") && !$0.hasPrefix(".") }.map { Case(target: target, input: folder + "/" + $0) }
        }
    }

    @Test func everyRegressionFolderNamesATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root).filter { !$0.hasPrefix(".") && $0 != "README.md" }
        for folder in folders {
            #expect(FuzzTargets.named(folder) != nil, "fuzz/regressions/\(folder) is not a fuzz target (\(FuzzTargets.all.map(\.name)))")
        }
    }

    @Test(arguments: cases())
    func replay(_ regression: Case) throws {
        let target = try #require(FuzzTargets.named(regression.target))
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: regression.input)))
        let expectation = try String(contentsOfFile: regression.input + ".expect", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let outcome = try target.run(input)
        if expectation == "accepted" {
            #expect(outcome == .accepted)
        } else {
            let prefix = "rejected: "
            #expect(expectation.hasPrefix(prefix), "\(regression.input).expect must say 'accepted' or 'rejected: TEXT'")
            let text = String(expectation.dropFirst(prefix.count))
            guard case let .rejected(message) = outcome else {
                Issue.record("expected the input to be refused with '\(text)', it was accepted")
                return
            }
            #expect(message.contains(text), "error was: \(message)")
        }
    }
}
