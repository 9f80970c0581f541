import Foundation
import SkrrTestSupport
import Testing

/// `--projection DENOISER`: D is measured after the denoiser's text projection, read by key.
@Suite struct ProjectionTests {
    func report(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func prune(_ extra: [String], dir: String) throws -> CommandResult {
        try runSkrrc([TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.2", "--calib", "parti", "--calib-size", "8",
                      "--report", dir + "/r.json", "-o", dir + "/p.ir"] + extra)
    }

    @Test func pixartCaptionProjectionChangesTheMeasuredDiscrepancy() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let denoiser = dir + "/transformer/diffusion_pytorch_model.safetensors"
        try FileManager.default.createDirectory(atPath: dir + "/transformer", withIntermediateDirectories: true)
        try CheckpointEditor(tensors: [
            .f32("caption_projection.linear_1.weight", [16, 48], scale: 0.3), .f32("caption_projection.linear_1.bias", [16], scale: 0.1),
            .f32("caption_projection.linear_2.weight", [16, 16], scale: 0.3), .f32("caption_projection.linear_2.bias", [16], scale: 0.1),
            .f32("pos_embed.proj.weight", [4, 4], scale: 1),
        ]).write(to: denoiser)
        let plain = try prune(["--pipeline", "pixart-sigma"], dir: dir)
        #expect(plain.status == 0, "\(plain.stderr)")
        let d0 = try report(dir + "/r.json")["discrepancy"] as! Double
        let projected = try prune(["--pipeline", "pixart-sigma", "--projection", dir], dir: dir)
        #expect(projected.status == 0, "\(projected.stderr)")
        let d1 = try report(dir + "/r.json")["discrepancy"] as! Double
        #expect(d0 > 0 && d1 > 0 && d0 != d1)
    }

    @Test func contextEmbedderIsOneLinear() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try CheckpointEditor(tensors: [.f32("context_embedder.weight", [24, 48], scale: 0.2), .f32("context_embedder.bias", [24], scale: 0.1)])
            .write(to: dir + "/sd3.safetensors")
        let result = try prune(["--pipeline", "sd3", "--projection", dir + "/sd3.safetensors"], dir: dir)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(arguments: [
        ([("context_embedder.weight", [24, 40])], "'context_embedder.weight': takes inputs of width 40, but the encoder's hidden size is 48"),
        ([("caption_projection.linear_1.weight", [16, 48])], "'caption_projection.linear_2.weight': missing"),
        ([("something.else", [2, 2])], "no text projection found"),
        ([("context_embedder.weight", [24, 48]), ("context_embedder.bias", [23])], "'context_embedder.bias': expected shape [24], got [23]"),
    ])
    func badDenoisersAreRefusedByKey(_ testCase: ([(String, [Int])], String)) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let path = dir + "/denoiser.safetensors"
        try CheckpointEditor(tensors: testCase.0.map { .f32($0.0, $0.1, scale: 0.1) }).write(to: path)
        let result = try prune(["--projection", path], dir: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains(testCase.1), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/p.ir"), "nothing is written on failure")
    }
}
