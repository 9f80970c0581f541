import ArgumentParser
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
        let pipeline: [PassInvocation]
        do {
            pipeline = try PipelineParser.parse(passes)
            try PassRegistry.validate(pipeline)
        } catch let error as SkrrError {
            throw ValidationError("--passes: \(error)")
        }
        try reportingErrors {
            let text: String
            if file == "-" {
                var lines: [String] = []
                while let line = readLine(strippingNewline: false) { lines.append(line) }
                text = lines.joined()
            } else {
                let bytes = try readWholeFile(file)
                guard let decoded = String(validating: bytes, as: UTF8.self) else {
                    throw SkrrError(file: file, "not valid UTF-8 text")
                }
                text = decoded
            }
            let source = file == "-" ? "<stdin>" : file
            var model = try IRParser.parse(text, source: source)
            try IRVerifier.verify(model, source: source)
            let context = PassContext()
            for invocation in pipeline {
                let pass = try PassRegistry.make(invocation)
                model = try pass.run(model, context: context)
                if verifyEach { try IRVerifier.verify(model, source: "after \(invocation.name)") }
                if printIRAfter == "all" || printIRAfter == invocation.name {
                    StandardStreams.err("// IR after \(invocation.description)\n" + IRPrinter.print(model))
                }
            }
            StandardStreams.out(IRPrinter.print(model))
        }
    }
}
