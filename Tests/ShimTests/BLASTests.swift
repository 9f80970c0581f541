import CBLAS
import Foundation
import SkrrTestSupport
import Testing

// OpenBLAS is process-global: it is loaded once (pthread_once) with whatever
// coretype was chosen first, so every test below simply calls `loadBLAS()`.
// Tests that need a different environment at load time run a child process.

private func loadBLAS() throws {
    var err = [CChar](repeating: 0, count: 512)
    let rc = skrr_blas_load(&err, err.count)
    try #require(rc == 0, "skrr_blas_load failed: \(cString(err))")
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

private func string(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

/// Flags of the first CPU in /proc/cpuinfo, or nil when unavailable.
private func cpuinfoFlags() -> Set<String>? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("flags") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
    return nil
}

/// The SKRR_CPU_* bits implied by /proc/cpuinfo (note the kernel spells bf16 "avx512_bf16").
private func cpuBits(_ flags: Set<String>) -> UInt32 {
    var bits: UInt32 = 0
    if flags.contains("avx2") { bits |= SKRR_CPU_AVX2 }
    if flags.contains("avx512f") { bits |= SKRR_CPU_AVX512F }
    if flags.contains("avx512bw") { bits |= SKRR_CPU_AVX512BW }
    if flags.contains("avx512vl") { bits |= SKRR_CPU_AVX512VL }
    if flags.contains("avx512_bf16") { bits |= SKRR_CPU_AVX512BF16 }
    return bits
}

/// A small deterministic generator (tests must not depend on the run).
private struct LCG {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1  // [-1, 1]
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// Round to bfloat16 (nearest, ties to even), as raw bits.
private func bf16Bits(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
}

private func bf16Value(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// A GEMM case: C[m,n] = alpha * op(A) op(B) + beta * C, with padded leading dimensions.
struct GemmCase: CustomTestStringConvertible, Sendable {
    var colMajor = false
    var transA = false
    var transB = false
    var m: Int, n: Int, k: Int
    var pad = 0  // extra elements per leading dimension
    var alpha: Float = 1
    var beta: Float = 0

    var testDescription: String {
        "\(colMajor ? "col" : "row") \(transA ? "Aᵀ" : "A")·\(transB ? "Bᵀ" : "B") \(m)x\(k)·\(k)x\(n) pad=\(pad) α=\(alpha) β=\(beta)"
    }

    // Stored shapes (rows x cols) of A, B and C in their own storage order.
    var aDims: (Int, Int) { transA ? (k, m) : (m, k) }
    var bDims: (Int, Int) { transB ? (n, k) : (k, n) }
    func ld(_ dims: (Int, Int)) -> Int { (colMajor ? dims.0 : dims.1) + pad }
    func count(_ dims: (Int, Int)) -> Int { ld(dims) * (colMajor ? dims.1 : dims.0) }
    func at(_ i: Int, _ j: Int, _ ld: Int) -> Int { colMajor ? j * ld + i : i * ld + j }

    /// The reference: a plain triple loop in Double.
    func naive<T>(_ a: [T], _ b: [T], _ c: inout [Float], _ value: (T) -> Float) {
        let lda = ld(aDims), ldb = ld(bDims), ldc = ld((m, n))
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let av = value(transA ? a[at(p, i, lda)] : a[at(i, p, lda)])
                    let bv = value(transB ? b[at(j, p, ldb)] : b[at(p, j, ldb)])
                    sum += Double(av) * Double(bv)
                }
                let idx = at(i, j, ldc)
                c[idx] = Float(Double(alpha) * sum + Double(beta) * Double(c[idx]))
            }
        }
    }

    var order: Int32 { colMajor ? SKRR_BLAS_COL_MAJOR : SKRR_BLAS_ROW_MAJOR }
    var ta: Int32 { transA ? SKRR_BLAS_TRANS : SKRR_BLAS_NO_TRANS }
    var tb: Int32 { transB ? SKRR_BLAS_TRANS : SKRR_BLAS_NO_TRANS }
}

private let gemmCases: [GemmCase] = [
    GemmCase(m: 7, n: 3, k: 5),
    GemmCase(transB: true, m: 7, n: 3, k: 5),  // weights stored [out, in]
    GemmCase(transA: true, m: 7, n: 3, k: 5),
    GemmCase(transA: true, transB: true, m: 5, n: 9, k: 3, pad: 2),
    GemmCase(transB: true, m: 13, n: 11, k: 17, pad: 3, alpha: 0.5, beta: -2),
    GemmCase(colMajor: true, m: 7, n: 3, k: 5),
    GemmCase(colMajor: true, transB: true, m: 6, n: 4, k: 9, pad: 1, alpha: 2, beta: 1),
    GemmCase(m: 1, n: 1, k: 1),
    GemmCase(transB: true, m: 33, n: 65, k: 31),  // crosses kernel block edges
]

