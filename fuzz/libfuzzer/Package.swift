// swift-tools-version:6.0
// libFuzzer executables for skrrc's readers of untrusted input, one per reader. A package of
// its own so the main package and `swift test` never need libFuzzer. Built and run by
// scripts/fuzz.sh with -sanitize=fuzzer,address; the entry points live in the main package's
// SkrrFuzzEntries library, which the ordinary tests also call (Tests/FuzzRegressionTests).
//
// The folder is fuzz/libfuzzer rather than fuzz/ because SwiftPM names a path dependency after its
// last path component: the checkout's folder (any name) must not clash with this package's.
import Foundation
import PackageDescription

/// SwiftPM's identity of the main package: its folder's name, lower-cased.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let targets = [
    "safetensors", "json", "model-config", "ir", "runtime-file", "sentencepiece", "clip-bpe", "wordpiece", "pipeline",
]

let package = Package(
    name: "skrrc-fuzz",
    products: targets.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [.package(path: root.path)],
    targets: [
        // libFuzzer's LLVMFuzzerRunDriver, declared for Swift.
        .target(name: "CLibFuzzer"),
        // The shared main: the target by name, handed to libFuzzer.
        .target(name: "FuzzDriver", dependencies: ["CLibFuzzer", .product(name: "SkrrFuzzEntries", package: rootIdentity)]),
    ] + targets.map { .executableTarget(name: "fuzz-\($0)", dependencies: ["FuzzDriver"], path: "Targets/\($0)") },
    swiftLanguageModes: [.v6]
)
