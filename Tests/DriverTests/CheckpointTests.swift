import Foundation
import SkrrDriver
import SkrrPasses
import SkrrSupport
import SkrrTestSupport
import Testing

/// `--checkpoint FILE`: a search saves after every step, resumes to the very same result, and
/// refuses a file written for a different compile, saying what differs.
@Suite struct CheckpointTests {
    func options(_ dir: String, sparsity: Double = 0.3, calibSize: Int = 8) -> CompileOptions {
        var o = CompileOptions(model: TestPaths.fixture("t5-v1_1"))
        o.level = .prune
        o.sparsity = sparsity
        o.calibration.source = .parti
        o.calibration.size = calibSize
        o.checkpoint = dir + "/search.ckpt"
        o.out = dir + "/p.skrr"
        o.report = dir + "/r.json"
        return o
    }

    func report(_ dir: String) throws -> JSONValue { try JSONParser.parse(try readWholeFile(dir + "/r.json")) }

    @Test func aFinishedCheckpointReproducesTheResultWithoutSearching() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let first = try CompileJob.run(options(dir))
        let firstFile = try readWholeFile(dir + "/p.skrr")
        let firstReport = try report(dir)
        #expect(firstReport["resumed_steps"]?.intValue == 0)
        let checkpoint = try JSONParser.parse(try readWholeFile(dir + "/search.ckpt"))
        #expect(checkpoint["format"]?.stringValue == "skrrc-checkpoint 1")
        #expect(checkpoint["entries"]?["0:skip-search"] != nil && checkpoint["entries"]?["1:reuse-rewrite"] != nil)

        let second = try CompileJob.run(options(dir))
        #expect(second.result == first.result)
        #expect(try readWholeFile(dir + "/p.skrr") == firstFile)
        let secondReport = try report(dir)
        let steps = try #require(first.context.last(SkipSearchRecord.self)).steps.count
        let decisions = first.result.schedule.indices.filter { first.result.schedule[$0] != .run($0) }.count
        #expect(secondReport["resumed_steps"]?.intValue == steps + decisions)
        for key in ["skipped", "reused", "search_order", "search_discrepancy", "discrepancy", "subblock_evals", "subblock_evals_naive"] {
            #expect(secondReport[key] == firstReport[key], "\(key) differs after resuming")
        }
    }

    @Test func aCheckpointOfAnotherCompileIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try CompileJob.run(options(dir))
        #expect { try CompileJob.run(options(dir, sparsity: 0.4)) } throws: { error in
            "\(error)".contains("search.ckpt: 'pipeline': the checkpoint was written for a different pass pipeline")
        }
        #expect { try CompileJob.run(options(dir, calibSize: 9)) } throws: { error in
            "\(error)".contains("'calibration': the checkpoint was written for a different calibration")
        }
        var otherModel = options(dir)
        otherModel.model = TestPaths.fixture("t5-v1_1-bf16")
        #expect { try CompileJob.run(otherModel) } throws: { error in
            "\(error)".contains("'model': the checkpoint was written for a different model")
        }
        try "{\"format\": \"something else\"}".write(toFile: dir + "/search.ckpt", atomically: true, encoding: .utf8)
        #expect { try CompileJob.run(options(dir)) } throws: { "\($0)".contains("expected \"skrrc-checkpoint 1\"") }
        try "{\"format\": ".write(toFile: dir + "/search.ckpt", atomically: true, encoding: .utf8)
        #expect { try CompileJob.run(options(dir)) } throws: { "\($0)".hasPrefix(dir + "/search.ckpt: ") }
    }

    @Test func checkpointNeedsASearchAndItsOwnPath() {
        let dir = TestPaths.makeTemporaryDirectory()
        var o = options(dir)
        o.level = .none
        #expect { try o.validate() } throws: { "\($0)" == "--checkpoint applies to searches: the pipeline measures nothing" }
        o = options(dir)
        o.checkpoint = o.report
        #expect { try o.validate() } throws: { "\($0)".contains("'--checkpoint': is also the path of --report: two outputs cannot share a file") }
    }

    /// `kill -9` at any moment: whatever the kill interrupted, running the same command again
    /// gives the runtime file an uninterrupted run writes, byte for byte.
    @Test func killNineAtAnyMomentThenResume() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let args = [TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.45", "--calib", "parti", "--calib-size", "24", "--beam", "2"]
        let reference = try runSkrrc(args + ["-o", dir + "/ref.skrr"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try readWholeFile(dir + "/ref.skrr")
        for (attempt, delay) in [0.3, 0.9, 1.6].enumerated() {
            let checkpoint = dir + "/k\(attempt).ckpt", out = dir + "/k\(attempt).skrr"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestPaths.skrrcBinary)
            process.arguments = args + ["--checkpoint", checkpoint, "-o", out]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // Whatever is on disk is a whole checkpoint (or none), never a torn one.
            if FileManager.default.fileExists(atPath: checkpoint) {
                #expect(throws: Never.self) { try JSONParser.parse(try readWholeFile(checkpoint)) }
            }
            let resumed = try runSkrrc(args + ["--checkpoint", checkpoint, "-o", out])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try readWholeFile(out) == expected, "attempt \(attempt) (killed after \(delay) s)")
        }
    }
}
