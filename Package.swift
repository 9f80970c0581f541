// swift-tools-version:6.0
// skrrc: a Skip-and-Re-use compiler for the text encoders of text-to-image models.
// Module dependencies point one way (docs/architecture.md §2):
//   Support <- IR <- Frontend, Passes;  IR <- Backend -> Runtime;  Runtime never imports compiler modules.
import PackageDescription

let package = Package(
    name: "skrrc",
    products: [
        .executable(name: "skrrc", targets: ["skrrc"]),
        // The runtime library an app embeds without the compiler.
        .library(name: "SkrrRuntime", targets: ["SkrrRuntime"]),
        // One entry point per untrusted-input reader, for the libFuzzer package in fuzz/ (built
        // apart, with -sanitize=fuzzer) and the regression test that replays fuzz/regressions/.
        .library(name: "SkrrFuzzEntries", targets: ["SkrrFuzzEntries"]),
        // libskrr.so: the C interface (Sources/CSkrrABI/include/skrr.h) the Python package loads.
        .library(name: "skrr", type: .dynamic, targets: ["SkrrCAPI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Shared low-level pieces: errors, dtypes, strict JSON, memory-mapped files, progress.
        .target(name: "SkrrSupport", path: "Sources/Support"),

        // C shims. OpenBLAS is dlopen'ed (never linked) so OPENBLAS_CORETYPE can be set first.
        .target(name: "CBLAS", path: "Sources/CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "CSentencePiece", path: "Sources/CSentencePiece",
            linkerSettings: [.linkedLibrary("sentencepiece")]),
        .target(
            name: "CManifest", path: "Sources/CManifest",
            linkerSettings: [.linkedLibrary("protobuf-c")]),
        // Open MPI, dlopen'ed only when mpirun started the process, so plain runs need no MPI;
        // its handles are resolved with dlsym, so building needs no MPI headers (Sources/CMPI).
        .target(name: "CMPI", path: "Sources/CMPI", linkerSettings: [.linkedLibrary("dl")]),
        // Our own kernels: a bf16 GEMM on AVX-512 BF16 (OpenBLAS 0.3.21 in Debian has no sbgemm).
        .target(name: "CKernels", path: "Sources/CKernels"),

        // Compiler modules.
        .target(name: "SkrrIR", dependencies: ["SkrrSupport"], path: "Sources/IR"),
        .target(name: "SkrrFrontend", dependencies: ["SkrrIR", "SkrrSupport"], path: "Sources/Frontend"),
        .target(name: "SkrrPasses", dependencies: ["SkrrIR"], path: "Sources/Passes"),
        // Lowers the IR to the runtime's program and opens its weights (merged tensors computed):
        // what both scoring and the file writer need, without the writer's protobuf-c.
        .target(name: "SkrrLowering", dependencies: ["SkrrIR", "SkrrRuntime", "SkrrSupport"], path: "Sources/Lowering"),
        // Writes the runtime file.
        .target(name: "SkrrBackend", dependencies: ["SkrrLowering", "SkrrRuntime", "SkrrSupport", "CManifest"], path: "Sources/Backend"),
        // Measures the discrepancy D by running models: the scorer the search passes ask.
        .target(
            name: "SkrrEvaluation", dependencies: ["SkrrIR", "SkrrPasses", "SkrrLowering", "SkrrRuntime", "SkrrSupport"],
            path: "Sources/Evaluation"),

        // Runtime: format reader + interpreter. Depends on no compiler module.
        .target(
            name: "SkrrRuntime", dependencies: ["SkrrSupport", "CBLAS", "CKernels", "CSentencePiece", "CManifest"],
            path: "Sources/Runtime"),

        // Search across machines: MPI_COMM_WORLD, and a schedule scorer whose candidates are
        // split over its ranks (results the same for any rank count).
        .target(name: "SkrrDistributed", dependencies: ["SkrrPasses", "SkrrIR", "SkrrSupport", "CMPI"], path: "Sources/Distributed"),

        // The driver: typed options, calibration set-up, projection loading, reports and plots,
        // the compile and run jobs. Everything the command line does, testable without it.
        .target(
            name: "SkrrDriver",
            dependencies: [
                "SkrrFrontend", "SkrrIR", "SkrrPasses", "SkrrLowering", "SkrrBackend", "SkrrRuntime", "SkrrSupport", "SkrrEvaluation",
                "SkrrDistributed",
            ],
            path: "Sources/Driver",
            exclude: ["Prompts/NOTICE", "Prompts/long-heldout.txt"],
            resources: [.embedInCode("Prompts/parti-calibration.txt"), .embedInCode("Prompts/long-calibration.txt")]),

        // The command line: argument binding only.
        .executableTarget(
            name: "skrrc",
            dependencies: [
                "SkrrDriver", "SkrrIR", "SkrrPasses", "SkrrRuntime", "SkrrSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/skrrc"),

        // Every reader of untrusted input driven by one byte string (fuzz/, FuzzRegressionTests).
        .target(
            name: "SkrrFuzzEntries", dependencies: ["SkrrFrontend", "SkrrIR", "SkrrPasses", "SkrrRuntime", "SkrrSupport"],
            path: "Sources/FuzzEntries"),
        // libskrr: C entry points over the driver's EncoderSession (runtime files, IR, models);
        // CSkrrABI holds the public header and the per-thread error message.
        .target(name: "CSkrrABI", path: "Sources/CSkrrABI"),
        .target(name: "SkrrCAPI", dependencies: ["SkrrDriver", "SkrrRuntime", "SkrrSupport", "CSkrrABI"], path: "Sources/CAPI"),

        // Benchmark driver (bench/): whole-process timings side by side with PyTorch.
        .executableTarget(
            name: "skrr-bench",
            dependencies: ["SkrrFrontend", "SkrrLowering", "SkrrBackend", "SkrrRuntime", "SkrrIR", "SkrrSupport", "CBLAS"],
            path: "bench/swift"),

        // Test helpers: a small FileCheck of our own, fixture locations, process runner.
        .target(name: "SkrrTestSupport", dependencies: ["SkrrSupport"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["SkrrSupport", "SkrrTestSupport"]),
        .testTarget(name: "IRTests", dependencies: ["SkrrIR", "SkrrSupport", "SkrrTestSupport"]),
        .testTarget(name: "PassesTests", dependencies: ["SkrrPasses", "SkrrIR", "SkrrSupport", "SkrrTestSupport"]),
        .testTarget(
            name: "FrontendTests", dependencies: ["SkrrFrontend", "SkrrIR", "SkrrSupport", "SkrrTestSupport"]),
        .testTarget(
            name: "ShimTests", dependencies: ["CBLAS", "CKernels", "CSentencePiece", "CManifest", "SkrrTestSupport"]),
        .testTarget(
            name: "RuntimeTests",
            dependencies: ["SkrrRuntime", "SkrrLowering", "SkrrFrontend", "SkrrIR", "SkrrSupport", "SkrrTestSupport"]),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["SkrrEvaluation", "SkrrPasses", "SkrrLowering", "SkrrFrontend", "SkrrRuntime", "SkrrIR", "SkrrTestSupport"]),
        .testTarget(
            name: "RuntimeFormatTests",
            dependencies: ["SkrrRuntime", "SkrrLowering", "SkrrBackend", "SkrrFrontend", "SkrrIR", "SkrrSupport", "CManifest", "SkrrTestSupport"]),
        .testTarget(
            name: "DriverTests",
            dependencies: ["SkrrDriver", "SkrrFrontend", "SkrrEvaluation", "SkrrPasses", "SkrrIR", "SkrrRuntime", "SkrrSupport", "SkrrTestSupport"]),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: [
                "SkrrFuzzEntries", "SkrrBackend", "SkrrLowering", "SkrrFrontend", "SkrrIR", "SkrrRuntime", "SkrrSupport",
                "SkrrTestSupport",
            ]),
        .testTarget(name: "CLITests", dependencies: ["skrrc", "SkrrTestSupport"]),
        .testTarget(
            name: "DistributedTests",
            dependencies: [
                "SkrrDistributed", "SkrrDriver", "SkrrEvaluation", "SkrrFrontend", "SkrrPasses", "SkrrIR", "SkrrSupport", "SkrrTestSupport",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
