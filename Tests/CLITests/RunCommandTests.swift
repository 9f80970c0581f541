import Foundation
import SkrrTestSupport
import Testing

/// `skrrc run`: outputs land in files numpy and diffusers can read, and bad requests fail cleanly.
@Suite struct RunCommandTests {
    /// Parses a little-endian float32 `.npy` written by skrrc, independently of its writer.
    func readNPY(_ path: String) throws -> (shape: [Int], values: [Float]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0, "data must start 64-byte aligned")
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'descr': '<f4'"))
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let body = data.subdata(in: (10 + headerLength)..<data.count)
        let values = body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        return (shape, values)
    }

    /// The reference tensor of a fixture, read with Foundation's JSON and raw bytes.
    func referenceFloats(_ fixture: String, _ name: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(fixture + "/reference.safetensors")))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let offsets = (header[name] as! [String: Any])["data_offsets"] as! [Int]
        let body = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
        return body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / b.map(abs).max()!
    }

    @Test func idsToNPYMatchesTransformers() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let out = dir + "/e.npy"
        let ids = try singleIds("t5-v1_1")
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", ids, "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        let (shape, values) = try readNPY(out)
        #expect(shape == [1, ids.split(separator: " ").count, 48])
        #expect(maxRelativeError(values, try referenceFloats("t5-v1_1", "single_last_hidden_state")) <= 1e-4)
    }

    @Test func pooledAndPenultimateOutputs() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let ids = try singleIds("clip-proj")
        let pooled = try runSkrrc(["run", TestPaths.fixture("clip-proj"), "--ids", ids, "--output", "projected", "-o", dir + "/p.npy"])
        #expect(pooled.status == 0, "\(pooled.stderr)")
        let (shape, values) = try readNPY(dir + "/p.npy")
        #expect(shape == [1, 28])
        #expect(maxRelativeError(values, try referenceFloats("clip-proj", "single_text_embeds")) <= 1e-4)

        let layer = try runSkrrc(["run", TestPaths.fixture("clip-proj"), "--ids", ids, "--output", "layer:-2", "-o", dir + "/l.npy"])
        #expect(layer.status == 0, "\(layer.stderr)")
        #expect(try readNPY(dir + "/l.npy").shape == [1, ids.split(separator: " ").count, 36])
    }

    @Test func safetensorsOutputUsesDiffusersNames() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let out = dir + "/e.safetensors"
        let result = try runSkrrc(["run", TestPaths.fixture("clip-proj"), "--ids", "812 5 9 813", "--ids", "812 7 813", "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        #expect(Set(header.keys) == ["prompt_embeds", "prompt_attention_mask", "pooled_prompt_embeds", "__metadata__"])
        #expect((header["prompt_embeds"] as! [String: Any])["shape"] as! [Int] == [2, 4, 36])
        #expect((header["pooled_prompt_embeds"] as! [String: Any])["shape"] as! [Int] == [2, 28])
        #expect((header["prompt_attention_mask"] as! [String: Any])["dtype"] as! String == "I64")
    }

    @Test func presetPadsToItsLengthWithoutMask() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc(["run", TestPaths.fixture("clip"), "--ids", "812 5 9 813", "--pipeline", "sdxl", "-o", dir + "/e.npy"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try readNPY(dir + "/e.npy").shape == [1, 77, 40])
    }

    /// --compute takes f32, bf16 or int8; anything else is a usage error, on any CPU.
    @Test func computeOptionRefusesOtherPrecisions() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let bad = try runSkrrc(["run", TestPaths.fixture("t5-v1_1-bf16"), "--ids", "5 1", "--compute", "f16", "-o", dir + "/x.npy"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("The value 'f16' is invalid for '--compute <compute>'. Please provide one of 'f32', 'bf16' or 'int8'"), "\(bad.stderr)")
    }

    /// --compute bf16 runs bf16-stored weights in bf16 (close to, not equal to, the exact
    /// result); on f32 weights it says it changes nothing.
    @Test(.enabled(if: skrrcSupportsBF16Compute(), "this CPU has neither AVX-512 BF16 nor AVX2+FMA"))
    func bf16ComputeRunsTheBF16Kernel() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let ids = ["--ids", "5 17 9 3 1", "--ids", "7 2 1"]
        let exact = try runSkrrc(["run", TestPaths.fixture("t5-v1_1-bf16")] + ids + ["-o", dir + "/e.npy"])
        let fast = try runSkrrc(["run", TestPaths.fixture("t5-v1_1-bf16")] + ids + ["--compute", "bf16", "-o", dir + "/b.npy"])
        #expect(exact.status == 0 && fast.status == 0, "\(fast.stderr)")
        let e = try readNPY(dir + "/e.npy").values, b = try readNPY(dir + "/b.npy").values
        let scale = e.map(abs).max()!, worst = zip(e, b).map { abs($0 - $1) }.max()!
        #expect(worst > 0 && worst / scale < 2e-2, "relative difference \(worst / scale)")
        let f32 = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", "5 1", "--compute", "bf16", "-o", dir + "/f.npy"])
        #expect(f32.status == 0)
        #expect(f32.stderr.contains("--compute bf16 changes nothing here"), "\(f32.stderr)")
    }

    /// Without the instructions, --compute bf16 is refused with a way out, not silently ignored.
    @Test(.enabled(if: !skrrcSupportsBF16Compute(), "this CPU has AVX-512 BF16 or AVX2+FMA"))
    func bf16ComputeIsRefusedWithoutTheInstructions() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1-bf16"), "--ids", "5 1", "--compute", "bf16", "-o", dir + "/x.npy"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("this CPU has no AVX-512 BF16 instructions; use --compute f32"), "\(result.stderr)")
    }

    /// --encoder picks a text encoder of a pipeline folder; on a file holding one encoder it is
    /// refused rather than silently ignored.
    @Test func encoderOptionOnASingleEncoderFileIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let emitted = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-o", dir + "/m.ir"])
        #expect(emitted.status == 0, "\(emitted.stderr)")
        let compiled = try runSkrrc([TestPaths.fixture("t5-v1_1"), "-o", dir + "/m.skrr"])
        #expect(compiled.status == 0, "\(compiled.stderr)")
        for file in ["m.ir", "m.skrr"] {
            let result = try runSkrrc(["run", dir + "/" + file, "--encoder", "text_encoder_2", "--ids", "5 1", "-o", dir + "/x.npy"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("'--encoder text_encoder_2': applies to a diffusers pipeline folder"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.npy"))
    }

    @Test func requestsTheModelCannotServeAreBadInput() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let pooled = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", "5 1", "--output", "pooled", "-o", dir + "/x.npy"])
        #expect(pooled.status == 1)
        #expect(pooled.stderr.contains("'--output pooled': this t5 encoder has no pooling head"), "\(pooled.stderr)")
        let vocabulary = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", "5 99999 1", "-o", dir + "/x.npy"])
        #expect(vocabulary.status == 1)
        #expect(vocabulary.stderr.contains("token id 99999 (sequence 0, position 1) is outside the vocabulary of 277"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "no output and no temporary file may be left")
        let layer = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--ids", "5 1", "--output", "layer:9", "-o", dir + "/x.npy"])
        #expect(layer.status == 1)
        #expect(layer.stderr.contains("'layer:9': the encoder has hidden states 0...3"), "\(layer.stderr)")
    }

    @Test(arguments: [
        (["--ids", "5 x 1", "-o", "/tmp/x.npy"], "The value '5 x 1' is invalid for '--ids <ids>'"),
        (["--ids", "5 1", "-o", "/tmp/x.txt"], "-o must end in .npy or .safetensors"),
        (["--ids", "5 1", "--output", "mean", "-o", "/tmp/x.npy"], "The value 'mean' is invalid for '--output <output>'. Please provide one of 'hidden', 'pooled', 'projected' or 'layer:N'"),
        (["-o", "/tmp/x.npy"], "give at least one --prompt, --prompt-file or --ids"),
        (["--ids", "5 1", "--pipeline", "dalle", "-o", "/tmp/x.npy"], "The value 'dalle' is invalid for '--pipeline <pipeline>'. Please provide one of 'generic', 'pixart-sigma', 'sd3', 'flux' or 'sdxl'"),
    ])
    func badUsageExits64(_ testCase: ([String], String)) throws {
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1")] + testCase.0)
        #expect(result.status == 64)
        #expect(result.stderr.contains(testCase.1), "\(result.stderr)")
    }

    /// A kernel override that names no kernel is reported, and the run goes on with the default
    /// (the same output as without the override).
    @Test func unknownKernelOverridesAreReported() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let args = ["run", TestPaths.fixture("t5-v1_1-bf16"), "--ids", "5 17 9 3 1", "--compute", "bf16"]
        var environment = ProcessInfo.processInfo.environment
        environment["SKRR_BF16_KERNEL"] = "tiles"
        environment["SKRR_HALF_KERNEL"] = "fast"
        let overridden = try runCommand(TestPaths.skrrcBinary, args + ["-o", dir + "/o.npy"], environment: environment)
        #expect(overridden.status == 0, "\(overridden.stderr)")
        #expect(overridden.stderr.contains("warning: SKRR_BF16_KERNEL=tiles names no kernel (amx, avx512, rounded); the default is used"))
        #expect(overridden.stderr.contains("warning: SKRR_HALF_KERNEL=fast names no kernel (packed, panels); the default is used"))
        let plain = try runSkrrc(args + ["-o", dir + "/p.npy"])
        #expect(plain.status == 0 && !plain.stderr.contains("warning"))
        #expect(try readNPY(dir + "/o.npy").values == (try readNPY(dir + "/p.npy").values))
    }

    /// A whole SD3 pipeline without --encoder: the joint conditioning under diffusers' names,
    /// equal to diffusers' encode_prompt (the short reference prompt is row 0 of the reference).
    @Test func jointPipelineRunWritesDiffusersConditioning() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let out = dir + "/joint.safetensors"
        let result = try runSkrrc(["run", TestPaths.fixture("sd3-full"), "--prompt", "a red cube on a glass table", "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("1 × 333 tokens, width 96 (sd3: text_encoder + text_encoder_2 + text_encoder_3)"))
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        for (name, count) in [("prompt_embeds", 333 * 96), ("pooled_prompt_embeds", 80)] {
            let offsets = (header[name] as! [String: Any])["data_offsets"] as! [Int]
            let body = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            let values = body.withUnsafeBytes { raw in (0..<(body.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
            let expected = Array(try referenceFloats("sd3-full", name).prefix(count))
            #expect(values.count == count && maxRelativeError(values, expected) <= 1e-4, "\(name)")
        }
        // Joint mode takes prompts, not one tokenizer's ids, and has no per-encoder outputs.
        let ids = try runSkrrc(["run", TestPaths.fixture("sd3-full"), "--ids", "812 5 813", "-o", dir + "/x.safetensors"])
        #expect(ids.status == 64 && ids.stderr.contains("--ids names one tokenizer's ids"), "\(ids.stderr)")
        let output = try runSkrrc(["run", TestPaths.fixture("flux-full"), "--prompt", "x", "--output", "pooled", "-o", dir + "/x.safetensors"])
        #expect(output.status == 64 && output.stderr.contains("applies to one encoder"), "\(output.stderr)")
        // One encoder of the same folder still runs alone.
        let single = try runSkrrc(["run", TestPaths.fixture("sd3-full"), "--encoder", "text_encoder_3", "--prompt", "x", "-o", dir + "/t5.npy"])
        #expect(single.status == 0, "\(single.stderr)")
    }

    /// The fixture's own single-prompt ids, read from its reference file.
    func singleIds(_ fixture: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(fixture + "/reference.safetensors")))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let offsets = (header["single_input_ids"] as! [String: Any])["data_offsets"] as! [Int]
        let body = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
        let ids = body.withUnsafeBytes { raw in (0..<(body.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
        return ids.map(String.init).joined(separator: " ")
    }
}

@Suite struct PromptFileTests {
    @Test func invalidUTF8PromptFileIsRefusedByName() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try Data([0x61, 0x20, 0xC3, 0x28, 0x0A]).write(to: URL(fileURLWithPath: dir + "/p.txt"))
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--prompt-file", dir + "/p.txt", "-o", dir + "/e.npy"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(dir + "/p.txt: not valid UTF-8 text"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/e.npy"))
    }

    @Test func promptFileLinesFormABatch() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        try "a red cube\n\nthree cats on a sofa\n".write(toFile: dir + "/p.txt", atomically: true, encoding: .utf8)
        let result = try runSkrrc(["run", TestPaths.fixture("t5-v1_1"), "--prompt-file", dir + "/p.txt", "-o", dir + "/e.npy"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("wrote \(dir)/e.npy: 2 ×"), "\(result.stderr)")
    }
}

/// Whether this machine's CPU has what `--compute bf16` needs: the AVX-512 BF16 instructions, or
/// AVX2 and FMA (activations rounded to bf16, then the half-weight GEMM).
func skrrcSupportsBF16Compute() -> Bool {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    let flags = Set((info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? "").split(separator: " "))
    return flags.contains("avx512_bf16") || (flags.contains("avx2") && flags.contains("fma"))
}
