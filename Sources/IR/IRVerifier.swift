import SkrrSupport

/// Checks a model for every structural problem at once: config sanity, tensor declarations,
/// the roles and shapes of each component, and the schedule's re-use rules. Passes run it after
/// each step with `--verify-each`; the frontend runs it on every import.
public enum IRVerifier {
    /// All problems found, one message each; empty when the model is valid.
    public static func problems(in model: ModelIR) -> [String] {
        var checker = Checker(model: model)
        checker.run()
        return checker.problems
    }

    /// Throws one error listing every problem.
    public static func verify(_ model: ModelIR, source: String? = nil) throws {
        let found = problems(in: model)
        guard !found.isEmpty else { return }
        let plural = found.count == 1 ? "problem" : "problems"
        throw SkrrError(file: source, "IR verification failed with \(found.count) \(plural)", notes: found)
    }

    private struct Checker {
        let model: ModelIR
        var problems: [String] = []
        var tensorsByName: [String: TensorDecl] = [:]

        init(model: ModelIR) { self.model = model }

        mutating func report(_ message: String) { problems.append(message) }

        mutating func run() {
            checkConfig()
            checkTensors()
            checkComponent("embeddings", model.embeddings, Signatures.embeddings(model.config))
            checkPositionBias()
            checkSubBlocks()
            checkFinalNorm()
            checkHeads()
            checkSchedule()
            checkTokenizer()
            if model.sourceParameters < model.keptParameters {
                report("source_params \(model.sourceParameters) is less than the \(model.keptParameters) parameters still referenced")
            }
        }

        mutating func checkConfig() {
            let c = model.config
            let positives: [(String, Int)] = [
                ("hidden_size", c.hiddenSize), ("num_layers", c.numLayers), ("num_heads", c.numHeads),
                ("head_dim", c.headDim), ("ffn_size", c.ffnSize), ("vocab_size", c.vocabSize),
            ]
            for (key, value) in positives where value <= 0 { report("config \(key) must be positive, got \(value)") }
            // The limits every reader enforces (docs/limits.md), so IR text cannot ask for more than a config.json may.
            let bounded: [(String, Int?, Int)] = [
                ("hidden_size", c.hiddenSize, ResourceLimits.dimension), ("num_layers", c.numLayers, ResourceLimits.layers),
                ("num_heads", c.numHeads, ResourceLimits.dimension), ("head_dim", c.headDim, ResourceLimits.dimension),
                ("ffn_size", c.ffnSize, ResourceLimits.dimension), ("vocab_size", c.vocabSize, ResourceLimits.vocabulary),
                ("relative_buckets", c.relativeBuckets, ResourceLimits.relativeBuckets),
                ("relative_max_distance", c.relativeMaxDistance, ResourceLimits.relativeMaxDistance),
                ("max_positions", c.maxPositions, ResourceLimits.positions), ("type_vocab_size", c.typeVocabSize, ResourceLimits.tokenTypes),
                ("projection_dim", c.projectionDim, ResourceLimits.dimension),
            ]
            for (key, value, limit) in bounded {
                if let value, value > limit { report("config \(key) must be at most \(limit) (docs/limits.md), got \(value)") }
            }
            if !(c.normEps > 0) || !c.normEps.isFinite { report("config norm_eps must be a positive finite number, got \(c.normEps)") }
            switch c.positions {
            case .relativeShared, .relativePerLayer:
                if (c.relativeBuckets ?? 0) <= 0 { report("config positions \(c.positions.rawValue) needs a positive relative_buckets") }
                if (c.relativeMaxDistance ?? 0) <= 0 { report("config positions \(c.positions.rawValue) needs a positive relative_max_distance") }
            case .learned:
                if (c.maxPositions ?? 0) <= 0 { report("config positions learned needs a positive max_positions") }
            }
            if c.norm == .rms && c.linearBias { report("config norm rms with linear_bias true is not a supported combination") }
            if c.lastLayerIncludesFinalNorm && !Signatures.hasFinalNorm(c) {
                report("config last_layer_includes_final_norm true needs a final norm, "
                       + "but norm_placement \(c.normPlacement.rawValue) has none")
            }
            for (key, value) in [("bos_token_id", c.bosTokenId), ("eos_token_id", c.eosTokenId), ("pad_token_id", c.padTokenId)] {
                if let value, value < 0 || value >= c.vocabSize { report("config \(key) \(value) is outside the vocabulary of \(c.vocabSize)") }
            }
        }

