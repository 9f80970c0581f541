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

    /// The compiler's modules: these by name, plus any target built on the IR (so a new
    /// compiler module is covered without editing this list).
    static let namedCompilerModules: Set<String> = [
        "SkrrIR", "SkrrFrontend", "SkrrPasses", "SkrrLowering", "SkrrBackend", "SkrrEvaluation", "skrrc",
    ]

    static func compilerModules(_ targets: PackageTargets) -> Set<String> {
        namedCompilerModules.union(targets.dependencies.keys.filter { targets.closure(of: $0).contains("SkrrIR") })
    }

    /// The module a Swift `import` line names (`import X`, `@testable import X`,
    /// `import struct X.Y`), or nil for any other line.
    static func importedModule(_ line: Substring) -> String? {
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).drop(while: { $0.hasPrefix("@") })
        guard words.first == "import" else { return nil }
        words = words.dropFirst()
        let kinds: Set<Substring> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]
        if let kind = words.first, kinds.contains(kind) { words = words.dropFirst() }
        return words.first.map { String($0.split(separator: ".")[0]) }
    }

    @Test func runtimeImportsNoCompilerModule() throws {
        let root = TestPaths.repositoryRoot + "/Sources/Runtime"
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        var imported = Set<String>()
        for file in files {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            for module in text.split(separator: "\n").compactMap(Self.importedModule) {
                imported.insert(module)
                #expect(!Self.namedCompilerModules.contains(module), "\(file) imports \(module)")
            }
        }
        #expect(imported.contains("SkrrSupport"), "the import scan found no import at all: \(imported)")
    }

    /// Package.swift gives the runtime target no compiler module, directly or through another
    /// dependency.
    @Test func runtimeTargetDependsOnNoCompilerModule() throws {
        let manifest = try String(contentsOfFile: TestPaths.repositoryRoot + "/Package.swift", encoding: .utf8)
        let targets = PackageTargets(manifest: manifest)
        let missing = Self.namedCompilerModules.subtracting(targets.dependencies.keys)
        try #require(missing.isEmpty, "Package.swift declares no target \(missing.sorted()): the manifest reader is broken")
        let direct = try #require(targets.dependencies["SkrrRuntime"], "Package.swift declares no SkrrRuntime target")
        #expect(direct.contains("SkrrSupport"), "\(direct)")
        let reached = targets.closure(of: "SkrrRuntime").intersection(Self.compilerModules(targets))
        #expect(reached.isEmpty, "SkrrRuntime depends on compiler modules \(reached.sorted())")
    }

    /// The manifest reader sees a dependency however the entry is laid out, so the test above
    /// fails when one is added.
    @Test func manifestReaderSeesReformattedDependencies() {
        let manifest = """
            // .target(name: "Decoy", dependencies: ["SkrrIR"]),
            .target(name: "SkrrIR", dependencies: ["SkrrSupport"]),
            .target(
                dependencies: [
                    "SkrrSupport",  // "SkrrPasses" in a comment is not a dependency
                    .target(name: "Middle"),
                ],
                name:"SkrrRuntime", path: "https://example.org/Sources"
            ),
            .target(name: "Middle", dependencies: [.byName(name: "SkrrLowering")]),
            .target(name: "SkrrLowering", dependencies: ["SkrrIR"]),
            """
        let targets = PackageTargets(manifest: manifest)
        #expect(targets.dependencies["Decoy"] == nil)
        #expect(targets.dependencies["SkrrRuntime"] == ["SkrrSupport", "Middle"])
        #expect(targets.closure(of: "SkrrRuntime") == ["SkrrSupport", "Middle", "SkrrLowering", "SkrrIR"])
        #expect(Self.compilerModules(targets).contains("Middle"))
    }

    @Test func importLinesNameTheirModule() {
        #expect(Self.importedModule("import SkrrIR") == "SkrrIR")
        #expect(Self.importedModule("@testable import SkrrLowering") == "SkrrLowering")
        #expect(Self.importedModule("import struct SkrrIR.ModelIR") == "SkrrIR")
        #expect(Self.importedModule("  import\tSkrrPasses") == "SkrrPasses")
        #expect(Self.importedModule("// import SkrrIR") == nil)
        #expect(Self.importedModule("let important = 1") == nil)
    }
}
