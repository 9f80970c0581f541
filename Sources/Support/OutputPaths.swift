#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guards against a run writing over its own inputs or writing two outputs to one file: both
/// happen silently otherwise, since every output is replaced atomically by rename.
///
/// Two paths are the same file when they name the same inode (symbolic links, hard links, `./`
/// and `..` all resolve), or, for files not created yet, the same absolute path after the
/// folder part is resolved.
public enum OutputPaths {
    /// Throws when an output (`option`, path) is one of `inputs` or shares its file with
    /// another output. Inputs that do not exist are ignored; they cannot be overwritten.
    public static func check(outputs: [(option: String, path: String)], inputs: [String]) throws {
        let inputIdentities = inputs.compactMap { path in identity(path).map { (path, $0) } }
        var seen: [(option: String, key: Key)] = []
        for (option, path) in outputs {
            let key = self.key(path)
            if let first = seen.first(where: { $0.key == key }) {
                throw SkrrError(file: path, key: option, "is also the path of \(first.option): two outputs cannot share a file")
            }
            seen.append((option, key))
            if let existing = identity(path), let input = inputIdentities.first(where: { $0.1 == existing }) {
                throw SkrrError(file: path, key: option, "is an input of this run (\(input.0)); refusing to overwrite it")
            }
        }
    }

    /// A file's device and inode, when it exists.
    struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    enum Key: Equatable {
        case file(Identity)
        case path(String)
    }

    static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The inode when the file exists, else the resolved folder joined with the name.
    static func key(_ path: String) -> Key {
        if let identity = identity(path) { return .file(identity) }
        let folder = FileSystem.dirname(path), name = FileSystem.basename(path)
        guard let resolved = realpath(folder, nil) else { return .path(path) }
        defer { free(resolved) }
        return .path(FileSystem.join(String(cString: resolved), name))
    }
}