        mutating func checkTensors() {
            for tensor in model.tensors {
                if tensorsByName[tensor.name] != nil {
                    report("tensor %\(tensor.name) is declared twice")
                    continue
                }
                tensorsByName[tensor.name] = tensor
                if !tensor.dtype.isSupportedWeightType {
                    report("tensor %\(tensor.name) has dtype \(tensor.dtype.irName); supported weight types are f32, f16, bf16")
                }
                guard case let .file(loc) = tensor.origin else {
                    checkMerge(tensor)
                    continue
                }
                if !model.files.indices.contains(loc.file) {
                    report("tensor %\(tensor.name) is in file \(loc.file), but the model declares \(model.files.count) file(s)")
                }
                if loc.offset < 0 || loc.length < 0 {
                    report("tensor %\(tensor.name) has a negative offset or length")
                } else if loc.offset.addingReportingOverflow(loc.length).overflow {
                    // No file is that large; the runtime would otherwise overflow computing the end.
                    report("tensor %\(tensor.name): offset \(loc.offset) + \(loc.length) bytes overflows a 64-bit file position")
                }
                if let count = checkedElementCount(tensor.shape) {
                    let (bytes, overflow) = count.multipliedReportingOverflow(by: tensor.dtype.byteSize)
                    if overflow || bytes != loc.length {
                        report("tensor %\(tensor.name): shape \(formatShape(tensor.shape)) \(tensor.dtype.irName) needs \(overflow ? "too many" : String(bytes)) bytes, location gives \(loc.length)")
                    }
                } else {
                    report("tensor %\(tensor.name) has an invalid shape \(formatShape(tensor.shape))")
                }
            }
        }

        /// A merged tensor's inputs must be declared before it (so merges cannot form a cycle),
        /// be distinct, and have its shape.
        mutating func checkMerge(_ tensor: TensorDecl) {
            if checkedElementCount(tensor.shape) == nil {
                report("tensor %\(tensor.name) has an invalid shape \(formatShape(tensor.shape))")
            }
            let inputs = tensor.origin.inputs
            if inputs.count < 2 { report("tensor %\(tensor.name): a merge needs at least one delta") }
            var seen = Set<String>()
            for input in inputs {
                if !seen.insert(input).inserted { report("tensor %\(tensor.name): merge input %\(input) appears twice") }
                guard let declared = tensorsByName[input], input != tensor.name else {
                    report("tensor %\(tensor.name): merge input %\(input) is not declared before it")
                    continue
                }
                if declared.shape != tensor.shape {
                    report("tensor %\(tensor.name) \(formatShape(tensor.shape)): merge input %\(input) has shape \(formatShape(declared.shape))")
                }
            }
        }

        /// `eliminated`: the component runs nowhere, so its tensors may have been dropped by
        /// dead-weight-elim; references to undeclared tensors are then expected, not errors.
        mutating func checkComponent(_ what: String, _ operands: [Operand], _ expected: [RoleSpec], eliminated: Bool = false) {
            var seen = Set<String>()
            for operand in operands {
                if !seen.insert(operand.role).inserted { report("\(what): role '\(operand.role)' appears twice") }
                guard let spec = expected.first(where: { $0.role == operand.role }) else {
                    report("\(what): unexpected role '\(operand.role)' (expected \(expected.map(\.role).joined(separator: ", ")))")
                    continue
                }
                guard let tensor = tensorsByName[operand.tensor] else {
                    if !eliminated { report("\(what): role '\(operand.role)' refers to undeclared tensor %\(operand.tensor)") }
                    continue
                }
                if tensor.shape != spec.shape {
                    report("\(what): role '\(operand.role)' (%\(operand.tensor)) has shape \(formatShape(tensor.shape)), expected \(formatShape(spec.shape))")
                }
            }
            for spec in expected where !seen.contains(spec.role) {
                report("\(what): missing role '\(spec.role)'")
            }
        }

