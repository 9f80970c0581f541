#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file all at once or not at all: bytes go to a temporary file beside the target,
/// which is synced and renamed over it only when complete. On any error the temporary file is
/// removed, and so it is when the process is interrupted by SIGINT or SIGTERM while writing (a
/// handler unlinks every temporary file in flight, then re-raises the signal with its default
/// action), so a failed or interrupted write never leaves a partial output behind.
public enum AtomicFile {
    public static func write(_ path: String, _ produce: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        InterruptCleanup.install()
        let directory = FileSystem.dirname(path)
        var template = Array(FileSystem.join(directory, ".\(FileSystem.basename(path)).tmp-XXXXXX").utf8CString)
        // Block the two signals while the temporary file is created and registered, so an
        // interruption between mkstemp and registration cannot leak it.
        let fd: Int32
        let slot: Int?
        do {
            let blocked = InterruptCleanup.block()
            defer { InterruptCleanup.restore(blocked) }
            fd = mkstemp(&template)
            slot = fd >= 0 ? InterruptCleanup.register(template) : nil
        }
        guard fd >= 0 else {
            throw SkrrError(file: path, "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        let temporary = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var committed = false
        defer {
            if !committed {
                close(fd)
                unlink(temporary)
            }
            InterruptCleanup.unregister(slot)
        }
        if let delay = testDelayMilliseconds { usleep(UInt32(delay) * 1000) }
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
        let blocked = InterruptCleanup.block()
        defer { InterruptCleanup.restore(blocked) }
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

    /// Test hook: `SKRR_TEST_ATOMIC_WRITE_DELAY_MS` pauses after the temporary file is created,
    /// so a test can interrupt a write in progress.
    static let testDelayMilliseconds: Int? = {
        guard let raw = getenv("SKRR_TEST_ATOMIC_WRITE_DELAY_MS") else { return nil }
        return Int(String(cString: raw)).flatMap { $0 > 0 && $0 < 600_000 ? $0 : nil }
    }()
}

/// The temporary files of writes in progress, for the SIGINT/SIGTERM handler. A fixed table of
/// C strings so the handler only reads memory and calls async-signal-safe functions (unlink,
/// signal, raise).
private enum InterruptCleanup {
    static let capacity = 16
    nonisolated(unsafe) static let paths = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) static var installed = false
    nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    static func install() {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard !installed else { return }
        installed = true
        // A process can start with the two signals blocked (Foundation's Process on Linux spawns
        // children with its worker thread's mask): then an interruption would wait until the
        // write finished. Unblock them on this thread so the handler runs when they arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        paths.initialize(repeating: nil, count: capacity)
        for sig in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                for i in 0..<InterruptCleanup.capacity {
                    if let path = InterruptCleanup.paths[i] { unlink(path) }
                }
                signal(sig, nil)  // SIG_DFL
                raise(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            // Keep an inherited "ignore" (e.g. nohup): only replace the default action.
            var previous = sigaction()
            sigaction(sig, nil, &previous)
            if let old = previous.__sigaction_handler.sa_handler, unsafeBitCast(old, to: Int.self) == 1 { continue }  // SIG_IGN
            sigaction(sig, &action, nil)
        }
    }

    static func register(_ template: [CChar]) -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        for i in 0..<capacity where paths[i] == nil {
            paths[i] = strdup(template)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        let blocked = block()
        pthread_mutex_lock(lock)
        let path = paths[slot]
        paths[slot] = nil
        pthread_mutex_unlock(lock)
        restore(blocked)
        free(path)
    }

    static func block() -> sigset_t {
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        return old
    }

    static func restore(_ old: sigset_t) {
        var old = old
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }
}
