#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams byte ranges of a file through one reusable buffer with `pread`. Used where every byte
/// is touched once (the NaN/Inf scan): unlike walking an mmap, resident memory stays at one
/// buffer instead of growing to the size of the checkpoint.
public final class ChunkedFileReader {
    public let path: String
    private let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer

    public init(path: String, chunkBytes: Int = 8 << 20) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SkrrError(file: path, "cannot open: \(String(cString: strerror(errno)))") }
        buffer = .allocate(byteCount: chunkBytes, alignment: 64)
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Calls `body(chunk, offsetWithinRange)` for consecutive chunks of `range`. Chunk lengths
    /// are multiples of `granule` (except possibly the last), so elements never straddle chunks.
    /// `body` returns false to stop early.
    public func forEachChunk(of range: Range<Int>, granule: Int,
                             _ body: (UnsafeRawBufferPointer, Int) throws -> Bool) throws {
        let step = max(granule, buffer.count - buffer.count % granule)
        var position = range.lowerBound
        while position < range.upperBound {
            let want = min(step, range.upperBound - position)
            var got = 0
            while got < want {
                let n = pread(fd, buffer.baseAddress! + got, want - got, off_t(position + got))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw SkrrError(file: path, "read failed at byte \(position + got): \(n == 0 ? "unexpected end of file" : String(cString: strerror(errno)))")
                }
                got += n
            }
            let keepGoing = try body(UnsafeRawBufferPointer(rebasing: buffer[0..<want]), position - range.lowerBound)
            if !keepGoing { return }
            position += want
        }
    }
}