        mutating func checkPositionBias() {
            let needs = Signatures.hasSharedPositionBias(model.config)
            switch (needs, model.positionBias) {
            case (true, nil): report("positions relative_shared needs a position_bias declaration")
            case (false, .some): report("position_bias is declared but positions is \(model.config.positions.rawValue)")
            case let (true, .some(operands)): checkComponent("position_bias", operands, Signatures.positionBias(model.config))
            case (false, nil): break
            }
        }

        mutating func checkSubBlocks() {
            let expectedCount = model.config.numLayers * 2
            if model.subBlocks.count != expectedCount {
                report("\(model.subBlocks.count) sub-blocks declared, num_layers \(model.config.numLayers) needs \(expectedCount)")
            }
            for (position, block) in model.subBlocks.enumerated() {
                let what = "subblock \(block.index)"
                if block.index != position { report("\(what) is declared in position \(position); sub-blocks must be numbered 0, 1, 2, ...") }
                let kind: SubBlockKind = position % 2 == 0 ? .attention : .ffn
                if block.kind != kind || block.block != position / 2 {
                    report("\(what) is '\(block.kind.rawValue) block \(block.block)', expected '\(kind.rawValue) block \(position / 2)' (sub-block 2i is block i's attention, 2i+1 its ffn)")
                }
                checkComponent(what, block.operands, Signatures.subBlock(block.kind, model.config),
                               eliminated: !model.isRun(block.index))
            }
        }

        mutating func checkFinalNorm() {
            let needs = Signatures.hasFinalNorm(model.config)
            switch (needs, model.finalNorm) {
            case (true, nil): report("norm_placement pre needs a final_norm declaration")
            case (false, .some): report("final_norm is declared but norm_placement is post")
            case let (true, .some(operands)): checkComponent("final_norm", operands, Signatures.finalNorm(model.config))
            case (false, nil): break
            }
        }

        mutating func checkHeads() {
            var names = Set<String>()
            for head in model.heads {
                if !names.insert(head.name).inserted { report("head '\(head.name)' is declared twice") }
                checkComponent("head \(head.name)", head.operands, Signatures.head(head.kind, model.config))
                if head.kind == .projection {
                    if model.config.projectionDim == nil { report("head \(head.name): projection needs config projection_dim") }
                    if !model.heads.contains(where: { [.eosToken, .argmaxToken, .firstTokenTanh].contains($0.kind) }) {
                        report("head \(head.name): projection needs a pooled head to project")
                    }
                }
                if head.kind == .eosToken && model.config.eosTokenId == nil {
                    report("head \(head.name): eos_token pooling needs config eos_token_id")
                }
            }
        }

        mutating func checkSchedule() {
            if model.schedule.count != model.subBlocks.count {
                report("the schedule has \(model.schedule.count) slots for \(model.subBlocks.count) sub-blocks")
            }
            for (slot, entry) in model.schedule.enumerated() {
                guard case let .run(source) = entry else { continue }
                guard model.subBlocks.indices.contains(source) else {
                    report("slot \(slot) runs sub-block \(source), which does not exist")
                    continue
                }
                guard source != slot else { continue }
                let slotKind: SubBlockKind = slot % 2 == 0 ? .attention : .ffn
                if model.subBlocks[source].kind != slotKind {
                    report("slot \(slot) (\(slotKind.rawValue)) re-uses sub-block \(source), which is \(model.subBlocks[source].kind.rawValue)")
                }
                if model.schedule.indices.contains(source), model.schedule[source] != .run(source) {
                    report("slot \(slot) re-uses sub-block \(source), but slot \(source) does not run it: re-use sources must be kept in their own slot")
                }
            }
        }

        mutating func checkTokenizer() {
            guard let tokenizer = model.tokenizer else { return }
            let expected: Int
            switch tokenizer.kind {
            case .sentencepiece, .wordpiece: expected = 1
            case .clipBPE: expected = 2
            }
            if tokenizer.files.count != expected {
                report("tokenizer \(tokenizer.kind.rawValue) needs \(expected) file(s), got \(tokenizer.files.count)")
            }
        }
    }
}
