import CMPI
import Glibc
import SkrrSupport

/// MPI_COMM_WORLD of this process, when an MPI launcher started it. Open MPI is loaded with
/// `dlopen` only then (Sources/CMPI explains why), so plain runs need no MPI on the machine.
/// MPI can be initialised once per process and never again after `finalize`, so there is one
/// world, made on first use of `current`.
public final class MPIWorld: Collective, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The environment variable that showed an MPI launcher (`OMPI_COMM_WORLD_SIZE`, `PMIX_RANK`).
    public let launcher: String
    /// The libmpi that was loaded, and its own description (`Open MPI v4.1.4, ...`).
    public let libraryPath: String
    public let libraryVersion: String

    /// The world when this process runs under an MPI launcher, nil otherwise. Loads and
    /// initialises MPI on first use; throws when launched by mpirun but Open MPI cannot be loaded
    /// or started (the message says which library and why).
    public static var current: MPIWorld? {
        get throws { try joined.get() }
    }

    /// Whether an MPI launcher started this process (its variable), without touching MPI.
    public static var launcherVariable: String? { skrr_mpi_launcher_variable().map { String(cString: $0) } }

    private static let joined: Result<MPIWorld?, any Error> = Result { try launcherVariable.map(MPIWorld.init) }

    private init(launcher: String) throws {
        self.launcher = launcher
        var message = [CChar](repeating: 0, count: 1024)
        if skrr_mpi_load(&message, message.count) != 0 {
            throw SkrrError("launched by an MPI launcher (\(launcher) is set) but \(Self.text(message))")
        }
        var provided: Int32 = -1
        if skrr_mpi_init(SKRR_MPI_THREAD_SERIALIZED, &provided, &message, message.count) != 0 {
            throw SkrrError(Self.text(message))
        }
        libraryPath = skrr_mpi_library_path().map { String(cString: $0) } ?? "libmpi"
        libraryVersion = skrr_mpi_library_version().map { String(cString: $0) } ?? "unknown version"
        var rank: Int32 = -1, size: Int32 = 0
        guard skrr_mpi_rank(&rank) == 0, skrr_mpi_size(&size) == 0 else {
            throw SkrrError("MPI_Comm_rank or MPI_Comm_size failed after MPI_Init_thread")
        }
        self.rank = Int(rank)
        self.size = Int(size)
        // The search calls MPI from one loop at a time, but not necessarily from the thread that
        // initialised it; SERIALIZED is the level that allows exactly that.
        guard provided >= SKRR_MPI_THREAD_SERIALIZED else {
            abort("error: \(libraryPath) provides MPI thread level \(provided); skrrc needs MPI_THREAD_SERIALIZED (2) or better\n")
        }
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func check(_ status: Int32, _ call: String) throws {
        guard status == 0 else { throw SkrrError("\(call) failed on rank \(rank) of \(size)") }
    }

    public func allGather(_ values: [Double], counts: [Int]) throws -> [Double] {
        precondition(counts.count == size && values.count == counts[rank], "allGather: \(values.count) values, counts \(counts)")
        var displacements: [Int32] = []
        var total: Int32 = 0
        for count in counts {
            displacements.append(total)
            total += Int32(count)
        }
        var gathered = [Double](repeating: 0, count: Int(total))
        let counts32 = counts.map { Int32($0) }
        try check(skrr_mpi_allgatherv_doubles(values, Int32(values.count), &gathered, counts32, displacements), "MPI_Allgatherv")
        return gathered
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
        // The length first (8 bytes, host order: every rank is the same kind of machine), then the bytes.
        var length = UInt64(bytes.count)
        try withUnsafeMutableBytes(of: &length) { try check(skrr_mpi_bcast_bytes($0.baseAddress, 8, Int32(root)), "MPI_Bcast") }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        if length > 0 { try check(skrr_mpi_bcast_bytes(&buffer, Int32(length), Int32(root)), "MPI_Bcast") }
        return buffer
    }

    /// Waits until every rank has reached this call.
    public func barrier() throws { try check(skrr_mpi_barrier(), "MPI_Barrier") }

    /// Ends MPI for this process (collective). No MPI call may follow, in this world or another.
    public func finalize() throws { try check(skrr_mpi_finalize(), "MPI_Finalize") }

    /// Writes `message` to `fd` (stderr unless given) and ends the whole job: mpirun kills every
    /// rank and exits with `code`. For an error on one rank, which the others, waiting in a
    /// collective for it, would otherwise wait for forever.
    public func abort(_ message: String, code: Int32 = 1, to fd: Int32 = STDERR_FILENO) -> Never {
        skrr_mpi_abort(fd, message, code)
    }
}