@Suite("OpenBLAS via dlopen")
struct BLASTests {
    @Test func loadSucceedsAndIsIdempotent() async throws {
        // Concurrent callers all see the one load.
        let results = await withTaskGroup(of: Int32.self) { group in
            for _ in 0..<8 { group.addTask { skrr_blas_load(nil, 0) } }
            var all: [Int32] = []
            for await rc in group { all.append(rc) }
            return all
        }
        #expect(results == [Int32](repeating: 0, count: 8))
        try loadBLAS()
        #expect(skrr_blas_is_loaded() == 1)
        #expect(string(skrr_blas_config())?.hasPrefix("OpenBLAS") == true)
        #expect(string(skrr_blas_library_path())?.contains("openblas") == true)
        #expect(skrr_blas_get_threads() >= 1)
    }

    @Test func cpuFlagsMatchProcCpuinfo() throws {
        let flags = try #require(cpuinfoFlags(), "no /proc/cpuinfo flags")
        #expect(skrr_blas_cpu_flags() == cpuBits(flags))
    }

    /// The kernel set in use is the one the CPU flags call for — never the
    /// SSE3 "Prescott" fallback on a CPU that has AVX2 or AVX-512.
    @Test func coreNameIsNotTheSlowFallback() throws {
        try loadBLAS()
        let flags = try #require(cpuinfoFlags(), "no /proc/cpuinfo flags")
        let core = try #require(string(skrr_blas_corename()))
        let source = skrr_blas_coretype_source()
        let bits = cpuBits(flags)
        let avx512: UInt32 = SKRR_CPU_AVX512F | SKRR_CPU_AVX512BW | SKRR_CPU_AVX512VL
        if source == SKRR_CORETYPE_CHOSEN {
            // What we set must be what OpenBLAS uses, and what the flags imply.
            let path = try #require(string(skrr_blas_library_path()))
            var libCores = skrr_blas_scan_library_cores(path)
            if libCores == 0 { libCores = SKRR_LIB_ASSUMED }
            let expected = try #require(string(skrr_blas_choose_coretype(nil, bits, libCores)))
            #expect(string(skrr_blas_coretype_env()) == expected)
            #expect(core == expected)
        }
        if source == SKRR_CORETYPE_CHOSEN || source == SKRR_CORETYPE_UNSET {
            if bits & avx512 == avx512 {
                #expect(["Cooperlake", "SkylakeX", "SapphireRapids"].contains(core), "corename \(core)")
            } else if bits & SKRR_CPU_AVX2 != 0 {
                #expect(["Haswell", "Zen", "SkylakeX", "Cooperlake"].contains(core), "corename \(core)")
            }
        }
        #expect(!(bits & SKRR_CPU_AVX2 != 0 && source != SKRR_CORETYPE_FROM_USER && core == "Prescott"))
    }

    @Test("sgemm matches a naive loop", arguments: gemmCases)
    func sgemmMatchesNaive(_ g: GemmCase) throws {
        try loadBLAS()
        var rng = LCG(state: UInt64(g.m * 1000 + g.n * 10 + g.k))
        let a = rng.array(g.count(g.aDims)), b = rng.array(g.count(g.bDims))
        var c = rng.array(g.count((g.m, g.n)))
        var expected = c
        g.naive(a, b, &expected) { $0 }
        let rc = skrr_sgemm(
            g.order, g.ta, g.tb, Int32(g.m), Int32(g.n), Int32(g.k), g.alpha, a, Int32(g.ld(g.aDims)),
            b, Int32(g.ld(g.bDims)), g.beta, &c, Int32(g.ld((g.m, g.n))))
        #expect(rc == 0)
        for i in 0..<c.count {
            #expect(abs(c[i] - expected[i]) <= 1e-5 * max(1, abs(expected[i])), "C[\(i)]: \(c[i]) vs \(expected[i])")
        }
    }

