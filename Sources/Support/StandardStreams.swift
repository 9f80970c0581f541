#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered writes to the standard streams through `write(2)`: safe under Swift 6's strict
/// concurrency (unlike the C `stdout`/`stderr` globals) and never interleaved mid-message.
public enum StandardStreams {
    public static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    public static func out(_ text: String) { write(text, to: STDOUT_FILENO) }
    public static func err(_ text: String) { write(text, to: STDERR_FILENO) }
    public static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
