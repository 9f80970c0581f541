// skrr-bench: the skrrc side of the encoder-throughput benchmark (BENCHMARKS.md, issue 3;
// bench/README.md). Prints one JSON line on stdout, like bench/torch_encode.py.
//
//   skrr-bench steady MODEL IDS [--iters 10] [--warmup 2]
//       load once, `--warmup` untimed and `--iters` timed forward passes; per-iteration seconds,
//       their median, the median process CPU time per pass (all threads), the encoder's GEMM
//       FLOPs, the GFLOP/s achieved and an f32 sgemm 2048³ peak measured in this process on
//       OpenBLAS's threads.
//   skrr-bench cold MODEL IDS [--dump FILE]
//       the cold start: import (config, safetensors header), lower, map the weights, load
//       OpenBLAS, encode the ids once, exit. `--dump` writes the last hidden state as raw
//       little-endian f32 `[batch, length, width]` (bench/check_parity.py reads it).
//   skrr-bench peak [--size 2048] [--reps 3]
//       sgemm size³ GFLOP/s on OpenBLAS's threads and on one thread.
//   skrr-bench gemm [--m LIST] [--shapes OUTxIN,...] [--threads LIST] [--reps 5] [--kernel packed|panels]
//       exact products with bf16-stored weights vs sgemm on the same matrices in f32, and the
//       previous whole-matrix widening (GEMMBench.swift).
//
// MODEL is a Hugging Face model directory (bench/make_bench_model.py writes one); IDS holds one
// sequence per line, ids separated by spaces. No tokenizer is involved.

#if canImport(Glibc)
import Glibc
#endif
import CBLAS
import SkrrLowering
import SkrrFrontend
import SkrrIR
import SkrrRuntime
import SkrrSupport

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func cpuTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

func fail(_ message: String) -> Never {
    let text = message + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

/// A JSON value, written by hand (keys in the order given).
enum JSON {
    case number(Double), int(Int), string(String), array([JSON])

    var text: String {
        switch self {
        case let .number(v): return v.isFinite ? "\(v)" : "null"
        case let .int(v): return "\(v)"
        case let .string(s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        case let .array(items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
        }
    }
}

func printJSON(_ fields: [(String, JSON)]) {
    print("{" + fields.map { "\(JSON.string($0.0).text): \($0.1.text)" }.joined(separator: ", ") + "}")
}

struct Arguments {
    var positional: [String] = []
    var options: [String: String] = [:]

    init(_ args: ArraySlice<String>, known: Set<String>) {
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            if arg.hasPrefix("--") {
                guard known.contains(arg) else { fail("skrr-bench: unknown option \(arg)") }
                guard i + 1 < args.endIndex else { fail("skrr-bench: \(arg) needs a value") }
                options[arg] = args[i + 1]
                i += 2
            } else {
                positional.append(arg)
                i += 1
            }
        }
    }

    func int(_ name: String, default value: Int) -> Int {
        guard let text = options[name] else { return value }
        guard let parsed = Int(text), parsed >= 0 else { fail("skrr-bench: \(name) expects a non-negative integer, got \(text)") }
        return parsed
    }
}

func readIds(_ path: String) throws -> [[Int32]] {
    let text = String(decoding: try readWholeFile(path), as: UTF8.self)
    return try text.split(separator: "\n").compactMap { line -> [Int32]? in
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        if fields.isEmpty { return nil }
        return try fields.map {
            guard let id = Int32($0) else { throw SkrrError(key: path, "not a token id: \($0)") }
            return id
        }
    }
}

/// 2·m·n·k over every matrix product of one forward pass: the attention projections, QKᵀ and
/// softmax·V per sequence and head, the FFN's matrices (and a pooling/projection head, if any).
func gemmFlops(_ program: EncoderProgram, batch: Int, length: Int) -> Double {
    let rows = Double(batch * length), l = Double(length)
    func linear(_ layer: LinearWeights, rows: Double) -> Double {
        let shape = program.tensors[layer.weight].shape
        return 2 * rows * Double(shape[0]) * Double(shape[1])
    }
    var flops = 0.0
    for slot in program.slots {
        switch slot {
        case .skip: break
        case let .attention(w, _):
            flops += linear(w.q, rows: rows) + linear(w.k, rows: rows) + linear(w.v, rows: rows) + linear(w.o, rows: rows)
            let heads = Double(program.spec.numHeads), hd = Double(program.spec.headDim)
            flops += 2 * (2 * l * l * hd) * heads * Double(batch)
        case let .ffn(w, _):
            flops += linear(w.wi, rows: rows) + linear(w.wo, rows: rows)
            if let gate = w.wiGate { flops += linear(gate, rows: rows) }
        }
    }
    return flops
}

/// GFLOP/s of an f32 sgemm size³ (C = A·Bᵀ), best of `reps` after one untimed call.
func sgemmPeak(size: Int, reps: Int) -> Double {
    let n = size
    var a = [Float](repeating: 0, count: n * n), b = [Float](repeating: 0, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    for i in 0..<(n * n) {
        a[i] = Float((i * 7919) % 1000) * 1e-3 - 0.5
        b[i] = Float((i * 104_729) % 1000) * 1e-3 - 0.5
    }
    var best = Double.infinity
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        for rep in 0...max(reps, 1) {
            let start = now()
            _ = skrr_sgemm(101, 111, 112, Int32(n), Int32(n), Int32(n), 1, ap.baseAddress, Int32(n), bp.baseAddress,
                           Int32(n), 0, cp.baseAddress, Int32(n))
            let elapsed = now() - start
            if rep > 0 { best = min(best, elapsed) }
        }
    } } }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
}

struct Loaded {
    var program: EncoderProgram
    var interpreter: Interpreter
    var stages: [(String, JSON)]
}

