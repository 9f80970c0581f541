import CManifest
import SkrrSupport

/// Turns a parsed protobuf manifest into an `EncoderProgram`, trusting nothing: every enum,
/// string, index, offset and length is checked, and errors name the field or tensor at fault.
/// Shapes are checked afterwards against the hyper-parameters (`ProgramValidation`).
enum ManifestDecoder {
    struct Result {
        var program: EncoderProgram
        var preset: PipelinePreset
        var info: RuntimeFileInfo
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, header: RuntimeFileHeader, file: UnsafeRawBufferPointer,
                       path: String) throws -> Result {
        guard let base = bytes.baseAddress,
              let m = skrr_manifest_unpack(base.assumingMemoryBound(to: UInt8.self), bytes.count) else {
            throw SkrrError(file: path, key: "manifest",
                            "the \(bytes.count) manifest bytes are not a valid protobuf skrr.Manifest (corrupt file?)")
        }
        defer { skrr_manifest_free_unpacked(m) }
        return try ManifestReader(m: m.pointee, header: header, file: file, path: path).read()
    }
}

/// One manifest being read. Each part has its own function (ManifestReader+*.swift); `read`
/// calls them in the order the checks have always run, so a file with several faults is still
/// refused for the same first one.
struct ManifestReader {
    let m: Skrr__Manifest
    let header: RuntimeFileHeader
    /// The whole mapped file (tokenizer files are read from its data section).
    let file: UnsafeRawBufferPointer
    let path: String

    func read() throws -> ManifestDecoder.Result {
        let alignment = try checkContainer()
        let hyper = try hyperParameters()
        let table = try tensorTable(alignment: alignment)
        let count = table.tensors.count
        let roles = ManifestRoles(hyper.spec)
        let subBlocks = try subBlocks(hyper, roles: roles, tensorCount: count)
        let slots = try slots(running: subBlocks, layers: hyper.layers)
        let embeddings = try embeddings(hyper.positions, roles: roles, tensorCount: count)
        let finalNorm = try finalNorm(roles: roles, tensorCount: count)
        let heads = try heads(tensorCount: count)
        let tokenizer = try tokenizer(alignment: alignment)
        let preset = try preset(layers: hyper.layers)
        try checkNoOverlap(tensors: table.tensors, extents: table.extents, scales: table.scales, tokenizerFiles: tokenizer.info)
        let info = try info(alignment: alignment, extents: table.extents, scales: table.scales, tokenizerFiles: tokenizer.info,
                            preset: preset)
        let program = EncoderProgram(
            spec: hyper.spec, tensors: table.tensors, embeddings: embeddings.weights, sharedPositionBias: embeddings.sharedBias,
            slots: slots, finalNorm: finalNorm, pooling: heads.pooling, projection: heads.projection, tokenizer: tokenizer.files)
        return ManifestDecoder.Result(program: program, preset: preset.preset, info: info)
    }

    // MARK: helpers every part uses

    func fail(_ key: String, _ message: String) -> SkrrError { SkrrError(file: path, key: key, message) }

    /// A manifest string (absent: empty), refused unless it is UTF-8.
    func string(_ raw: UnsafeMutablePointer<CChar>?, _ key: String) throws -> String {
        guard let raw else { return "" }
        guard let value = String(validatingCString: raw) else { throw fail(key, "is not valid UTF-8") }
        return value
    }

    /// The value of an enum field, refused with the table's description of the valid values.
    func value<Value, Wire>(_ table: ManifestEnum<Value, Wire>, _ wire: Wire, _ key: String) throws -> Value {
        guard let value = table.value(wire) else { throw fail(key, "expected \(table.expected), got \(wire.rawValue)") }
        return value
    }

    /// A byte range of the data section, refused unless it lies inside it (and is aligned, for tensors).
    func extent(offset: UInt64, length: UInt64, checksum: UInt64, _ key: String, alignment: Int?) throws -> StoredExtent {
        let dataSize = header.dataLength
        guard offset <= dataSize, length <= dataSize - offset else {
            throw fail(key, "bytes \(offset)..<\(offset &+ length) of the data section lie outside its \(dataSize) bytes")
        }
        if let alignment, offset % UInt64(alignment) != 0 {
            throw fail(key, "offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        return StoredExtent(offset: Int(offset), length: Int(length), checksum: checksum)
    }

    /// A component's operands: each role known, given once, and naming a tensor in the table.
    func operands(_ n: Int, _ list: UnsafeMutablePointer<UnsafeMutablePointer<Skrr__Operand>?>?, allowed: Set<String>,
                  _ what: String, tensorCount: Int) throws -> ManifestOperands {
        var found: [String: Int] = [:]
        for i in 0..<n {
            guard let op = list?[i]?.pointee else { throw fail("\(what).operands[\(i)]", "is missing") }
            let role = try string(op.role, "\(what).operands[\(i)].role")
            guard allowed.contains(role) else {
                throw fail("\(what).operands[\(i)]", "unknown role '\(role)' (expected one of \(allowed.sorted().joined(separator: ", ")))")
            }
            guard found[role] == nil else { throw fail("\(what).\(role)", "role given twice") }
            guard Int(op.tensor) < tensorCount else {
                throw fail("\(what).\(role)", "refers to tensor \(op.tensor), but the tensor table has \(tensorCount) tensors (missing tensor)")
            }
            found[role] = Int(op.tensor)
        }
        return ManifestOperands(roles: found, what: what, path: path)
    }
}

/// One component's operands, role → tensor index, and the lookups that build its weights.
struct ManifestOperands {
    let roles: [String: Int]
    /// The component, for messages ("manifest.sub_blocks[3]").
    let what: String
    let path: String

    subscript(role: String) -> Int? { roles[role] }

    func required(_ role: String) throws -> Int {
        guard let index = roles[role] else { throw SkrrError(file: path, key: what, "has no tensor for role '\(role)'") }
        return index
    }

    /// Roles `<prefix>weight` (required) and `<prefix>bias` (optional).
    func weightAndBias(_ prefix: String) throws -> (weight: Int, bias: Int?) {
        (try required(prefix + "weight"), roles[prefix + "bias"])
    }

    func norm(_ prefix: String) throws -> NormWeights {
        let (weight, bias) = try weightAndBias(prefix)
        return NormWeights(weight: weight, bias: bias)
    }

    /// The linear layer `name` (roles `name.weight`, `name.bias`).
    func linear(_ name: String) throws -> LinearWeights {
        let (weight, bias) = try weightAndBias(name + ".")
        return LinearWeights(weight: weight, bias: bias)
    }
}
