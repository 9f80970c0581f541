import SkrrIR
import SkrrPasses
import SkrrSupport

/// A progress bar per pass on stderr (with ETA on a terminal). Off a terminal only the skip
/// search, the pass that can run for hours, prints its few plain progress lines.
final class ProgressBars: PassInstrumentation {
    private var bar: ProgressBar?

    func willRun(_ invocation: PassInvocation, on model: ModelIR) {
        bar = StandardStreams.errorIsTerminal || invocation.name == SkipSearch.name ? ProgressBar(invocation.name, total: 1) : nil
    }

    func progress(_ invocation: PassInvocation, done: Double, total: Double) {
        bar?.update(done / max(total, 1))
    }

    /// One line per note (a search step), above the bar on a terminal.
    func note(_ invocation: PassInvocation, _ message: String) {
        bar?.log("\(invocation.name): \(message)")
        if bar == nil { StandardStreams.err("\(invocation.name): \(message)\n") }
    }

    func didRun(_ invocation: PassInvocation, result: ModelIR) throws {
        bar?.update(1)
        bar?.finish()
        bar = nil
    }
}
