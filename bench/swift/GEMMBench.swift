// skrr-bench gemm: the time of an exact product with bf16-stored weights against OpenBLAS's
// sgemm on the same matrices stored in f32, measured in the same process, interleaved
// repetition by repetition (issue 10; BENCHMARKS.md). Both sides go through the interpreter's
// own code (`MatrixProduct`, which splits a product over threads exactly as a linear layer
// does), so "f32" is today's path for f32-stored weights and "bf16" the path for bf16 weights.
// "before" is the previous bf16 path: the whole matrix widened to f32 (split over the threads,
// into a buffer kept between calls), then the f32 product.
//
//   skrr-bench gemm [--m 58,128,512,2048,8192] [--shapes 4096x4096,10240x4096,4096x10240]
//                   [--threads 1,N] [--reps 5] [--kernel packed|panels] [--before 1|0]
//
// Shapes are OUTxIN (W is [out, in]; K = IN, N = OUT). One JSON line per case on stdout (median
// wall and process-CPU seconds of each side, and the medians of the per-repetition ratios); a
// markdown table of the wall ratios on stderr at the end.

#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import SkrrRuntime

struct GEMMCase {
    var rows, outWidth, inWidth, threads: Int
}

/// Deterministic values in [-1, 1).
func noise(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 1_000_000) / 1_000_000
    }
}

