import SkrrIR

/// Drops every tensor no component or running slot references (keeping the inputs of merged
/// tensors that are still needed), and every file left without tensors. Re-used sub-blocks keep one copy of their weights; T5's shared position-bias table
/// belongs to the model (not to block 0's attention) and so survives when that sub-block is
/// skipped (docs/architecture.md §4).
public struct DeadWeightElim: ModelPass {
    public static let name = "dead-weight-elim"
    public static let summary = "drop tensors and files that nothing running references"

    public init() {}
    public init(options: PassOptions) {}

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        var result = model
        let required = model.requiredTensors
        result.tensors = model.tensors.filter { required.contains($0.name) }
        // Renumber the files that still hold a tensor, keeping their order.
        let usedFiles = Set(result.tensors.compactMap(\.location?.file))
        let keptFiles = model.files.indices.filter { usedFiles.contains($0) }
        var newIndex: [Int: Int] = [:]
        for (new, old) in keptFiles.enumerated() { newIndex[old] = new }
        result.files = keptFiles.map { model.files[$0] }
        for i in result.tensors.indices {
            if case var .file(location) = result.tensors[i].origin {
                location.file = newIndex[location.file]!
                result.tensors[i].origin = .file(location)
            }
        }
        let dropped = model.tensors.count - result.tensors.count
        context.record(EliminationRecord(pass: Self.name, droppedTensors: dropped, droppedFiles: model.files.count - result.files.count))
        return result
    }
}
