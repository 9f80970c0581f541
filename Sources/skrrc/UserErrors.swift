import ArgumentParser
import SkrrDriver
import SkrrSupport

/// Runs a command body, turning input problems into a message on stderr and exit status 1.
/// Usage errors (exit 64) are raised by ArgumentParser itself or with `usage`.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SkrrError {
        StandardStreams.err("error: \(error)\n")
        throw ExitCode(1)
    }
}

/// Runs option validation, turning the driver's `UsageError` into ArgumentParser's (exit 64).
func usage(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UsageError {
        throw ValidationError(error.description)
    }
}
