import Glibc
import SkrrFrontend
import SkrrSupport

extension FuzzTargets {
    /// config.json as the frontend reads it: family detection, typed keys, tensor matching
    /// against a real checkpoint, the imported IR verified. The first byte picks which fixture
    /// checkpoint (and tokenizer files) sit beside the fuzzed config; the rest is config.json.
    static let modelConfig = FuzzTarget(
        name: "model-config", summary: "config.json import against fixture checkpoints (ModelImporter)", maxLength: 4_096
    ) { input, check in
        guard let selector = input.first else { throw SkrrError("empty input: no fixture selector byte") }
        try ConfigFuzzFolders.shared.withFolder(Int(selector) % ConfigFuzzFolders.fixtures.count) { folder in
            try writeFile(FileSystem.join(folder, "config.json"), input.dropFirst())
            _ = try ModelImporter.importModel(at: folder)
        }
    }

    static func writeFile(_ path: String, _ bytes: ArraySlice<UInt8>) throws {
        guard let handle = fopen(path, "wb") else { throw SkrrError(file: path, "cannot open for writing") }
        defer { fclose(handle) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        guard written == bytes.count else { throw SkrrError(file: path, "short write") }
    }
}

/// One temporary model folder per fixture, made once per process: symbolic links to the
/// fixture's checkpoint and tokenizer files, and a config.json each input overwrites. Inputs use
/// the folders one at a time: the regression tests replay inputs concurrently, and two inputs
/// writing one config.json would each import the other's.
final class ConfigFuzzFolders: @unchecked Sendable {
    /// The fixtures a selector byte chooses from (one per family, and T5's two activations).
    static let fixtures = ["t5-v1_1", "umt5", "clip-proj", "bert", "t5-relu"]
    static let shared = ConfigFuzzFolders()

    private let lock = NSLockLike()
    private var made: [Int: String] = [:]

    /// Runs `body` on the folder of fixture `index`, holding the folders until it returns.
    func withFolder(_ index: Int, _ body: (String) throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        try body(try folder(index))
    }

    /// The folder of fixture `index`, made on first use; the caller holds the lock.
    private func folder(_ index: Int) throws -> String {
        if let path = made[index] { return path }
        let fixture = FuzzPaths.fixture(Self.fixtures[index])
        var template = Array("/tmp/skrrc-fuzz-config-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw SkrrError(file: "/tmp", "cannot create a temporary folder") }
        let folder = String(cString: created)
        for name in FileSystem.listDirectory(fixture) where name != "config.json" {
            guard symlink(FileSystem.join(fixture, name), FileSystem.join(folder, name)) == 0 else {
                throw SkrrError(file: FileSystem.join(folder, name), "cannot link to the fixture")
            }
        }
        if made.isEmpty { atexit { ConfigFuzzFolders.shared.removeAll() } }
        made[index] = folder
        return folder
    }

    /// Deletes the folders (links and config.json only; the fixtures stay untouched).
    func removeAll() {
        lock.lock()
        defer { lock.unlock() }
        for folder in made.values {
            for name in FileSystem.listDirectory(folder) { unlink(FileSystem.join(folder, name)) }
            rmdir(folder)
        }
        made.removeAll()
    }
}

/// A pthread mutex, so the folder table is safe if libFuzzer ever runs inputs on several threads.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}

/// The repository's folders, found from this source file (the fuzz executables and the tests
/// are always built from a checkout).
enum FuzzPaths {
    static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = FileSystem.dirname(path) }
        return path
    }()

    static func fixture(_ name: String) -> String { FileSystem.join(FileSystem.join(repositoryRoot, "fixtures"), name) }
}
