import Foundation
import SkrrTestSupport
import Testing

/// `skrrc MODEL -o OUT.skrr`, `skrrc run FILE.skrr`, `skrrc inspect FILE.skrr [--verify]`.
@Suite struct RuntimeFileCommandTests {
    func contents(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    func compile(_ fixture: String, _ extra: [String], out: String) throws {
        let result = try runSkrrc([TestPaths.fixture(fixture)] + extra + ["-o", out])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func run(_ model: String, _ args: [String], out: String) throws {
        let result = try runSkrrc(["run", model] + args + ["-o", out])
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// A pruned model run from its runtime file gives exactly the numbers of the same pruned IR.
    @Test(arguments: ["t5-v1_1", "umt5", "clip-proj", "bert"])
    func prunedFileRunsLikeItsIR(_ fixture: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let prune = ["-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8"]
        try compile(fixture, prune, out: dir + "/x.skrr")
        try compile(fixture, prune, out: dir + "/x.ir")
        let ir = String(decoding: contents(dir + "/x.ir"), as: UTF8.self)
        #expect(ir.contains("skip"), "the pruned schedule skips something")
        let ids = ["--ids", "5 17 9 3 1", "--ids", "7 2 1"]
        try run(dir + "/x.skrr", ids, out: dir + "/a.npy")
        try run(dir + "/x.ir", ids, out: dir + "/b.npy")
        #expect(contents(dir + "/a.npy") == contents(dir + "/b.npy"))
        #expect(contents(dir + "/a.npy").count > 128)
        // Prompts go through the tokenizer stored in the file: same as the model folder's.
        try run(dir + "/x.skrr", ["--prompt", "a red cube on a glass table"], out: dir + "/c.npy")
        try run(dir + "/x.ir", ["--prompt", "a red cube on a glass table"], out: dir + "/d.npy")
        #expect(contents(dir + "/c.npy") == contents(dir + "/d.npy"))
        // A second compile is byte-identical.
        try compile(fixture, prune, out: dir + "/y.skrr")
        #expect(contents(dir + "/x.skrr") == contents(dir + "/y.skrr"))
        // The pruned IR compiles to the same runtime file without searching again.
        let fromIR = try runSkrrc([dir + "/x.ir", "-o", dir + "/z.skrr"])
        #expect(fromIR.status == 0, "\(fromIR.stderr)")
        try run(dir + "/z.skrr", ids, out: dir + "/e.npy")
        #expect(contents(dir + "/e.npy") == contents(dir + "/a.npy"))
    }

    /// An IR file as the compile input: written again in another dtype, refused as its own
    /// output, and --encoder (a pipeline-folder option) refused with it.
    @Test func irFileIsACompileInput() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        // A schedule written by hand (as a user edits one), so no search is needed.
        try compile("t5-trained", [], out: dir + "/dense.ir")
        let dense = String(decoding: contents(dir + "/dense.ir"), as: UTF8.self)
        let edited = dense.replacingOccurrences(of: "slot 2 run 2 ", with: "slot 2 skip ")
            .replacingOccurrences(of: "slot 5 run 5 ", with: "slot 5 skip ")
        #expect(edited != dense)
        FileManager.default.createFile(atPath: dir + "/p.ir", contents: Data(edited.utf8))
        let int8 = try runSkrrc([dir + "/p.ir", "--weight-dtype", "int8", "-o", dir + "/p.skrr"])
        #expect(int8.status == 0, "\(int8.stderr)")
        let inspect = try runSkrrc(["inspect", dir + "/p.skrr"])
        #expect(inspect.stdout.contains("2 skipped") && inspect.stdout.contains("skipped [2, 5]") && inspect.stdout.contains("int8:"), "\(inspect.stdout)")
        let same = try runSkrrc([dir + "/p.ir", "-o", dir + "/p.ir"])
        #expect(same.status != 0 && same.stderr.contains("p.ir"), "\(same.stderr)")
        let encoder = try runSkrrc([dir + "/p.ir", "--encoder", "text_encoder", "-o", dir + "/q.skrr"])
        #expect(encoder.status == 1 && encoder.stderr.contains("an IR file holds one encoder"), "\(encoder.stderr)")
    }

    /// The tensors that components which still run name in a printed IR: what a runtime file must
    /// store. Sub-blocks marked eliminated or "runs in no slot" (merge inputs only) are left out;
    /// a re-used sub-block's tensors count once.
    func tensorsRunningComponentsName(_ ir: String) -> Set<String> {
        var used = Set<String>()
        var inDroppedBlock = false
        for line in ir.split(separator: "\n") {
            if line.hasPrefix("  ") && !line.hasPrefix("    ") {
                inDroppedBlock = line.contains("eliminated") || line.contains("runs in no slot")
            }
            let words = line.split(separator: " ")
            if !inDroppedBlock, line.hasPrefix("    "), words.count == 2, words[1].hasPrefix("%") { used.insert(String(words[1])) }
        }
        return used
    }

    /// On the trained fixture `-O prune` picks re-use by itself: the report follows the re-use
    /// rules and shows D lowered, and the runtime file runs like the IR with the re-used weights
    /// stored once.
    @Test func trainedFixtureReuseRoundTripsThroughTheRuntimeFile() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let prune = ["-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8", "--beam", "1"]
        try compile("t5-trained", prune + ["--report", dir + "/r.json"], out: dir + "/x.skrr")
        try compile("t5-trained", prune, out: dir + "/x.ir")
        let report = try JSONSerialization.jsonObject(with: contents(dir + "/r.json")) as! [String: Any]
        let reused = report["reused"] as! [String: Int]
        #expect(!reused.isEmpty, "re-use is chosen on the trained fixture")
        let skipped = Set(report["skipped"] as! [Int])
        for (slot, source) in reused {
            #expect(skipped.contains(Int(slot)!) && !skipped.contains(source) && Int(slot)! % 2 == source % 2)
        }
        let afterSearch = try #require((report["search_discrepancy"] as! [Double]).last)
        #expect((report["discrepancy"] as! Double) < afterSearch, "re-use is taken only when it lowers D")
        try run(dir + "/x.skrr", ["--prompt", "a red cube on a glass table", "--prompt", "two dogs"], out: dir + "/a.npy")
        try run(dir + "/x.ir", ["--prompt", "a red cube on a glass table", "--prompt", "two dogs"], out: dir + "/b.npy")
        #expect(contents(dir + "/a.npy") == contents(dir + "/b.npy"))
        let used = tensorsRunningComponentsName(String(decoding: contents(dir + "/x.ir"), as: UTF8.self))
        let inspect = try runSkrrc(["inspect", dir + "/x.skrr"])
        #expect(inspect.stdout.contains("weights \(used.count) tensors,"), "\(used.count)\n\(inspect.stdout)")
        #expect(inspect.stdout.contains(": re-use sub-block "))
    }

    /// A LaCo result runs from its runtime file exactly like its IR, and the file stores the
    /// merged tensors but none of their inputs.
    @Test(arguments: ["t5-v1_1", "umt5", "clip-proj", "bert"])
    func lacoFileStoresMergedWeightsOnly(_ fixture: String) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let prune = ["-O", "prune", "--method", "laco", "--sparsity", "0.15", "--calib", "parti", "--calib-size", "8"]
        try compile(fixture, prune, out: dir + "/x.skrr")
        try compile(fixture, prune, out: dir + "/x.ir")
        let ids = ["--ids", "5 17 9 3 1", "--ids", "7 2 1"]
        try run(dir + "/x.skrr", ids, out: dir + "/a.npy")
        try run(dir + "/x.ir", ids, out: dir + "/b.npy")
        #expect(contents(dir + "/a.npy") == contents(dir + "/b.npy"))
        // Folded sub-blocks name merge inputs only; those are not stored.
        let ir = String(decoding: contents(dir + "/x.ir"), as: UTF8.self)
        let used = tensorsRunningComponentsName(ir)
        #expect(ir.contains("runs in no slot; weights kept only as merge inputs"))
        #expect(ir.contains(" merge base %"))
        let inspect = try runSkrrc(["inspect", dir + "/x.skrr", "--verify"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("weights \(used.count) tensors,"), "\(used.count) used tensors\n\(inspect.stdout)")
        try compile(fixture, prune, out: dir + "/y.skrr")
        #expect(contents(dir + "/x.skrr") == contents(dir + "/y.skrr"))
    }

    @Test func denseFileMatchesTheModelFolder() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        for fixture in ["t5-v1_1-sharded", "t5-relu", "clip", "t5-v1_1-bf16"] {
            try compile(fixture, [], out: dir + "/\(fixture).skrr")
            try run(dir + "/\(fixture).skrr", ["--ids", "5 17 9 3 1"], out: dir + "/a.npy")
            try run(TestPaths.fixture(fixture), ["--ids", "5 17 9 3 1"], out: dir + "/b.npy")
            #expect(contents(dir + "/a.npy") == contents(dir + "/b.npy"), "\(fixture)")
        }
    }