/// The previous bf16 path's first step: the whole matrix widened into `target`, split over the
/// threads as `Interpreter.stagedMatrix` did (16 values at a time, bf16 being an f32's top half).
func widenWhole(_ bits: [UInt16], into target: UnsafeMutablePointer<Float>, threads: Int) {
    let count = bits.count, pieces = max(1, min(threads, count >> 16))
    bits.withUnsafeBufferPointer { source in
        let base = UncheckedSendable(source.baseAddress!), out = UncheckedSendable(target)
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            var i = count * piece / pieces
            let end = count * (piece + 1) / pieces
            while i + 16 <= end {
                let wide = SIMD16<UInt32>(truncatingIfNeeded: UnsafeRawPointer(base.value + i).loadUnaligned(as: SIMD16<UInt16>.self)) &<< 16
                UnsafeMutableRawPointer(out.value + i).storeBytes(of: wide, as: SIMD16<UInt32>.self)
                i += 16
            }
            while i < end { out.value[i] = Float(bitPattern: UInt32(base.value[i]) << 16); i += 1 }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable { let value: T; init(_ value: T) { self.value = value } }

func gemmBench(_ args: Arguments) throws {
    guard args.positional.isEmpty else {
        fail("usage: skrr-bench gemm [--m LIST] [--shapes OUTxIN,...] [--threads LIST] [--reps N] [--kernel packed|panels] [--before 1|0]")
    }
    try BLAS.ensureLoaded()
    func list(_ name: String, _ fallback: String) -> [String] {
        (args.options[name] ?? fallback).split(separator: ",").map(String.init)
    }
    func integers(_ name: String, _ fallback: String) -> [Int] {
        list(name, fallback).map { text in
            guard let value = Int(text), value > 0 else { fail("skrr-bench: \(name) expects positive integers, got \(text)") }
            return value
        }
    }
    let rowsList = integers("--m", "58,128,512,2048,8192")
    let shapes = list("--shapes", "4096x4096,10240x4096,4096x10240").map { text -> (Int, Int) in
        let parts = text.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { fail("skrr-bench: --shapes expects OUTxIN, got \(text)") }
        return (parts[0], parts[1])
    }
    let defaultThreads = Interpreter.defaultThreads
    let threadsList = integers("--threads", defaultThreads > 1 ? "1,\(defaultThreads)" : "1")
    let reps = max(1, args.int("--reps", default: 5)), withBefore = args.int("--before", default: 1) != 0
    var kernel = HalfWeightKernel.preferred
    if let name = args.options["--kernel"] {
        guard let chosen = HalfWeightKernel(rawValue: name) else { fail("skrr-bench: --kernel expects packed or panels") }
        kernel = chosen
    }

    var table: [String] = []
    for threads in threadsList {
        let product = try MatrixProduct(threads: threads)
        product.halfWeightKernel = kernel
        for (outWidth, inWidth) in shapes {
            let wide = noise(outWidth * inWidth, seed: UInt64(outWidth * 31 + inWidth))
            let bits = wide.map { UInt16($0.bitPattern >> 16) }
            let f32 = bits.map { Float(bitPattern: UInt32($0) << 16) }
            let widened = UnsafeMutablePointer<Float>.allocate(capacity: outWidth * inWidth)
            defer { widened.deallocate() }
            var row: [String] = []
            for rows in rowsList {
                let x = noise(rows * inWidth, seed: UInt64(rows))
                let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * outWidth)
                out.initialize(repeating: 0, count: rows * outWidth)
                defer { out.deallocate() }
                var times: [String: [Double]] = [:], cpu: [String: [Double]] = [:], ratios: [String: [Double]] = [:]
                try x.withUnsafeBufferPointer { xp in
                    try f32.withUnsafeBytes { wf in try bits.withUnsafeBytes { wb in
                        var sides: [(String, () throws -> Void)] = [
                            ("f32", { try product.multiply(xp.baseAddress!, rows: rows, weight: wf, dtype: .f32, outWidth: outWidth,
                                                           inWidth: inWidth, into: out) }),
                            ("bf16", { try product.multiply(xp.baseAddress!, rows: rows, weight: wb, dtype: .bf16, outWidth: outWidth,
                                                            inWidth: inWidth, into: out) }),
                        ]
                        if withBefore {
                            sides.append(("before", {
                                widenWhole(bits, into: widened, threads: threads)
                                try product.multiply(xp.baseAddress!, rows: rows,
                                                     weight: UnsafeRawBufferPointer(start: widened, count: outWidth * inWidth * 4),
                                                     dtype: .f32, outWidth: outWidth, inWidth: inWidth, into: out)
                            }))
                        }
                        for rep in 0...reps {  // repetition 0 warms up (page faults, scratch)
                            var wall: [String: Double] = [:]
                            for (name, body) in sides {
                                let start = now(), cpuStart = cpuTime()
                                try body()
                                if rep > 0 {
                                    wall[name] = now() - start
                                    times[name, default: []].append(wall[name]!)
                                    cpu[name, default: []].append(cpuTime() - cpuStart)
                                }
                            }
                            if rep > 0 { for (name, _) in sides where name != "f32" { ratios[name, default: []].append(wall[name]! / wall["f32"]!) } }
                        }
                    } }
                }
                let flops = 2 * Double(rows) * Double(outWidth) * Double(inWidth)
                var fields: [(String, JSON)] = [
                    ("mode", .string("gemm")), ("m", .int(rows)), ("n", .int(outWidth)), ("k", .int(inWidth)),
                    ("threads", .int(threads)), ("kernel", .string(kernel.rawValue)), ("blas_core", .string(BLAS.coreName)),
                    ("reps", .int(reps)), ("f32_gflops", .number(flops / median(times["f32"]!) / 1e9)),
                ]
                for name in ["f32", "bf16", "before"] where times[name] != nil {
                    fields += [("\(name)_s", .number(median(times[name]!))), ("\(name)_cpu_s", .number(median(cpu[name]!)))]
                }
                for name in ["bf16", "before"] where ratios[name] != nil {
                    fields.append(("\(name)_ratio", .number(median(ratios[name]!))))
                    fields.append(("\(name)_cpu_ratio", .number(median(cpu[name]!) / median(cpu["f32"]!))))
                }
                fields.append(("load", .string(loadAverage())))
                printJSON(fields)
                fflush(nil)
                let after = fixed2(median(ratios["bf16"]!))
                row.append(withBefore ? "\(after) (\(fixed2(median(ratios["before"]!))))" : after)
            }
            table.append("| \(threads) | \(inWidth) | \(outWidth) | " + row.joined(separator: " | ") + " |")
        }
    }
    var text = "\nbf16 time / f32 sgemm time, median of \(reps) (before: whole-matrix widening), kernel \(kernel.rawValue), core \(BLAS.coreName)\n"
    text += "| threads | K | N | " + rowsList.map { "M=\($0)" }.joined(separator: " | ") + " |\n"
    text += "|---|---|---|" + rowsList.map { _ in "---:|" }.joined() + "\n" + table.joined(separator: "\n") + "\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

func loadAverage() -> String {
    guard let file = fopen("/proc/loadavg", "r") else { return "?" }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 64)
    guard fgets(&buffer, 64, file) != nil else { return "?" }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        .split(separator: " ").prefix(3).joined(separator: " ")
}

/// `value` with two decimals (no Foundation here).
func fixed2(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
