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

/// Runs the option checks of `command`, reporting the driver's `UsageError` as ArgumentParser
/// reports a usage error of that subcommand: the message, its usage line, exit 64.
///
/// Commands call this at the start of `run`, not in `validate`: ArgumentParser reports unknown
/// options only after `validate`, so a misspelt option (`--promt`) would otherwise hide behind
/// a message about what is missing.
func usage(of command: ParsableCommand.Type, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UsageError {
        let name = command._commandName
        StandardStreams.err("Error: \(error.description)\nUsage: \(Skrrc.usageString(for: command))\n"
                            + "  See 'skrrc \(name) --help' for more information.\n")
        throw ExitCode.validationFailure
    }
}
