import Foundation
import Glibc
import SkrrTestSupport
import Testing

/// Open MPI's mpirun, and the arguments a test run on this one machine needs.
enum MPIRun {
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `np` ranks on localhost: more ranks than cores is allowed (CI has two), and root, which CI
    /// runs as, must say so to Open MPI.
    static func arguments(ranks: Int) -> [String] {
        ["-np", "\(ranks)", "--oversubscribe"] + (getuid() == 0 ? ["--allow-run-as-root"] : [])
    }

    /// This process's environment without any MPI launcher's variables, for plain runs.
    static var plainEnvironment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
    }
}

/// The bytes of a report (or checkpoint) with its `seconds` and sub-block work counts blanked:
/// the fields that may differ with the rank count. Bounded scoring (docs/architecture.md §4)
/// drops candidates against the best finished so far, and which ones finish first depends on how
/// candidates are split between ranks, so the work does too; the choices and every D do not.
func reportWithoutSecondsOrWork(_ path: String) throws -> String {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.replacingOccurrences(of: #""seconds": [0-9.e+-]+"#, with: #""seconds": 0"#, options: .regularExpression)
        .replacingOccurrences(of: #""(screened_)?subblock_evals": [0-9]+"#, with: #""$1subblock_evals": 0"#, options: .regularExpression)
}

/// `skrrc MODEL -O prune` under mpirun: the search split over two ranks writes what one process
/// writes, byte for byte, and an error on one rank ends the job.
@Suite(.enabled(if: MPIRun.path != nil, "mpirun is not on PATH: install Open MPI (scripts/setup.sh installs openmpi-bin)"), .serialized)
struct ClusterRunTests {
    /// The tiny T5 (a debug build searches the trained one for minutes): three search steps and
    /// a re-use attempt, enough to split candidates and compare every written byte.
    let prune = [TestPaths.fixture("t5-v1_1"), "-O", "prune", "--sparsity", "0.5", "--calib", "parti", "--calib-size", "16"]

    @Test func twoRanksWriteWhatOneProcessWrites() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let plain = try runCommand(TestPaths.skrrcBinary, prune + ["-o", dir + "/1.skrr", "--report", dir + "/1.json"],
                                   environment: MPIRun.plainEnvironment)
        #expect(plain.status == 0, "\(plain.stderr)")
        let mpi = try runCommand(MPIRun.path!, MPIRun.arguments(ranks: 2) + [TestPaths.skrrcBinary] + prune
                                 + ["-o", dir + "/2.skrr", "--report", dir + "/2.json"])
        #expect(mpi.status == 0, "\(mpi.stderr)")
        #expect(mpi.stderr.contains("mpi: 2 ranks"), "\(mpi.stderr)")
        let one = try Data(contentsOf: URL(fileURLWithPath: dir + "/1.skrr"))
        let two = try Data(contentsOf: URL(fileURLWithPath: dir + "/2.skrr"))
        #expect(!one.isEmpty && one == two, "the runtime files differ")
        #expect(try reportWithoutSecondsOrWork(dir + "/2.json") == reportWithoutSecondsOrWork(dir + "/1.json"))
        // Rank 0 alone prints: one summary, one "wrote" line.
        #expect(mpi.stdout.components(separatedBy: "skipped").count == plain.stdout.components(separatedBy: "skipped").count)
        #expect(mpi.stderr.components(separatedBy: "wrote ").count == 2, "\(mpi.stderr)")
    }

    /// Screening, robust re-use and a checkpoint under two ranks: the same bytes as one process,
    /// and a second run resumes from the checkpoint rank 0 wrote to the same result.
    @Test func screenedResumableSearchOnTwoRanks() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let options = prune + ["--screen", "5", "--reuse-folds", "2"]
        let plain = try runCommand(TestPaths.skrrcBinary, options + ["-o", dir + "/1.skrr", "--report", dir + "/1.json",
                                                                       "--checkpoint", dir + "/1.ckpt"],
                                   environment: MPIRun.plainEnvironment)
        #expect(plain.status == 0, "\(plain.stderr)")
        for attempt in 0..<2 {
            let mpi = try runCommand(MPIRun.path!, MPIRun.arguments(ranks: 2) + [TestPaths.skrrcBinary] + options
                                     + ["-o", dir + "/2.skrr", "--report", dir + "/2.json", "--checkpoint", dir + "/2.ckpt"])
            #expect(mpi.status == 0, "\(mpi.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/2.skrr")) == Data(contentsOf: URL(fileURLWithPath: dir + "/1.skrr")))
            let report = try reportWithoutSecondsOrWork(dir + "/2.json")
            if attempt == 0 {
                #expect(report == (try reportWithoutSecondsOrWork(dir + "/1.json")))
            } else {
                #expect(!report.contains(#""resumed_steps": 0"#), "the second run resumed from rank 0's checkpoint")
            }
        }
        #expect(try reportWithoutSecondsOrWork(dir + "/2.ckpt") == reportWithoutSecondsOrWork(dir + "/1.ckpt"))
    }

    /// Rank 1 is given other calibration prompts (an MPMD launch): it stops the job with its
    /// message, and rank 0, waiting for it in a collective, is ended too instead of hanging.
    @Test func aFailingRankEndsTheJobWithItsMessage() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        var arguments = MPIRun.arguments(ranks: 1) + [TestPaths.skrrcBinary] + prune + ["-o", dir + "/x.skrr"]
        arguments += [":"] + MPIRun.arguments(ranks: 1).filter { $0 != "--allow-run-as-root" && $0 != "--oversubscribe" }
        arguments += [TestPaths.skrrcBinary] + prune.dropLast() + ["8", "-o", dir + "/x.skrr"]
        let started = Date()
        let result = try runCommand(MPIRun.path!, arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("error: rank 1 of 2: mismatch in the calibration prompts (token ids) with rank 0"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.skrr"))
        #expect(Date().timeIntervalSince(started) < 60)
    }
}

extension ClusterRunTests {
    /// Rank 1 is killed with SIGKILL in the middle of a long search (the trained T5 in a debug
    /// build): mpirun notices, ends rank 0, which waits for rank 1 in a collective, and exits
    /// non-zero, instead of waiting forever.
    @Test func aKilledRankDoesNotLeaveTheOthersWaiting() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        let long = [TestPaths.fixture("t5-trained"), "-O", "prune", "--sparsity", "0.4"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MPIRun.path!)
        // Two app contexts so that rank 1 has an argument of its own to be found by.
        process.arguments = MPIRun.arguments(ranks: 1) + [TestPaths.skrrcBinary] + long + ["-o", dir + "/rank0.skrr", ":", "-np", "1",
                            TestPaths.skrrcBinary] + long + ["-o", dir + "/rank1.skrr"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let started = Date()
        var victim: pid_t?
        while victim == nil && Date().timeIntervalSince(started) < 30 {
            usleep(100_000)
            victim = Self.process(withArgument: dir + "/rank1.skrr")
        }
        let rank1 = try #require(victim, "rank 1 never started")
        sleep(3)
        kill(rank1, SIGKILL)
        let killed = Date()
        while process.isRunning && Date().timeIntervalSince(killed) < 60 { usleep(100_000) }
        if process.isRunning { process.terminate() }
        #expect(!process.isRunning || process.terminationStatus != 0)
        #expect(Date().timeIntervalSince(killed) < 60, "mpirun still running a minute after rank 1 died")
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(Self.process(withArgument: dir + "/rank0.skrr") == nil, "rank 0 outlived the job")
        #expect(!FileManager.default.fileExists(atPath: dir + "/rank0.skrr"))
    }

    /// The process (other than mpirun) whose command line holds `argument`.
    static func process(withArgument argument: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let data = commandLine("/proc/\(entry)/cmdline") else { continue }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if words.first == TestPaths.skrrcBinary && words.contains(argument) { return pid }
        }
        return nil
    }

    /// A /proc cmdline file, read with FileHandle: `FileManager.contents(atPath:)` leaks its 4 KB
    /// buffer on files that stat as empty and read empty (kernel threads' cmdline), which
    /// LeakSanitizer reported 170 times per run (RELIABILITY.md, "Sanitizers").
    static func commandLine(_ path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd() ?? Data()
    }
}

