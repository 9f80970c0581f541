/// Parameter accounting for sparsity (docs/architecture.md §4): parameters removed / all parameters of the
/// source encoder file, embeddings included. Re-use adds nothing: shared weights count once.
extension ModelIR {
    func elementCount(ofTensor name: String) -> Int { tensor(named: name)?.elementCount ?? 0 }

    /// Parameters owned by one sub-block (each distinct tensor once).
    public func parameterCount(ofSubBlock index: Int) -> Int {
        guard subBlocks.indices.contains(index) else { return 0 }
        return Set(subBlocks[index].operands.map(\.tensor)).reduce(0) { $0 + elementCount(ofTensor: $1) }
    }

    /// Names of every tensor the model still uses: embeddings, shared tables, heads, and the
    /// sub-blocks that some slot runs.
    public var referencedTensors: Set<String> {
        var names = Set(embeddings.map(\.tensor))
        names.formUnion((positionBias ?? []).map(\.tensor))
        names.formUnion((finalNorm ?? []).map(\.tensor))
        for head in heads { names.formUnion(head.operands.map(\.tensor)) }
        for slot in schedule {
            if case let .run(source) = slot, subBlocks.indices.contains(source) {
                names.formUnion(subBlocks[source].operands.map(\.tensor))
            }
        }
        return names
    }

    /// Tensors the model needs declared: the referenced ones and, transitively, the inputs of
    /// merged tensors among them. Inputs that no component uses directly are not stored in a
    /// runtime file and not counted as kept parameters.
    public var requiredTensors: Set<String> {
        var required = referencedTensors
        var pending = Array(required)
        while let name = pending.popLast() {
            for input in tensor(named: name)?.origin.inputs ?? [] where required.insert(input).inserted {
                pending.append(input)
            }
        }
        return required
    }

    /// Whether some slot runs sub-block `index` (in its own slot or as a re-use).
    public func isRun(_ index: Int) -> Bool { schedule.contains(.run(index)) }

    /// A sub-block no slot runs and whose tensors dead-weight-elim has dropped.
    public func isEliminated(_ index: Int) -> Bool {
        !isRun(index) && subBlocks[index].operands.contains { tensor(named: $0.tensor) == nil }
    }

    /// Parameters the pruned model still needs.
    public var keptParameters: Int { referencedTensors.reduce(0) { $0 + elementCount(ofTensor: $1) } }

    /// Fraction of the source encoder's parameters removed.
    public var sparsity: Double {
        sourceParameters > 0 ? Double(sourceParameters - keptParameters) / Double(sourceParameters) : 0
    }

    /// Sum of element counts of the declared tensors.
    public var declaredParameters: Int { tensors.reduce(0) { $0 + $1.elementCount } }
}
