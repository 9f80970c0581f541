import CLibFuzzer
import Glibc
import SkrrFuzzEntries

/// The target the running executable fuzzes (one per process; libFuzzer calls back without context).
nonisolated(unsafe) private var current: FuzzTarget?

/// Runs libFuzzer on the fuzz target `name` with this process's arguments (`-max_total_time=…`,
/// corpus folders) and exits with libFuzzer's status.
public func runLibFuzzer(_ name: String) -> Never {
    guard let target = FuzzTargets.named(name) else {
        fatalError("no fuzz target \(name); known: \(FuzzTargets.all.map(\.name))")
    }
    // `SKRR_FUZZ_MAX_LEN=1 fuzz-NAME` prints the target's max_len, so scripts/fuzz.sh takes the
    // limit from the one place it is defined.
    if getenv("SKRR_FUZZ_MAX_LEN") != nil {
        print(target.maxLength)
        exit(0)
    }
    current = target
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        current!.fuzzOne(data, size)
    }
    exit(status)
}