/// Without mpirun: MPI is only touched under a launcher, and then a missing or foreign libmpi
/// is named in a clear error.
@Suite struct MPILoadingTests {
    func compile(_ environment: [String: String]) throws -> CommandResult {
        try runCommand(TestPaths.skrrcBinary, [TestPaths.fixture("t5-v1_1"), "--no-weight-check", "--emit-ir"],
                       environment: MPIRun.plainEnvironment.merging(environment) { $1 })
    }

    @Test func plainRunsNeverLoadMPI() throws {
        let result = try compile(["SKRR_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func aLauncherWithoutOpenMPIIsAnError() throws {
        let result = try compile(["OMPI_COMM_WORLD_SIZE": "2", "SKRR_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: launched by an MPI launcher (OMPI_COMM_WORLD_SIZE is set) but cannot load Open MPI (/nonexistent/libmpi.so.40)"), "\(result.stderr)")
        #expect(result.stderr.contains("SKRR_MPI_LIBRARY"))
    }

    @Test func anotherLibraryIsNotTakenForOpenMPI() throws {
        let result = try compile(["PMIX_RANK": "0", "SKRR_MPI_LIBRARY": "libopenblas.so.0"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not Open MPI (it exports no ompi_mpi_comm_world)"), "\(result.stderr)")
    }
}
