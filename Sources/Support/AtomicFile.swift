#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file all at once or not at all: bytes go to a temporary file beside the target,
/// which is synced and renamed over it only when complete. On any error the temporary file is
/// removed, so a failed or interrupted write never leaves a partial output behind.
public enum AtomicFile {
    public static func write(_ path: String, _ produce: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let directory = FileSystem.dirname(path)
        var template = Array(FileSystem.join(directory, ".\(FileSystem.basename(path)).tmp-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            throw SkrrError(file: path, "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        let temporary = String(cString: template)
        var committed = false
        defer {
            if !committed {
                close(fd)
                unlink(temporary)
            }
        }
        try produce { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SkrrError(file: path, "write failed: \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
        guard fchmod(fd, 0o644) == 0, fsync(fd) == 0 else { throw SkrrError(file: path, "cannot finish writing: \(String(cString: strerror(errno)))") }
        close(fd)
        committed = true
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SkrrError(file: path, "cannot move the finished file into place: \(reason)")
        }
    }

    public static func write(_ path: String, bytes: [UInt8]) throws {
        try write(path) { append in try bytes.withUnsafeBytes { try append($0) } }
    }
}
