import SkrrFrontend
import SkrrIR
import SkrrSupport

/// What a compile starts from: a model (file, index, folder or pipeline folder), imported, or an
/// IR file, read as written. An IR file lets a schedule searched once be written again in other
/// forms (`skrrc pruned.ir --weight-dtype int8 -o pruned.skrr`) without searching again.
struct CompileInput {
    var ir: ModelIR
    /// Every file the compile reads (outputs are checked against them, `OutputPaths`).
    var inputFiles: [String]
    /// The imported checkpoint, whose values `scanWeights` checks; nil for an IR file, whose
    /// weights are checked where they are used (as `skrrc run FILE.ir` does): int8 quantization
    /// refuses NaN and infinities, and every run checks its outputs.
    private var imported: ImportedModel?

    static func load(_ options: CompileOptions) throws -> CompileInput {
        guard options.model.hasSuffix(".ir") else {
            let imported = try ModelImporter.importModel(at: options.model, encoder: options.encoder)
            return CompileInput(ir: imported.ir, inputFiles: imported.inputFiles, imported: imported)
        }
        if let encoder = options.encoder {
            throw SkrrError(file: options.model, key: "--encoder \(encoder)", "applies to a diffusers pipeline folder; an IR file holds one encoder")
        }
        let ir = IRFiles.resolvingRoot(try IRFiles.read(options.model), readFrom: options.model)
        return CompileInput(ir: ir, inputFiles: [options.model] + ir.inputFiles, imported: nil)
    }

    /// NaN and ±infinity in the checkpoint's weights are errors naming the tensor (`WeightScan`).
    func scanWeights() throws {
        if let imported { try WeightScan.check(imported) }
    }
}
