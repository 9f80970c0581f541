/// Prints a model in the IR text form: one declaration per line, one slot per line, with the
/// kind and parameter count of every sub-block and slot in trailing comments. Comments are
/// derived, never parsed, so print → parse → print is a fixed point.
public enum IRPrinter {
    public static func print(_ model: ModelIR) -> String {
        var lines: [String] = [TextSyntax.header]
        lines.append("model \(model.family.rawValue) \(TextSyntax.quote(model.name)) {")
        lines.append("  root \(TextSyntax.quote(model.root))")
        lines.append("  source_params \(model.sourceParameters)")
        for (index, file) in model.files.enumerated() { lines.append("  file \(index) \(TextSyntax.quote(file))") }
        if let tokenizer = model.tokenizer {
            var line = "  tokenizer \(tokenizer.kind.rawValue)"
            for file in tokenizer.files { line += " " + TextSyntax.quote(file) }
            if tokenizer.lowercase { line += " lowercase" }
            lines.append(line)
        }
        lines.append("  config {")
        for (key, value) in configEntries(model.config) { lines.append("    \(key) \(value)") }
        lines.append("  }")
        lines.append("  tensors {")
        for tensor in model.tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ", ")
            let origin: String
            switch tensor.origin {
            case let .file(loc):
                origin = "file \(loc.file) offset \(loc.offset) bytes \(loc.length)"
            case let .merge(base, deltas):
                origin = "merge base \(TextSyntax.tensorReference(base)) deltas ["
                    + deltas.map(TextSyntax.tensorReference).joined(separator: ", ") + "]"
            }
            lines.append("    \(TextSyntax.tensorReference(tensor.name)) \(tensor.dtype.irName)[\(shape)] " + origin)
        }
        lines.append("  }")
        let mergeInputs = Set(model.tensors.flatMap(\.origin.inputs))
        appendOperands("embeddings", model.embeddings, to: &lines)
        if let bias = model.positionBias { appendOperands("position_bias", bias, to: &lines) }
        for block in model.subBlocks {
            let params = "\(TextSyntax.grouped(model.parameterCount(ofSubBlock: block.index))) params"
            let comment: String
            if !model.isRun(block.index) && block.operands.contains(where: { mergeInputs.contains($0.tensor) }) {
                comment = "runs in no slot; weights kept only as merge inputs"
            } else if model.isEliminated(block.index) {
                comment = "eliminated: runs in no slot, weights dropped"
            } else if block.operands.contains(where: { model.tensor(named: $0.tensor)?.location == nil }) {
                comment = params + ", merged weights"
            } else {
                comment = params
            }
            appendOperands(
                "subblock \(block.index) \(block.kind.rawValue) block \(block.block)", block.operands,
                comment: comment, to: &lines)
        }
        if let norm = model.finalNorm { appendOperands("final_norm", norm, to: &lines) }
        for head in model.heads {
            let title = "head \(head.name) \(head.kind.rawValue)"
            if head.operands.isEmpty { lines.append("  " + title) } else { appendOperands(title, head.operands, to: &lines) }
        }
        lines.append("  schedule {  // " + scheduleSummary(model))
        for (slot, entry) in model.schedule.enumerated() {
            let statement: String
            switch entry {
            case .skip: statement = "slot \(slot) skip"
            case let .run(source): statement = "slot \(slot) run \(source)"
            }
            lines.append("    " + statement.padding(toLength: 16) + "// " + slotComment(model, slot: slot, entry: entry))
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func appendOperands(_ title: String, _ operands: [Operand], comment: String? = nil, to lines: inout [String]) {
        lines.append("  \(title) {" + (comment.map { "  // " + $0 } ?? ""))
        for operand in operands {
            lines.append("    \(operand.role) \(TextSyntax.tensorReference(operand.tensor))")
        }
        lines.append("  }")
    }

    static func describe(_ model: ModelIR, subBlock index: Int) -> String {
        guard model.subBlocks.indices.contains(index) else { return "sub-block \(index) (undefined)" }
        let block = model.subBlocks[index]
        return "\(block.kind.rawValue) block \(block.block)"
    }

    static func slotComment(_ model: ModelIR, slot: Int, entry: Slot) -> String {
        let own = describe(model, subBlock: slot)
        let params = TextSyntax.grouped(model.parameterCount(ofSubBlock: slot))
        switch entry {
        case .skip where model.isEliminated(slot):
            return "\(own): skipped, weights eliminated"
        case .skip:
            return "\(own): skipped, \(params) params removed"
        case let .run(source) where source == slot:
            return "\(own), \(params) params"
        case let .run(source):
            return "\(own): skipped, re-uses sub-block \(source) (\(describe(model, subBlock: source)))"
        }
    }

    static func scheduleSummary(_ model: ModelIR) -> String {
        var run = 0, skipped = 0, reused = 0
        for (slot, entry) in model.schedule.enumerated() {
            switch entry {
            case .skip: skipped += 1
            case let .run(source): if source == slot { run += 1 } else { reused += 1 }
            }
        }
        let kept = model.keptParameters
        return "\(model.schedule.count) slots: \(run) run, \(skipped) skipped, \(reused) re-used; "
            + "\(TextSyntax.grouped(kept)) of \(TextSyntax.grouped(model.sourceParameters)) params kept "
            + "(\(TextSyntax.percent(model.sparsity)) removed)"
    }

    /// The config in its fixed printing order. Optional fields appear only when set.
    static func configEntries(_ config: ModelConfig) -> [(String, String)] {
        var entries: [(String, String)] = [
            ("hidden_size", "\(config.hiddenSize)"),
            ("num_layers", "\(config.numLayers)"),
            ("num_heads", "\(config.numHeads)"),
            ("head_dim", "\(config.headDim)"),
            ("ffn_size", "\(config.ffnSize)"),
            ("vocab_size", "\(config.vocabSize)"),
            ("norm", config.norm.rawValue),
            ("norm_placement", config.normPlacement.rawValue),
            ("norm_eps", "\(config.normEps)"),
            ("activation", config.activation.rawValue),
            ("gated_ffn", "\(config.gatedFFN)"),
            ("linear_bias", "\(config.linearBias)"),
            ("attention_scale", config.attentionScale.rawValue),
            ("causal", "\(config.causal)"),
            ("positions", config.positions.rawValue),
            ("last_layer_includes_final_norm", "\(config.lastLayerIncludesFinalNorm)"),
        ]
        let optionals: [(String, Int?)] = [
            ("relative_buckets", config.relativeBuckets),
            ("relative_max_distance", config.relativeMaxDistance),
            ("max_positions", config.maxPositions),
            ("type_vocab_size", config.typeVocabSize),
            ("projection_dim", config.projectionDim),
            ("bos_token_id", config.bosTokenId),
            ("eos_token_id", config.eosTokenId),
            ("pad_token_id", config.padTokenId),
        ]
        for (key, value) in optionals { if let value { entries.append((key, "\(value)")) } }
        return entries
    }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
