import ArgumentParser
import SkrrFrontend
import SkrrIR
import SkrrSupport

/// `skrrc MODEL ...`: import a model and, for now, print its IR.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Import a model (and, with --emit-ir, print its IR).",
        discussion: """
            MODEL is a .safetensors file with config.json beside it, a *.safetensors.index.json \
            (sharded), a model folder with config.json, or a diffusers pipeline folder \
            (model_index.json with text_encoder*/ and tokenizer*/; pick one with --encoder).
            """)

    @Argument(help: "The model: .safetensors file, *.safetensors.index.json, or folder.")
    var model: String

    @Option(name: .long, help: "In a diffusers pipeline folder, the text encoder to use (e.g. text_encoder_3).")
    var encoder: String?

    @Flag(name: .long, help: "Print the IR to stdout.")
    var emitIR = false

    @Flag(name: .long, help: "Skip the scan of every weight for NaN/Inf (the scan reads the whole checkpoint).")
    var noWeightCheck = false

    func validate() throws {
        if !emitIR {
            throw ValidationError("this build imports and prints models only: pass --emit-ir (writing .skrr runtime files comes with the backend)")
        }
    }

    func run() throws {
        try reportingErrors {
            let imported = try ModelImporter.importModel(at: model, encoder: encoder)
            if !noWeightCheck { try WeightScan.check(imported) }
            StandardStreams.out(IRPrinter.print(imported.ir))
        }
    }
}