    @Test("sbgemm matches a naive loop over the same bf16 inputs", arguments: gemmCases.prefix(5))
    func sbgemmMatchesNaive(_ g: GemmCase) throws {
        try loadBLAS()
        var rng = LCG(state: UInt64(g.m * 7 + g.n * 3 + g.k))
        let a = rng.array(g.count(g.aDims)).map(bf16Bits), b = rng.array(g.count(g.bDims)).map(bf16Bits)
        var c = rng.array(g.count((g.m, g.n)))
        let before = c
        let rc = skrr_sbgemm(
            g.order, g.ta, g.tb, Int32(g.m), Int32(g.n), Int32(g.k), g.alpha, a, Int32(g.ld(g.aDims)),
            b, Int32(g.ld(g.bDims)), g.beta, &c, Int32(g.ld((g.m, g.n))))
        guard skrr_blas_has_sbgemm() == 1 else {
            // Unavailable (e.g. Debian's 0.3.21 is built without BUILD_BFLOAT16):
            // reported, and C left alone.
            #expect(rc == -1)
            #expect(c == before)
            return
        }
        #expect(rc == 0)
        var expected = before
        g.naive(a, b, &expected, bf16Value)
        for i in 0..<c.count {
            #expect(abs(c[i] - expected[i]) <= 1e-4 * max(1, abs(expected[i])), "C[\(i)]: \(c[i]) vs \(expected[i])")
        }
    }

    @Test func setThreads() throws {
        try loadBLAS()
        let before = skrr_blas_get_threads()
        #expect(skrr_blas_set_threads(1) == 0)
        #expect(skrr_blas_get_threads() == 1)
        #expect(skrr_blas_set_threads(before) == 0)
    }

    /// The test binary must not have OpenBLAS as a link-time dependency:
    /// no DT_NEEDED entry and no undefined OpenBLAS/CBLAS symbol.
    @Test func openBLASIsNotLinked() throws {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        // binutils comes with every Swift toolchain install: a missing readelf is a broken
        // machine, not a reason to pass.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/readelf"),
                     "/usr/bin/readelf is missing (install binutils)")
        let dyn = try runCommand("/usr/bin/readelf", ["-d", "-W", exe])
        try #require(dyn.status == 0, "readelf -d failed: \(dyn.stderr)")
        let needed = dyn.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
        #expect(!needed.isEmpty, "readelf found no NEEDED entries at all")
        #expect(!needed.contains { $0.contains("openblas") || $0.contains("libblas") || $0.contains("libcblas") },
                "\(needed)")
        let syms = try runCommand("/usr/bin/readelf", ["--dyn-syms", "-W", exe])
        try #require(syms.status == 0)
        let undefined = syms.stdout.split(separator: "\n").filter {
            $0.contains(" UND ") && ($0.contains("cblas_") || $0.contains("openblas_"))
        }
        #expect(undefined.isEmpty, "\(undefined)")
    }
}

@Suite("OPENBLAS_CORETYPE selection (pure)")
struct CoretypeChoiceTests {
    let all: UInt32 = SKRR_LIB_HASWELL | SKRR_LIB_SKYLAKEX | SKRR_LIB_COOPERLAKE
    let zen4: UInt32 = SKRR_CPU_AVX2 | SKRR_CPU_AVX512F | SKRR_CPU_AVX512BW | SKRR_CPU_AVX512VL | SKRR_CPU_AVX512BF16

    func choose(_ user: String?, _ cpu: UInt32, _ lib: UInt32) -> String? {
        if let user { return user.withCString { string(skrr_blas_choose_coretype($0, cpu, lib)) } }
        return string(skrr_blas_choose_coretype(nil, cpu, lib))
    }

    @Test func userValueAlwaysWins() {
        #expect(choose("Haswell", zen4, all) == "Haswell")
        #expect(choose("Prescott", zen4, all) == "Prescott")
        #expect(choose("anything", 0, 0) == "anything")
    }

    @Test func emptyUserValueCountsAsUnset() {
        #expect(choose("", zen4, all) == "Cooperlake")
    }

    @Test func cpuFlagsPickTheKernel() {
        #expect(choose(nil, zen4, all) == "Cooperlake")
        let skx = zen4 & ~SKRR_CPU_AVX512BF16
        #expect(choose(nil, skx, all) == "SkylakeX")
        #expect(choose(nil, SKRR_CPU_AVX2, all) == "Haswell")
        #expect(choose(nil, 0, all) == nil)
        // AVX-512F without BW/VL (Knights Landing) is not SkylakeX material.
        #expect(choose(nil, SKRR_CPU_AVX2 | SKRR_CPU_AVX512F, all) == "Haswell")
    }

    @Test func onlyNamesTheLibraryKnows() {
        #expect(choose(nil, zen4, SKRR_LIB_ASSUMED) == "SkylakeX")
        #expect(choose(nil, zen4, SKRR_LIB_HASWELL) == "Haswell")
        #expect(choose(nil, zen4, 0) == nil)
        #expect(choose(nil, SKRR_CPU_AVX2, SKRR_LIB_SKYLAKEX | SKRR_LIB_COOPERLAKE) == nil)
    }

