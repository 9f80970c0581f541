import ArgumentParser
import SkrrDriver
import SkrrRuntime
import SkrrSupport

/// `skrrc inspect FILE.skrr [--verify]`: what a runtime file holds — slots, skipped and re-used
/// sub-blocks, sizes, dtypes, preset, tokenizer, tensor table; `--verify` checks every checksum.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a runtime file (.skrr) holds; --verify checks every tensor checksum.",
        discussion: """
            Every load checks the header, the manifest checksum and the structure (offsets, dtypes, \
            shapes, references). --verify also hashes every tensor (XXH64) and lists each one that \
            does not match; exit status 1 if any does. A pipeline file (several encoders) is \
            described encoder by encoder.
            """)

    @Argument(help: "A runtime file (.skrr), one encoder's or a pipeline's.")
    var file: String

    @Flag(name: .long, help: "Check the checksum of every tensor.")
    var verify = false

    @Flag(name: .long, help: "Also list every stored tensor (offset, size, checksum).")
    var tensors = false

    func run() throws {
        try reportingErrors {
            if PipelineRuntimeFile.isPipelineFile(file) {
                let pipeline = try PipelineRuntimeFile(path: file)
                StandardStreams.out(RuntimeFileDescription.text(pipeline, listTensors: tensors))
                if verify {
                    try pipeline.verify()
                    let count = pipeline.members.reduce(0) { $0 + $1.file.info.tensorExtents.count }
                    StandardStreams.out("verify: all \(count) tensor checksums of the \(pipeline.members.count) encoders match\n")
                }
                return
            }
            let runtime = try RuntimeFile(path: file)
            StandardStreams.out(RuntimeFileDescription.text(runtime, listTensors: tensors))
            if verify {
                try runtime.verify()
                StandardStreams.out("verify: all \(runtime.info.tensorExtents.count) tensor checksums match\n")
            }
        }
    }
}
