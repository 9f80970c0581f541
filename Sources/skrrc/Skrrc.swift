import ArgumentParser

/// `skrrc`: the compiler driver. The default subcommand compiles a model, so the contract's
/// `skrrc MODEL --emit-ir` works without naming it (docs/architecture.md §8).
@main
struct Skrrc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skrrc",
        abstract: "Shrink the text encoders of text-to-image models by skipping and re-using sub-blocks.",
        discussion: """
            Exit status: 0 success, 1 bad input or failed check, 64 bad usage.
            Progress goes to stderr; results go to stdout or to files.
            """,
        subcommands: [Compile.self, Run.self, Inspect.self, Opt.self],
        defaultSubcommand: Compile.self)
}
