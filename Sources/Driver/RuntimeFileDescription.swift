import SkrrRuntime
import SkrrSupport

/// `skrrc inspect`: what a runtime file holds, in lines a person reads — format and sizes,
/// provenance, hyper-parameters, heads, preset, tokenizer, weights by dtype, every slot (run,
/// skipped, re-used) and, on request, every stored tensor with its checksum.
public enum RuntimeFileDescription {
    public static func text(_ runtime: RuntimeFile, listTensors: Bool) -> String {
        let p = runtime.program, info = runtime.info, s = p.spec
        var lines: [String] = []
        let h = info.header
        lines.append("file \(FileSystem.basename(runtime.path)): skrr runtime file, format \(h.version), \(Formatting.grouped(info.fileSize)) bytes")
        lines.append("  header 64 bytes, manifest \(Formatting.grouped(Int(h.manifestLength))) bytes, data \(Formatting.grouped(Int(h.dataLength))) bytes at offset \(h.dataOffset), alignment \(info.alignment)")
        lines.append("producer \(info.producer.isEmpty ? "(unknown)" : info.producer)")
        lines.append("source \(info.sourceModel.isEmpty ? "(unknown)" : info.sourceModel)")
        lines.append("passes \(info.passes.isEmpty ? "(none)" : info.passes)")
        lines.append(paramsLine(kept: p.tensors.reduce(0) { $0 + $1.elementCount }, total: info.paramsTotal))
        var positions = "learned positions"
        if let buckets = s.relativeBuckets, let distance = s.relativeMaxDistance {
            positions = "relative positions \(p.sharedPositionBias != nil ? "shared" : "per layer") (\(buckets) buckets, max distance \(distance))"
        }
        lines.append("encoder hidden \(s.hiddenSize), \(p.blockCount) blocks, \(s.numHeads) heads × \(s.headDim), ffn \(s.ffnSize)\(s.gatedFFN ? " gated" : "") \(s.activation.rawValue), vocab \(s.vocabSize), \(s.norm.rawValue) \(s.postNorm ? "post" : "pre")-norm, \(positions), \(s.causal ? "causal" : "bidirectional")")
        var heads: [String] = []
        switch p.pooling {
        case nil: break
        case .eosToken: heads.append("pooled (eos token)")
        case .argmaxToken: heads.append("pooled (largest token id)")
        case .firstTokenTanh: heads.append("pooled (tanh dense on the first token)")
        }
        if p.projection != nil { heads.append("projected") }
        if !heads.isEmpty { lines.append("heads \(heads.joined(separator: ", "))") }
        let preset = runtime.preset
        lines.append("preset \(preset.name): max_length \(preset.maxLength.map(String.init) ?? "none"), \(preset.padToMax ? "pad to max_length" : "pad to longest"), \(preset.useMask ? "padding masked" : "padding attended"); default output \(info.defaultOutput)")
        if let tokenizer = p.tokenizer {
            let files = info.tokenizerFiles.map { "\($0.name) \(Formatting.grouped($0.length)) bytes" }.joined(separator: ", ")
            lines.append("tokenizer \(tokenizer.kind.rawValue)\(tokenizer.lowercase ? " (lowercase)" : ""): \(files)")
        } else {
            lines.append("tokenizer none (run with --ids)")
        }
        // Bytes per stored dtype; an int8 tensor's row scales (4 bytes per row) count with it.
        var byType: [(type: WeightType, count: Int, bytes: Int, scaleBytes: Int)] = []
        for type in WeightType.allCases {
            let chosen = p.tensors.filter { $0.dtype == type }
            guard !chosen.isEmpty else { continue }
            let scaleBytes = type.isScaled ? chosen.reduce(0) { $0 + ($1.shape.first ?? 1) * 4 } : 0
            byType.append((type, chosen.count, chosen.reduce(0) { $0 + $1.elementCount * type.byteSize }, scaleBytes))
        }
        let weightBytes = byType.reduce(0) { $0 + $1.bytes + $1.scaleBytes }
        let parts = byType.map { entry in
            "\(entry.type.rawValue): \(entry.count) tensors, \(Formatting.grouped(entry.bytes)) bytes"
                + (entry.scaleBytes > 0 ? " + \(Formatting.grouped(entry.scaleBytes)) bytes of row scales" : "")
        }
        lines.append("weights \(p.tensors.count) tensors, \(Formatting.grouped(weightBytes)) bytes, dtype \(byType.count == 1 ? byType[0].type.rawValue : "mixed") (" + parts.joined(separator: "; ") + ")")

        let skipped = p.slots.indices.filter { p.slots[$0] == .skip }
        var reused: [(Int, Int)] = []
        for (index, slot) in p.slots.enumerated() {
            switch slot {
            case .skip: break
            case let .attention(_, source), let .ffn(_, source): if source != index { reused.append((index, source)) }
            }
        }
        lines.append("slots \(p.slots.count): \(p.slots.count - skipped.count) run, \(skipped.count) skipped, \(reused.count) re-used")
        for (index, slot) in p.slots.enumerated() {
            let kind = index % 2 == 0 ? "attention" : "ffn"
            let label = "  slot \(index) \(kind) block \(index / 2):"
            switch slot {
            case .skip:
                lines.append("\(label) skip")
            case let .attention(_, source), let .ffn(_, source):
                let params = Formatting.grouped(parameterCount(of: slot, in: p))
                if source == index {
                    lines.append("\(label) run, \(params) params")
                } else {
                    lines.append("\(label) re-use sub-block \(source) (\(kind) block \(source / 2)), \(params) params shared")
                }
            }
        }
        lines.append("skipped [\(skipped.map(String.init).joined(separator: ", "))]")
        lines.append("reused {\(reused.map { "\($0.0): \($0.1)" }.joined(separator: ", "))}")
        if listTensors {
            lines.append("tensors")
            for (index, tensor) in p.tensors.enumerated() {
                let extent = info.tensorExtents[index]
                let digits = String(extent.checksum, radix: 16)
                lines.append("  \(index) \(tensor.name) \(tensor.dtype.rawValue)\(formatShape(tensor.shape)) offset \(extent.offset) bytes \(extent.length) xxh64 \(String(repeating: "0", count: 16 - digits.count) + digits)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A pipeline file: its own header and totals, one line per encoder (role, size, what was
    /// pruned), then each encoder described as a file of its own.
    public static func text(_ pipeline: PipelineRuntimeFile, listTensors: Bool) -> String {
        let info = pipeline.info, h = info.header
        var lines: [String] = []
        lines.append("file \(FileSystem.basename(pipeline.path)): skrr pipeline file (\(pipeline.kind.rawValue)), format \(h.version), \(Formatting.grouped(info.fileSize)) bytes")
        lines.append("  header 64 bytes, manifest \(Formatting.grouped(Int(h.manifestLength))) bytes, data \(Formatting.grouped(Int(h.dataLength))) bytes at offset \(h.dataOffset), alignment \(info.alignment)")
        lines.append("producer \(info.producer.isEmpty ? "(unknown)" : info.producer)")
        lines.append("source \(info.sourceModel.isEmpty ? "(unknown)" : info.sourceModel)")
        lines.append("passes \(info.passes.isEmpty ? "(none)" : info.passes)")
        let kept = pipeline.members.reduce(0) { $0 + $1.file.program.tensors.reduce(0) { $0 + $1.elementCount } }
        lines.append(paramsLine(kept: kept, total: info.paramsTotal))
        lines.append("encoders \(pipeline.members.count)")
        for (member, placed) in zip(pipeline.members, info.members) {
            let program = member.file.program
            let role = member.name == pipeline.roles.t5 ? "t5" : "clip \((pipeline.roles.clip.firstIndex(of: member.name) ?? 0) + 1)"
            let memberKept = program.tensors.reduce(0) { $0 + $1.elementCount }
            let skipped = program.slots.filter { $0 == .skip }.count
            lines.append("  \(member.name): \(role), data bytes \(placed.extent.offset)..<\(placed.extent.offset + placed.extent.length), "
                         + paramsLine(kept: memberKept, total: member.file.info.paramsTotal).dropFirst("params ".count)
                         + ", \(skipped) of \(program.slots.count) slots skipped")
        }
        var text = lines.joined(separator: "\n") + "\n"
        for member in pipeline.members {
            text += "\n== encoder \(member.name) ==\n" + Self.text(member.file, listTensors: listTensors)
        }
        return text
    }

    static func paramsLine(kept: Int, total: Int) -> String {
        guard total > 0 else { return "params \(Formatting.grouped(kept)) kept" }
        let sparsity = Double(total - kept) / Double(total) * 100
        return "params \(Formatting.grouped(kept)) kept of \(Formatting.grouped(total)) (sparsity \(Formatting.twoDecimals(sparsity))%)"
    }

    static func parameterCount(of slot: ProgramSlot, in program: EncoderProgram) -> Int {
        var used: Set<Int> = []
        func add(_ values: Int?...) { for v in values { if let v { used.insert(v) } } }
        switch slot {
        case .skip: return 0
        case let .attention(w, _):
            add(w.norm.weight, w.norm.bias, w.q.weight, w.q.bias, w.k.weight, w.k.bias, w.v.weight, w.v.bias, w.o.weight, w.o.bias,
                w.relativeBias)
        case let .ffn(w, _):
            add(w.norm.weight, w.norm.bias, w.wi.weight, w.wi.bias, w.wiGate?.weight, w.wiGate?.bias, w.wo.weight, w.wo.bias)
        }
        return used.reduce(0) { $0 + program.tensors[$1].elementCount }
    }
}
