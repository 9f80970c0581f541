#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress on stderr: a redrawn bar with ETA on a terminal, a few plain lines otherwise (so CI
/// logs and pipes stay readable). Results never go here; they go to stdout or files.
public final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: Double
    private let isTerminal: Bool
    private let start: Double
    private var lastDraw: Double = 0
    private var lastPlainPercent = -1
    private var finished = false

    public init(_ label: String, total: Double, forceTerminal: Bool? = nil) {
        self.label = label
        self.total = max(total, 1)
        self.isTerminal = forceTerminal ?? (StandardStreams.errorIsTerminal)
        self.start = ProgressBar.now()
    }

    /// Monotonic seconds, for timing whole runs.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Reports `done` units out of the total; cheap to call often (redraws at most 10×/s).
    public func update(_ done: Double) {
        let now = ProgressBar.now()
        let fraction = min(max(done / total, 0), 1)
        if isTerminal {
            guard now - lastDraw >= 0.1 || fraction >= 1 else { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let elapsed = now - start
            let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
            let line = "\r\(label) [\(bar)] \(Int(fraction * 100))%  \(ProgressBar.clock(elapsed)) elapsed, ETA \(ProgressBar.clock(eta))\u{1B}[K"
            StandardStreams.err(line)
        } else {
            let percent = Int(fraction * 4) * 25  // plain mode: 0, 25, 50, 75, 100
            guard percent != lastPlainPercent, now - start >= 1 || fraction >= 1 else { return }
            lastPlainPercent = percent
            StandardStreams.err("\(label): \(percent)%\n")
        }
    }

    /// A line of log above the bar (on a terminal the bar is redrawn below it at the next update).
    public func log(_ line: String) {
        if isTerminal {
            StandardStreams.err("\r\(line)\u{1B}[K\n")
            lastDraw = 0
        } else {
            StandardStreams.err(line + "\n")
        }
    }

    public func finish() {
        guard !finished else { return }
        finished = true
        if isTerminal && lastDraw > 0 { StandardStreams.err("\n") }
    }

    public static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600
            ? "\(total / 3600)h\(twoDigits((total / 60) % 60))m"
            : "\(total / 60):\(twoDigits(total % 60))"
    }
}

private func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
