import ArgumentParser
import SkrrSupport

/// Runs a command body, turning input problems into a message on stderr and exit status 1.
/// Usage errors (exit 64) are raised by ArgumentParser itself or with `ValidationError`.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SkrrError {
        StandardStreams.err("error: \(error)\n")
        throw ExitCode(1)
    }
}
