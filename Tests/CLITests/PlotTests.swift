import Foundation
import SkrrTestSupport
import Testing

/// `--plot FILE.svg`: one cell per slot with its state, D along the search order, deterministic bytes.
@Suite struct PlotTests {
    @Test func plotShowsEverySlotAndTheSearch() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        var outputs: [String] = []
        for name in ["a", "b"] {
            let result = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8",
                                       "--plot", dir + "/\(name).svg", "--report", dir + "/\(name).json", "-o", dir + "/\(name).ir"])
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(try String(contentsOfFile: dir + "/\(name).svg", encoding: .utf8))
        }
        #expect(outputs[0] == outputs[1], "the same run must give the same SVG")
        let svg = outputs[0]
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/a.json"))) as! [String: Any]
        let skipped = (report["skipped"] as! [Int]).count, reused = (report["reused"] as! [String: Int]).count
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<title>sub-block ").count - 1 == 6)
        #expect(svg.components(separatedBy: "rx=\"4\" fill=\"#bbbbbb\"").count - 1 == skipped - reused)
        #expect(svg.components(separatedBy: "rx=\"4\" fill=\"#dd6b20\"").count - 1 == reused)
        #expect(svg.contains("discrepancy D along the search order"))
        #expect(svg.components(separatedBy: "<circle ").count - 1 == (report["search_order"] as! [Int]).count)
    }

    /// LaCo's base block is drawn as holding merged weights, naming the blocks folded into it.
    @Test func plotMarksMergedBlocks() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc([TestPaths.fixture("clip"), "-O", "prune", "--method", "laco", "--sparsity", "0.3",
                                   "--calib", "parti", "--calib-size", "8", "--plot", dir + "/p.svg", "--report", dir + "/r.json", "-o", dir + "/p.ir"])
        #expect(result.status == 0, "\(result.stderr)")
        let svg = try String(contentsOfFile: dir + "/p.svg", encoding: .utf8)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let merges = report["merged"] as! [[String: Any]]
        #expect(merges.count == 1)
        let folded = (merges[0]["folded"] as! [Int]).map(String.init).joined(separator: ",")
        // Both sub-blocks of the base block, each noting the folded blocks.
        #expect(svg.components(separatedBy: "rx=\"4\" fill=\"#6b46c1\"").count - 1 == 2)
        #expect(svg.components(separatedBy: ">+\(folded)</text>").count - 1 == 2, "\(folded)")
        #expect(svg.contains("merged weights (+folded blocks)"))
    }
}