func load(_ model: String) throws -> Loaded {
    let t0 = now()
    let imported = try ModelImporter.importModel(at: model)
    let t1 = now()
    let program = try Lowering.lower(imported.ir)
    let t2 = now()
    let weights = try SourceWeights(model: imported.ir)
    let t3 = now()
    let interpreter = try Interpreter(program: program, weights: weights)  // loads OpenBLAS
    let t4 = now()
    return Loaded(program: program, interpreter: interpreter,
                  stages: [("import_s", .number(t1 - t0)), ("lower_s", .number(t2 - t1)), ("map_s", .number(t3 - t2)),
                           ("blas_load_s", .number(t4 - t3))])
}

func steady(_ args: Arguments) throws {
    guard args.positional.count == 2 else { fail("usage: skrr-bench steady MODEL IDS [--iters N] [--warmup N] [--compute f32|bf16]") }
    let (model, idsPath) = (args.positional[0], args.positional[1])
    let iters = max(1, args.int("--iters", default: 10)), warmup = args.int("--warmup", default: 2)
    let loaded = try load(model)
    let compute = args.options["--compute"] ?? "f32"
    guard let precision = ComputePrecision(rawValue: compute) else { fail("skrr-bench: --compute expects f32 or bf16, got \(compute)") }
    if precision == .bf16 && !Interpreter.bf16ComputeSupported { fail("skrr-bench: this CPU has neither AVX-512 BF16 nor AVX2+FMA") }
    loaded.interpreter.compute = precision
    let ids = try readIds(idsPath)
    let batch = TokenBatch(ids: ids)
    let threads = Int(skrr_blas_get_threads())
    let peak = sgemmPeak(size: 2048, reps: 3)
    for _ in 0..<warmup { _ = try loaded.interpreter.run(batch) }
    var times: [Double] = [], cpu: [Double] = []
    for _ in 0..<iters {
        let start = now(), cpuStart = cpuTime()
        _ = try loaded.interpreter.run(batch)
        times.append(now() - start)
        cpu.append(cpuTime() - cpuStart)
    }
    let flops = gemmFlops(loaded.program, batch: ids.count, length: batch.length)
    let med = median(times)
    printJSON([
        ("mode", .string("steady")), ("model", .string(model)), ("ids", .array([.int(ids.count), .int(batch.length)])),
        ("dtype", .string(loaded.program.tensors[loaded.program.embeddings.token].dtype.rawValue)), ("compute", .string(compute)),
        ("threads", .int(threads)), ("blas_core", .string(BLAS.coreName)),
        ("iters", .array(times.map { .number($0) })), ("median_s", .number(med)), ("median_cpu_s", .number(median(cpu))),
        ("gflop_per_pass", .number(flops / 1e9)), ("achieved_gflops", .number(flops / med / 1e9)),
        ("sgemm_peak_gflops", .number(peak)),
    ])
}

func cold(_ args: Arguments) throws {
    guard args.positional.count == 2 else { fail("usage: skrr-bench cold MODEL IDS [--dump FILE]") }
    let start = now()
    let (model, idsPath) = (args.positional[0], args.positional[1])
    let loaded = try load(model)
    let ids = try readIds(idsPath)
    let t0 = now()
    let output = try loaded.interpreter.run(TokenBatch(ids: ids))
    let encode = now() - t0
    if let dump = args.options["--dump"] {
        guard let file = fopen(dump, "wb") else { throw SkrrError(key: dump, "cannot open for writing") }
        let written = output.hidden.withUnsafeBufferPointer { fwrite($0.baseAddress, 4, $0.count, file) }
        fclose(file)
        guard written == output.hidden.count else { throw SkrrError(key: dump, "short write") }
    }
    printJSON([("mode", .string("cold")), ("model", .string(model)),
               ("ids", .array([.int(output.batch), .int(output.length)])), ("width", .int(output.width))]
              + loaded.stages + [("encode_s", .number(encode)), ("total_s", .number(now() - start)),
                                 ("threads", .int(Int(skrr_blas_get_threads()))), ("blas_core", .string(BLAS.coreName))])
}

func peak(_ args: Arguments) throws {
    guard args.positional.isEmpty else { fail("usage: skrr-bench peak [--size N] [--reps N]") }
    try BLAS.ensureLoaded()
    let size = max(1, args.int("--size", default: 2048)), reps = max(1, args.int("--reps", default: 3))
    let threads = Int(skrr_blas_get_threads())
    let multi = sgemmPeak(size: size, reps: reps)
    BLAS.setThreads(1)
    let single = sgemmPeak(size: size, reps: reps)
    BLAS.setThreads(threads)
    printJSON([("mode", .string("peak")), ("size", .int(size)), ("threads", .int(threads)),
               ("blas_core", .string(BLAS.coreName)), ("sgemm_gflops", .number(multi)),
               ("sgemm_1thread_gflops", .number(single))])
}

let argv = CommandLine.arguments
guard argv.count >= 2 else { fail("usage: skrr-bench steady|cold|peak|gemm ... (see bench/README.md)") }
do {
    switch argv[1] {
    case "steady": try steady(Arguments(argv.dropFirst(2), known: ["--iters", "--warmup", "--compute"]))
    case "cold": try cold(Arguments(argv.dropFirst(2), known: ["--dump"]))
    case "peak": try peak(Arguments(argv.dropFirst(2), known: ["--size", "--reps"]))
    case "gemm":
        try gemmBench(Arguments(argv.dropFirst(2), known: ["--m", "--shapes", "--threads", "--reps", "--kernel", "--before"]))
    default: fail("skrr-bench: unknown mode \(argv[1]) (steady, cold, peak or gemm)")
    }
} catch {
    fail("skrr-bench: \(error)")
}