    @Test func scanFindsTheCoreNameTable() throws {
        try loadBLAS()
        let path = try #require(string(skrr_blas_library_path()))
        let cores = skrr_blas_scan_library_cores(path)
        // Every DYNAMIC_ARCH x86-64 build since 0.3.0 knows these two.
        if cpuinfoFlags() != nil && string(skrr_blas_config())?.contains("DYNAMIC_ARCH") == true {
            #expect(cores & SKRR_LIB_HASWELL != 0)
            #expect(cores & SKRR_LIB_SKYLAKEX != 0)
        }
        #expect(skrr_blas_scan_library_cores("/nonexistent/libopenblas.so.0") == 0)
    }
}

/// OPENBLAS_CORETYPE only matters before the library loads, and this process
/// loaded it long ago; so these tests re-run this test binary as a child with
/// a chosen environment, where `childEntry` does the checking.
@Suite("OpenBLAS load in a child process")
struct BLASChildProcessTests {
    static let modeVariable = "SKRR_SHIM_BLAS_CHILD"

    /// Runs only in a child (the variable set): checks the mode's expectations and
    /// prints a marker the parent looks for. In the parent it is reported as skipped.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[BLASChildProcessTests.modeVariable] != nil, "runs only as the child of the tests below"))
    func childEntry() throws {
        let mode = try #require(ProcessInfo.processInfo.environment[Self.modeVariable])
        var err = [CChar](repeating: 0, count: 512)
        let rc = skrr_blas_load(&err, err.count)
        switch mode {
        case "user-coretype":
            try #require(rc == 0, "\(cString(err))")
            let user = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
            #expect(skrr_blas_coretype_source() == SKRR_CORETYPE_FROM_USER)
            #expect(string(skrr_blas_coretype_env()) == user)
            #expect(string(skrr_blas_corename()) == user)
            // The user's value was not overwritten.
            #expect(String(cString: getenv("OPENBLAS_CORETYPE")) == user)
            print("SKRR_CHILD_OK core=\(string(skrr_blas_corename()) ?? "?")")
        case "load-failure":
            #expect(rc == -1)
            let message = cString(err)
            #expect(message.contains("cannot load OpenBLAS"))
            #expect(message.contains("/nonexistent/libopenblas.so.0"))
            // Every wrapper refuses politely instead of crashing.
            #expect(skrr_blas_is_loaded() == 0)
            var c: [Float] = [7]
            #expect(skrr_sgemm(SKRR_BLAS_ROW_MAJOR, SKRR_BLAS_NO_TRANS, SKRR_BLAS_NO_TRANS, 1, 1, 1, 1, [1], 1, [1], 1, 0, &c, 1) == -1)
            #expect(c == [7])
            #expect(skrr_blas_has_sbgemm() == 0)
            #expect(skrr_blas_set_threads(1) == -1)
            #expect(skrr_blas_get_threads() == -1)
            #expect(skrr_blas_corename() == nil && skrr_blas_config() == nil && skrr_blas_library_path() == nil)
            // Idempotent: the same failure again, not a second attempt.
            var again = [CChar](repeating: 0, count: 512)
            #expect(skrr_blas_load(&again, again.count) == -1)
            #expect(cString(again) == message)
            print("SKRR_CHILD_OK failure=\(message)")
        default:
            Issue.record("unknown child mode \(mode)")
        }
    }

    private func runChild(_ mode: String, _ extra: [String: String]) throws -> CommandResult {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var env = ProcessInfo.processInfo.environment
        env[Self.modeVariable] = mode
        for (k, v) in extra { env[k] = v }
        return try runCommand(
            exe, ["--testing-library", "swift-testing", "--filter", "ShimTests.BLASChildProcessTests/childEntry"],
            environment: env)
    }

    /// Haswell is in every x86-64 DYNAMIC_ARCH build and differs from what we would pick on
    /// AVX-512; its kernels need AVX2.
    @Test(.enabled(if: skrr_blas_cpu_flags() & SKRR_CPU_AVX2 != 0, "this CPU has no AVX2, so it cannot run the Haswell kernels"))
    func userCoretypeIsRespected() throws {
        let r = try runChild("user-coretype", ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(r.status == 0, "child failed:\n\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("SKRR_CHILD_OK core=Haswell"), "child output:\n\(r.stdout)\n\(r.stderr)")
    }

    @Test func loadFailureIsReportedNotFatal() throws {
        let r = try runChild("load-failure", ["SKRR_OPENBLAS_LIBRARY": "/nonexistent/libopenblas.so.0"])
        #expect(r.status == 0, "child failed:\n\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("SKRR_CHILD_OK failure="), "child output:\n\(r.stdout)\n\(r.stderr)")
    }
}
