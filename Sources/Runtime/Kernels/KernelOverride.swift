import Glibc
import SkrrSupport

/// A developer's override of a kernel choice through an environment variable (`SKRR_BF16_KERNEL`,
/// `SKRR_HALF_KERNEL`), for comparing kernels in benchmarks. A value that names no kernel, or one
/// this CPU cannot run, is reported on stderr instead of being ignored in silence: a benchmark
/// that believes it measured a kernel it did not is worse than one that stops to say so.
enum KernelOverride {
    /// The kernel `variable` names if this CPU can run it; nil (after a warning) otherwise, or
    /// when the variable is unset.
    static func chosen<Kernel: RawRepresentable & CaseIterable>(_ variable: String, runnable: (Kernel) -> Bool) -> Kernel?
    where Kernel.RawValue == String {
        guard let value = getenv(variable).map({ String(cString: $0) }) else { return nil }
        guard let kernel = Kernel(rawValue: value) else {
            let names = Kernel.allCases.map(\.rawValue).joined(separator: ", ")
            StandardStreams.err("warning: \(variable)=\(value) names no kernel (\(names)); the default is used\n")
            return nil
        }
        guard runnable(kernel) else {
            StandardStreams.err("warning: \(variable)=\(value) cannot run on this CPU; the default is used\n")
            return nil
        }
        return kernel
    }
}