    @Test func inspectShowsSlotsPresetAndTokenizer() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("t5-v1_1", ["-O", "prune", "--sparsity", "0.3", "--calib", "parti", "--calib-size", "8", "--pipeline", "pixart-sigma"],
                    out: dir + "/p.skrr")
        let result = try runSkrrc(["inspect", dir + "/p.skrr", "--verify", "--tensors"])
        #expect(result.status == 0, "\(result.stderr)")
        let check = FileCheck(checkSource: """
            // CHECK: file p.skrr: skrr runtime file, format 1,
            // CHECK-NEXT: header 64 bytes, manifest
            // CHECK-SAME: alignment 64
            // CHECK: source t5-v1_1
            // CHECK-NEXT: passes skip-search{
            // CHECK-SAME: reuse-rewrite,dead-weight-elim
            // CHECK-NEXT: params
            // CHECK-SAME: kept of 79,320 (sparsity 40.85%)
            // CHECK-NEXT: encoder hidden 48, 3 blocks, 3 heads × 20, ffn 72 gated gelu_tanh, vocab 277, rms pre-norm, relative positions shared (8 buckets, max distance 16), bidirectional
            // CHECK-NEXT: preset pixart-sigma: max_length 300, pad to max_length, padding masked; default output hidden
            // CHECK-NEXT: tokenizer sentencepiece: spiece.model
            // CHECK-NEXT: weights 17 tensors, 187,680 bytes, dtype f32
            // CHECK-NEXT: slots 6: 3 run, 3 skipped, 0 re-used
            // CHECK-NEXT: slot 0 attention block 0: run, 11,568 params
            // CHECK-NEXT: slot 1 ffn block 0: run, 10,416 params
            // CHECK-NEXT: slot 2 attention block 1: run
            // CHECK-NEXT: slot 3 ffn block 1: skip
            // CHECK-NEXT: slot 4 attention block 2: skip
            // CHECK-NEXT: slot 5 ffn block 2: skip
            // CHECK-NEXT: skipped [3, 4, 5]
            // CHECK-NEXT: reused {}
            // CHECK-NEXT: tensors
            // CHECK-NEXT: 0 shared.weight f32[277, 48] offset 0 bytes 53184 xxh64
            // CHECK-NOT: block.2.layer.0
            // CHECK: verify: all 17 tensor checksums match
            """)
        if let failure = check.match(result.stdout) { Issue.record("\(failure)\n\(result.stdout)") }
    }

    @Test func storedPresetIsUsedUnlessOverridden() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("clip", ["--pipeline", "sdxl"], out: dir + "/c.skrr")
        try run(dir + "/c.skrr", ["--ids", "812 5 9 813"], out: dir + "/a.npy")
        // SDXL reads CLIP's penultimate hidden states: the file's default output.
        try run(TestPaths.fixture("clip"), ["--ids", "812 5 9 813", "--pipeline", "sdxl", "--output", "layer:-2"], out: dir + "/b.npy")
        #expect(contents(dir + "/a.npy") == contents(dir + "/b.npy"))
        #expect(contents(dir + "/a.npy").count == 128 + 77 * 40 * 4)
        try run(TestPaths.fixture("clip"), ["--ids", "812 5 9 813", "--pipeline", "sdxl"], out: dir + "/last.npy")
        #expect(contents(dir + "/a.npy") != contents(dir + "/last.npy"))
        let inspect = try runSkrrc(["inspect", dir + "/c.skrr"])
        #expect(inspect.stdout.contains("default output layer:-2"), "\(inspect.stdout)")
        // FLUX reads CLIP's pooled output; a T5 encoder's default stays the hidden states.
        try compile("clip", ["--pipeline", "flux"], out: dir + "/f.skrr")
        #expect(try runSkrrc(["inspect", dir + "/f.skrr"]).stdout.contains("default output pooled"))
        try compile("t5-v1_1", ["--pipeline", "sd3"], out: dir + "/t.skrr")
        #expect(try runSkrrc(["inspect", dir + "/t.skrr"]).stdout.contains("default output hidden"))
        try run(dir + "/c.skrr", ["--ids", "812 5 9 813", "--pipeline", "generic"], out: dir + "/g.npy")
        #expect(contents(dir + "/g.npy").count == 128 + 4 * 40 * 4)
    }

    @Test func bf16WeightsAreHalfTheFileAndClose() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("t5-v1_1", [], out: dir + "/f.skrr")
        try compile("t5-v1_1", ["--weight-dtype", "bf16"], out: dir + "/b.skrr")
        let ratio = Double(contents(dir + "/b.skrr").count) / Double(contents(dir + "/f.skrr").count)
        #expect(ratio > 0.45 && ratio < 0.56, "\(ratio)")
        let inspect = try runSkrrc(["inspect", dir + "/b.skrr"])
        #expect(inspect.stdout.contains("dtype bf16"))
        try run(dir + "/f.skrr", ["--ids", "5 17 9 3 1"], out: dir + "/f.npy")
        try run(dir + "/b.skrr", ["--ids", "5 17 9 3 1"], out: dir + "/b.npy")
        func floats(_ path: String) -> [Float] {
            let data = contents(path).dropFirst(128)
            return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        }
        let a = floats(dir + "/f.npy"), b = floats(dir + "/b.npy")
        let worst = zip(a, b).map { abs($0 - $1) }.max()!, scale = a.map(abs).max()!
        #expect(worst / scale < 0.03 && worst > 0, "relative error \(worst / scale)")
    }

    /// `--weight-dtype int8` through the CLI: the file shrinks, inspect lists the int8 bytes and
    /// their scales, run works on it, and the numbers stay close to the f32 file's.
    @Test func int8WeightsThroughTheCommandLine() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("t5-deep", [], out: dir + "/f.skrr")
        try compile("t5-deep", ["--weight-dtype", "int8"], out: dir + "/q.skrr")
        let ratio = Double(contents(dir + "/q.skrr").count) / Double(contents(dir + "/f.skrr").count)
        #expect(ratio < 0.3, "\(ratio)")
        let inspect = try runSkrrc(["inspect", dir + "/q.skrr", "--verify"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("format 2") && inspect.stdout.contains("dtype mixed")
                && inspect.stdout.contains("int8: 169 tensors") && inspect.stdout.contains("bytes of row scales"), "\(inspect.stdout)")
        let prompt = ["--prompt", "a red cube on top of a blue sphere, photographed in soft morning light"]
        try run(dir + "/f.skrr", prompt, out: dir + "/f.npy")
        try run(dir + "/q.skrr", prompt, out: dir + "/q.npy")
        func floats(_ path: String) -> [Float] {
            let data = contents(path).dropFirst(128)
            return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        }
        let a = floats(dir + "/f.npy"), b = floats(dir + "/q.npy")
        let error = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            / a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(error > 0 && error < 0.02, "relative error \(error)")
        // --compute int8: activations quantized per token as well (measured 2.5 % on this prompt).
        try run(dir + "/q.skrr", prompt + ["--compute", "int8"], out: dir + "/c.npy")
        let c = floats(dir + "/c.npy")
        let computeError = zip(a, c).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            / a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(c.count == a.count && c.allSatisfy(\.isFinite) && computeError > error && computeError < 0.04,
                "relative error \(computeError) against \(error) with exact products")
        let noInt8 = try runSkrrc(["run", dir + "/f.skrr"] + prompt + ["--compute", "int8", "-o", dir + "/r.npy"])
        #expect(noInt8.status == 1 && noInt8.stderr.contains("'--compute int8': this model stores no int8 weights (f32)"), "\(noInt8.stderr)")
        let search = try runSkrrc([TestPaths.fixture("t5-deep"), "-O", "prune", "--search-compute", "int8", "-o", dir + "/s.ir"])
        #expect(search.status == 64 && search.stderr.contains("--search-compute int8 is not supported"), "\(search.stderr)")
        // int8 applies to runtime files only, like every --weight-dtype.
        let ir = try runSkrrc([TestPaths.fixture("t5-deep"), "--weight-dtype", "int8", "-o", dir + "/x.ir"])
        #expect(ir.status == 64, "\(ir.stderr)")
    }

    @Test func verifyCatchesAFlippedWeight() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("bert", [], out: dir + "/b.skrr")
        var bytes = contents(dir + "/b.skrr")
        bytes[bytes.count - 40_000] ^= 0x08  // inside the weights (the vocab is stored after them, ~2 kB)
        FileManager.default.createFile(atPath: dir + "/b.skrr", contents: bytes)
        let plain = try runSkrrc(["inspect", dir + "/b.skrr"])
        #expect(plain.status == 0, "structure is intact")
        let verify = try runSkrrc(["inspect", dir + "/b.skrr", "--verify"])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("b.skrr") && verify.stderr.contains("expected xxh64") && verify.stderr.contains("fail their checksum"),
                "\(verify.stderr)")
    }

    @Test func corruptOrNewerFilesAreRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try compile("t5-v1_1", [], out: dir + "/t.skrr")
        var newer = contents(dir + "/t.skrr")
        newer[8] = 7
        FileManager.default.createFile(atPath: dir + "/n.skrr", contents: newer)
        for command in [["inspect", dir + "/n.skrr"], ["run", dir + "/n.skrr", "--ids", "5 1", "-o", dir + "/e.npy"]] {
            let result = try runSkrrc(command)
            #expect(result.status == 1)
            #expect(result.stderr.contains("n.skrr") && result.stderr.contains("format version 7 is newer than this runtime reads (version 3)"),
                    "\(result.stderr)")
        }
        FileManager.default.createFile(atPath: dir + "/cut.skrr", contents: contents(dir + "/t.skrr").prefix(5000))
        let cut = try runSkrrc(["run", dir + "/cut.skrr", "--ids", "5 1", "-o", dir + "/e.npy"])
        #expect(cut.status == 1 && cut.stderr.contains("truncated"), "\(cut.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.npy"))
    }

    @Test func usageErrors() throws {
        let bad = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-o", "/tmp/x.bin"])
        #expect(bad.status == 64 && bad.stderr.contains("-o must name a runtime file (.skrr) or an IR file (.ir)"), "\(bad.stderr)")
        let dtype = try runSkrrc([TestPaths.fixture("t5-v1_1"), "--weight-dtype", "f8", "-o", "/tmp/x.skrr"])
        #expect(dtype.status == 64 && dtype.stderr.contains("Please provide one of 'f32', 'f16', 'bf16' or 'int8'"), "\(dtype.stderr)")
        let irDtype = try runSkrrc([TestPaths.fixture("t5-v1_1"), "--weight-dtype", "bf16", "-o", "/tmp/x.ir"])
        #expect(irDtype.status == 64, "\(irDtype.stderr)")
    }

    /// SIGTERM while the runtime file is being written leaves nothing behind.
    @Test(arguments: [SIGTERM, SIGINT])
    func interruptedWriteLeavesNothing(_ signal: Int32) throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.skrrcBinary)
        process.arguments = [TestPaths.fixture("t5-v1_1"), "-o", dir + "/t.skrr"]
        var environment = ProcessInfo.processInfo.environment
        environment["SKRR_TEST_ATOMIC_WRITE_DELAY_MS"] = "20000"
        process.environment = environment
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sawTemporary = false
        for _ in 0..<400 where !sawTemporary {
            usleep(25_000)
            sawTemporary = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.contains(".tmp-") }
        }
        #expect(sawTemporary, "the write never started")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
    }
}

