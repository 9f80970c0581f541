#if canImport(Glibc)
import Glibc
#endif
import CSkrrABI
import SkrrDriver
import SkrrRuntime
import SkrrSupport
import Synchronization

// libskrr's C entry points (Sources/CSkrrABI/include/skrr.h). Every function catches every
// error and turns it into skrr_last_error(); nothing may trap in a host process. Handles are
// Swift objects passed as opaque pointers (retained on open, released on close/free).

/// One open encoder. The lock serialises calls on this handle: the interpreter reuses its
/// buffers from batch to batch.
final class EncoderHandle: @unchecked Sendable {
    let session: EncoderSession
    let lock = Mutex(())
    /// The preset's name as a C string, owned by the handle.
    let pipelineName: UnsafeMutablePointer<CChar>

    init(_ session: EncoderSession) {
        self.session = session
        pipelineName = strdup(session.preset.name)
    }

    deinit { free(pipelineName) }
}

/// The arrays of one encode call, with their names and shapes as C memory owned by the result.
final class ResultHandle {
    struct Entry {
        let name: UnsafeMutablePointer<CChar>
        let shape: UnsafeMutableBufferPointer<Int64>
        let dtype: Int32
        let data: UnsafeMutableRawBufferPointer
    }
    let entries: [Entry]

    init(_ arrays: [NamedArray]) {
        entries = arrays.map { array in
            let shape = UnsafeMutableBufferPointer<Int64>.allocate(capacity: array.shape.count)
            _ = shape.initialize(from: array.shape.map(Int64.init))
            let data: UnsafeMutableRawBufferPointer
            let dtype: Int32
            switch array.values {
            case let .float32(values):
                data = .allocate(byteCount: max(1, values.count * 4), alignment: 64)
                values.withUnsafeBytes { data.copyMemory(from: $0) }
                dtype = 0
            case let .int64(values):
                data = .allocate(byteCount: max(1, values.count * 8), alignment: 64)
                values.withUnsafeBytes { data.copyMemory(from: $0) }
                dtype = 1
            }
            let bytes = array.shape.reduce(1, *) * (dtype == 0 ? 4 : 8)
            return Entry(name: strdup(array.name), shape: shape, dtype: dtype, data: UnsafeMutableRawBufferPointer(rebasing: data[0..<bytes]))
        }
    }

    deinit {
        for entry in entries {
            free(entry.name)
            entry.shape.deallocate()
            entry.data.deallocate()
        }
    }
}

/// Runs `body`, returning its value, or `failure` with the error recorded for this thread.
func recordingErrors<T>(_ failure: T, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch let error as SkrrError {
        skrr_abi_set_error(error.description)
    } catch let error as UsageError {
        skrr_abi_set_error(error.description)
    } catch {
        skrr_abi_set_error("\(error)")
    }
    return failure
}

func string(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }

func handle(_ pointer: OpaquePointer?) throws -> EncoderHandle {
    guard let pointer else { throw SkrrError(key: "encoder", "is NULL") }
    return Unmanaged<EncoderHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

func result(_ pointer: OpaquePointer?, _ index: Int) -> ResultHandle.Entry? {
    guard let pointer else { return nil }
    let entries = Unmanaged<ResultHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue().entries
    return entries.indices.contains(index) ? entries[index] : nil
}
