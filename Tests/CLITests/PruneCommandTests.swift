import Foundation
import SkrrTestSupport
import Testing

/// `skrrc MODEL -O prune --sparsity 0.3 --report r.json` on every family: the run succeeds,
/// the report has docs/architecture.md §8's fields, and the result obeys the Skrr rules.
@Suite struct PruneCommandTests {
    func report(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    @Test(arguments: ["t5-v1_1", "t5-relu", "umt5", "clip", "clip-proj", "bert", "pixart-pipeline"])
    func pruneEveryFamily(_ fixture: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc([TestPaths.fixture(fixture), "-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "16",
                                   "--report", dir + "/r.json", "-o", dir + "/p.ir"])
        #expect(result.status == 0, "\(result.stderr)")
        let r = try report(dir + "/r.json")
        for key in ["method", "pipeline", "sparsity_target", "sparsity", "params_total", "params_kept", "bytes_out", "skipped",
                    "reused", "search_order", "discrepancy", "eval_discrepancy", "subblock_evals", "subblock_evals_naive", "seconds"] {
            #expect(r[key] != nil, "report lacks \(key)")
        }
        #expect(r["method"] as? String == "skrr")
        #expect((r["sparsity"] as! Double) >= 0.3)
        #expect((r["params_kept"] as! Int) < (r["params_total"] as! Int))
        #expect((r["subblock_evals"] as! Int) <= (r["subblock_evals_naive"] as! Int))
        let skipped = Set(r["skipped"] as! [Int])
        let order = r["search_order"] as! [Int]
        #expect(Set(order) == skipped, "every skipped slot comes from the search order")
        // Re-use: a skipped slot runs an originally kept sub-block of the same kind.
        for (slot, source) in r["reused"] as! [String: Int] {
            let s = Int(slot)!
            #expect(skipped.contains(s) && !skipped.contains(source) && s % 2 == source % 2)
        }
        // The written IR verifies and runs.
        let reparsed = try runSkrrc(["opt", dir + "/p.ir"])
        #expect(reparsed.status == 0, "\(reparsed.stderr)")
    }

    @Test(arguments: ["skip-only", "finercut", "shortgpt"])
    func baselinesShareTheReport(_ method: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let held = dir + "/held.txt"
        try "a quiet harbor at dawn\nthree cats on a red sofa\n".write(toFile: held, atomically: true, encoding: .utf8)
        let result = try runSkrrc([TestPaths.fixture("bert"), "-O", "prune", "--method", method, "--sparsity", "0.3",
                                   "--calib", "parti", "--calib-size", "16", "--eval", held, "--report", dir + "/r.json", "-o", dir + "/p.ir"])
        #expect(result.status == 0, "\(result.stderr)")
        let r = try report(dir + "/r.json")
        #expect(r["method"] as? String == method)
        #expect((r["reused"] as! [String: Int]).isEmpty, "baselines never re-use")
        #expect((r["eval_discrepancy"] as? Double ?? -1) > 0)
        if method == "shortgpt" {
            // Whole blocks: both sub-blocks of each removed block.
            let skipped = Set(r["skipped"] as! [Int])
            #expect(skipped.allSatisfy { skipped.contains($0 ^ 1) })
        }
    }

    /// LaCo on every family: merged weights, the same report, held-out D measured on the merged
    /// model (not on its schedule alone), and an IR that verifies.
    @Test(arguments: ["t5-v1_1", "umt5", "clip", "bert", "pixart-pipeline"])
    func lacoMergesLayersOnEveryFamily(_ fixture: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let held = dir + "/held.txt"
        try "a quiet harbor at dawn\nthree cats on a red sofa\n".write(toFile: held, atomically: true, encoding: .utf8)
        let result = try runSkrrc([TestPaths.fixture(fixture), "-O", "prune", "--method", "laco", "--sparsity", "0.2",
                                   "--calib", "parti", "--calib-size", "8", "--eval", held, "--report", dir + "/r.json", "-o", dir + "/p.ir"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("merged (LaCo): block"), "\(result.stdout)")
        let r = try report(dir + "/r.json")
        #expect(r["method"] as? String == "laco")
        #expect((r["sparsity"] as! Double) >= 0.2)
        #expect((r["reused"] as! [String: Int]).isEmpty)
        let merged = try #require(r["merged"] as? [[String: Any]])
        #expect(!merged.isEmpty)
        let skipped = Set(r["skipped"] as! [Int])
        let folded = merged.flatMap { $0["folded"] as! [Int] }
        #expect(skipped == Set(folded.flatMap { [2 * $0, 2 * $0 + 1] }), "the folded blocks' slots are the skipped ones")
        #expect((r["eval_discrepancy"] as? Double ?? -1) > 0)
        let ir = try String(contentsOfFile: dir + "/p.ir", encoding: .utf8)
        #expect(ir.contains(" merge base %"))
        let reparsed = try runSkrrc(["opt", dir + "/p.ir"])
        #expect(reparsed.status == 0, "\(reparsed.stderr)")
    }

    /// SDXL reads a CLIP tower's penultimate layer: the last block changes nothing it reads, so
    /// the search drops it first at D = 0, and the file's default output is that layer.
    @Test func sdxlClipSearchMeasuresThePenultimateLayer() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc([TestPaths.fixture("clip"), "-O", "prune", "--pipeline", "sdxl", "--sparsity", "0.3",
                                   "--calib", "parti", "--calib-size", "8", "--report", dir + "/r.json", "-o", dir + "/p.skrr"])
        #expect(result.status == 0, "\(result.stderr)")
        let r = try report(dir + "/r.json")
        let order = r["search_order"] as! [Int], d = r["search_discrepancy"] as! [Double]
        #expect(Set(order.prefix(2)) == [4, 5], "\(order)")
        #expect(d.prefix(2).allSatisfy { $0 == 0 } && d.last! > 0, "\(d)")
        let generic = try runSkrrc([TestPaths.fixture("clip"), "-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8",
                                    "--report", dir + "/g.json", "-o", dir + "/g.ir"])
        #expect(generic.status == 0)
        #expect((try report(dir + "/g.json")["search_discrepancy"] as! [Double]).first! > 0, "the generic preset reads the last layer")
    }

    @Test func lacoOptionsGoThroughPasses() throws {
        let result = try runSkrrc([TestPaths.fixture("clip"), "--passes", "laco{sparsity=0.3 layers=2 threshold=0.99},dead-weight-elim",
                                   "--calib", "parti", "--calib-size", "8", "--emit-ir"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("laco: "), "\(result.stderr)")
        let bad = try runSkrrc([TestPaths.fixture("clip"), "--passes", "laco{sparsity=0.3 layers=0}", "--emit-ir"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("option layers=0 must be an integer in 1...64"), "\(bad.stderr)")
    }

    @Test func unreachableSparsityIsBadInput() throws {
        let result = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.95", "--calib", "parti", "--calib-size", "4", "--emit-ir"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("target sparsity 0.95 is unreachable"), "\(result.stderr)")
    }

    @Test func promptsAreTokenizedAsTransformersDoes() throws {
        // The fixture's single reference row was computed by transformers from this prompt.
        let dir = TestPaths.makeTemporaryDirectory()
        let byPrompt = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--prompt", "a red cube on a glass table", "-o", dir + "/a.npy"])
        #expect(byPrompt.status == 0, "\(byPrompt.stderr)")
        let ids = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", "3 78 34 13 42 5 22 3 238 165 1", "-o", dir + "/b.npy"])
        #expect(ids.status == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.npy")), b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.npy"))
        #expect(a == b)
    }
}

@Suite struct PruneSummaryTests {
    @Test func summaryGoesToStdoutAndNamesWhatWasRemoved() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8",
                                   "--report", dir + "/r.json", "-o", dir + "/p.ir"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let check = FileCheck(checkSource: """
            // CHECK: t5-v1_1 (skrr): weights 309.8 KiB →
            // CHECK-SAME: 79,320 →
            // CHECK-NEXT: skipped:
            // CHECK-NEXT: re-used:
            // CHECK-NEXT: discrepancy D: \(String("\(report["discrepancy"] as! Double)".prefix(12)))
            // CHECK-NEXT: search: \(report["subblock_evals"] as! Int) sub-block runs (\(report["subblock_evals_naive"] as! Int) without caching)
            """)
        #expect(check.match(result.stdout) == nil, "\(check.match(result.stdout) ?? "")\n\(result.stdout)")
        #expect(result.stdout.contains("calibration prompts"))
    }
}

@Suite struct TruncationTests {
    /// Prompts longer than an encoder's learned positions are truncated as transformers does,
    /// keeping the end token, instead of failing the run.
    @Test func longPromptsAreTruncatedToTheEncodersPositions() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let long = Array(repeating: "a red cube on a glass table", count: 12).joined(separator: " and ")
        let result = try runSkrrc(["run", TestPaths.fixture("bert"), "--prompt", long, "-o", dir + "/e.npy"])
        #expect(result.status == 0, "\(result.stderr)")
        let prune = try runSkrrc([TestPaths.fixture("bert"), "-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "64", "-o", dir + "/p.ir"])
        #expect(prune.status == 0, "\(prune.stderr)")
    }
}

/// `skrrc PIPELINE -O prune` without --encoder: the joint prune of every encoder (issue 16).
@Suite struct JointPruneCommandTests {
    /// A joint prune (pipeline folder, no --encoder) refuses what it cannot do, by name: one IR
    /// file for several encoders (usage, 64) and mpirun ranks (every rank would run it all; 1).
    @Test func jointPruneRefusesWhatItDoesNotDoYet() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let file = try runSkrrc([TestPaths.fixture("sd3-full"), "-O", "prune", "-o", dir + "/all.ir"])
        #expect(file.status == 64 && file.stderr.contains("one IR file per encoder into a folder (-o FOLDER)"), "\(file.stderr)")
        let rank = try runCommand(TestPaths.skrrcBinary, [TestPaths.fixture("sd3-full"), "-O", "prune", "--report", dir + "/r.json"],
                                  environment: ["OMPI_COMM_WORLD_SIZE": "2", "PATH": "/usr/bin:/bin"])
        #expect(rank.status == 1 && rank.stderr.contains("runs in one process for now (OMPI_COMM_WORLD_SIZE is set)"), "\(rank.stderr)")
        let clobber = try runSkrrc([TestPaths.fixture("sd3-full"), "-O", "prune", "--report", TestPaths.fixture("sd3-full/model_index.json")])
        #expect(clobber.status == 1 && clobber.stderr.contains("--report"), "\(clobber.stderr)")
        let rankFlag = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-O", "prune", "--rank", "per-parameter", "--emit-ir"])
        #expect(rankFlag.status == 64 && rankFlag.stderr.contains("--rank applies to a joint prune"), "\(rankFlag.stderr)")
    }
}
