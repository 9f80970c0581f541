import ArgumentParser
import SkrrDriver
import SkrrIR
import SkrrPasses
import SkrrSupport

/// `skrrc opt FILE.ir --passes PIPELINE`: textual IR in, textual IR out. With no passes it is
/// the identity on valid IR, which is what round-trip and pass tests are built on.
struct Opt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parse textual IR, verify it, run passes, print the result.")

    @Argument(help: "An IR file, or - for stdin.")
    var file: String

    @Option(name: .long, help: "Pass pipeline, e.g. 'dead-weight-elim'. Empty: print the verified input.")
    var passes: String = ""

    @Option(name: .long, help: "Print the IR after the named pass (or 'all') to stderr.")
    var printIRAfter: String?

    @Flag(name: .long, help: "Run the verifier after every pass.")
    var verifyEach = false

    func run() throws {
        var manager = PassManager(passes: [])
        try usage(of: Opt.self) {
            if let printIRAfter { try CompileOptions.validatePrintIRAfter(printIRAfter) }
            do {
                manager = try PassManager(parsing: passes)
            } catch let error as SkrrError {
                throw UsageError("--passes: \(error)")
            }
        }
        if verifyEach { manager.instrumentations.append(VerifyEachPass()) }
        if let printIRAfter { manager.instrumentations.append(PrintIRAfter(printIRAfter, sink: StandardStreams.err)) }
        try reportingErrors {
            let model = try IRFiles.read(file)
            StandardStreams.out(IRPrinter.print(try manager.run(model, context: PassContext())))
        }
    }
}
