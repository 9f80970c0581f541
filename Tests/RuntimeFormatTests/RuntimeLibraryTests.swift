import Foundation
import SkrrRuntime
import SkrrTestSupport
import Testing

/// The runtime library as an app uses it (the README's "Runtime library" snippet), and its
/// independence from the compiler.
@Suite struct RuntimeLibraryTests {
    @Test func readmeSnippetEncodesAPrompt() throws {
        let path = try Compiled.file("t5-v1_1")
        // --- as in README.md
        let file = try RuntimeFile(path: path)
        try file.verify()
        let preset = file.preset
        let tokenizer = try TokenizerLoading.load(file.program.tokenizer)
        let limit = preset.truncationLength(maxPositions: file.program.spec.maxPositions)
        let ids = try tokenizer.encode("a red cube on a glass table", maxLength: limit)
        let encoder = try Interpreter(program: file.program, weights: file)
        let out = try encoder.run(TokenBatch(ids: [ids], padToLength: preset.padToMax ? preset.maxLength : nil,
                                             maskPadding: preset.useMask))
        // ---
        #expect(out.batch == 1 && out.length == ids.count && out.width == 48)
        #expect(out.hidden.count == ids.count * 48 && out.hidden.allSatisfy(\.isFinite))
    }

    @Test func runtimeImportsNoCompilerModule() throws {
        let root = TestPaths.repositoryRoot + "/Sources/Runtime"
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        for file in files {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for module in ["SkrrIR", "SkrrFrontend", "SkrrPasses", "SkrrBackend", "SkrrEvaluation"] {
                #expect(!text.contains("import \(module)"), "\(file) imports \(module)")
            }
        }
        let manifest = try String(contentsOfFile: TestPaths.repositoryRoot + "/Package.swift", encoding: .utf8)
        #expect(manifest.contains(#"name: "SkrrRuntime", dependencies: ["SkrrSupport", "CBLAS", "CKernels", "CSentencePiece", "CManifest"]"#))
    }
}