/// A whole pipeline in one runtime file (issue 16): `skrrc PIPELINE -o FILE.skrr`, then `run`
/// and `inspect` on it.
@Suite struct PipelineFileCommandTests {
    func contents(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    @Test func pipelineFileRunsLikeItsFolderAndInspectsEveryEncoder() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let folder = TestPaths.fixture("sd3-full")
        let compile = try runSkrrc([folder, "-o", dir + "/sd3.skrr"])
        #expect(compile.status == 0, "\(compile.stderr)")
        #expect(compile.stderr.contains("sd3 pipeline of 3 encoders"))
        let prompts = ["--prompt", "a red cube on a glass table", "--prompt", "Epic! two cats"]
        for (model, out) in [(dir + "/sd3.skrr", "/a.safetensors"), (folder, "/b.safetensors")] {
            let run = try runSkrrc(["run", model] + prompts + ["-o", dir + out])
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(contents(dir + "/a.safetensors") == contents(dir + "/b.safetensors"))
        #expect(contents(dir + "/a.safetensors").count > 1000)
        // One member, as the file stores it (its preset and default output).
        let member = try runSkrrc(["run", dir + "/sd3.skrr", "--encoder", "text_encoder_3"] + prompts + ["-o", dir + "/t5.npy"])
        #expect(member.status == 0, "\(member.stderr)")
        let alone = try runSkrrc(["run", folder, "--encoder", "text_encoder_3", "--pipeline", "sd3"] + prompts + ["-o", dir + "/t5b.npy"])
        #expect(alone.status == 0, "\(alone.stderr)")
        #expect(contents(dir + "/t5.npy") == contents(dir + "/t5b.npy"))

        let inspect = try runSkrrc(["inspect", dir + "/sd3.skrr", "--verify"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        for line in ["skrr pipeline file (sd3), format 3", "encoders 3", "text_encoder: clip 1", "text_encoder_2: clip 2",
                     "text_encoder_3: t5", "== encoder text_encoder_3 ==", "preset sd3: max_length 256",
                     "verify: all", "tensor checksums of the 3 encoders match"] {
            #expect(inspect.stdout.contains(line), "inspect lacks '\(line)'")
        }
    }

    @Test func pipelineFileMisuseIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let folder = TestPaths.fixture("flux-full")
        #expect(try runSkrrc([folder, "-o", dir + "/flux.skrr"]).status == 0)
        let cases: [([String], Int32, String)] = [
            (["run", dir + "/flux.skrr", "--ids", "5 6 1", "-o", dir + "/x.npy"], 64, "--ids names one tokenizer's ids"),
            (["run", dir + "/flux.skrr", "--prompt", "a", "--output", "pooled", "-o", dir + "/x.npy"], 64, "--output pooled applies to one encoder"),
            (["run", dir + "/flux.skrr", "--encoder", "text_encoder_3", "--prompt", "a", "-o", dir + "/x.npy"], 1,
             "this flux pipeline file holds text_encoder, text_encoder_2"),
            (["run", dir + "/flux.skrr", "--pipeline", "sd3", "--prompt", "a", "-o", dir + "/x.npy"], 1, "this pipeline file was compiled for flux"),
            ([folder, "--sparsity", "0.3", "-o", dir + "/y.skrr"], 64, "--sparsity applies to -O prune"),
            ([folder, "-o", dir + "/y.ir"], 1, "--encoder"),
            ([folder, "-O", "prune", "-o", dir + "/y.ir"], 64, "one IR file per encoder into a folder"),
        ]
        for (arguments, status, fragment) in cases {
            let result = try runSkrrc(arguments)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.npy") && !FileManager.default.fileExists(atPath: dir + "/y.skrr"))
    }
}
