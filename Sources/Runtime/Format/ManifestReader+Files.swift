import CManifest
import SkrrSupport

/// What the manifest holds besides the program: the tokenizer's files, the pipeline preset,
/// provenance; and the check that no two stored ranges share bytes.
extension ManifestReader {
    typealias TokenizerFileInfo = (name: String, length: Int, extent: StoredExtent?)

    /// `manifest.tokenizer`: a known kind with exactly its files, each inline or in the data
    /// section (checksum checked now: the files are read into memory at load).
    func tokenizer(alignment: Int) throws -> (files: TokenizerFiles?, info: [TokenizerFileInfo]) {
        guard let t = m.tokenizer?.pointee else { return (nil, []) }
        let kind = try value(ManifestEnums.tokenizerKind, t.kind, "manifest.tokenizer.kind")
        let expectedNames = kind.fileNames
        var contents: [String: [UInt8]] = [:]
        var info: [TokenizerFileInfo] = []
        for i in 0..<t.n_files {
            let what = "manifest.tokenizer.files[\(i)]"
            guard let f = t.files[i] else { throw fail(what, "is missing") }
            let name = try string(f.pointee.name, "\(what).name")
            guard expectedNames.contains(name), contents[name] == nil else {
                throw fail("\(what).name", "expected one of \(expectedNames.joined(separator: ", ")) once each, got '\(name)'")
            }
            var length = 0
            if let data = skrr_tokenizer_file_data(f, &length) {
                contents[name] = Array(UnsafeBufferPointer(start: data, count: length))
                info.append((name, length, nil))
            } else if let x = skrr_tokenizer_file_extent(f)?.pointee {
                let stored = try extent(offset: x.offset, length: x.length, checksum: x.checksum, "tokenizer file \(name)", alignment: nil)
                let start = Int(header.dataOffset) + stored.offset
                let slice = UnsafeRawBufferPointer(rebasing: file[start..<(start + stored.length)])
                let actual = XXH64.hash(slice)
                guard actual == stored.checksum else {
                    throw fail("tokenizer file \(name)", "checksum mismatch: expected xxh64 \(hex(stored.checksum)), got \(hex(actual)); the file is corrupt")
                }
                contents[name] = Array(slice)
                info.append((name, stored.length, stored))
            } else {
                throw fail(what, "holds neither data nor an extent")
            }
        }
        for name in expectedNames where contents[name] == nil {
            throw fail("manifest.tokenizer", "a \(kind.rawValue) tokenizer needs the file \(name)")
        }
        let files = TokenizerFiles(kind: kind, paths: expectedNames.map { "\(path):\($0)" }, lowercase: t.lowercase != 0,
                                   contents: expectedNames.map { contents[$0]! })
        return (files, info)
    }

    /// `manifest.preset`: a known pipeline and the output `skrrc run` gives by default
    /// (absent: generic, hidden).
    func preset(layers: Int) throws -> (preset: PipelinePreset, output: OutputSelection) {
        guard let p = m.preset?.pointee else {
            return (PipelinePreset(kind: .generic, maxLength: nil, padToMax: false, useMask: true), .hidden)
        }
        let name = try string(p.name, "manifest.preset.name")
        guard let pipeline = PipelineKind(rawValue: name) else {
            throw fail("manifest.preset.name", "unknown pipeline '\(name)' (known: \(PipelineKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard p.pad_to_max == 0 || p.max_length > 0 else { throw fail("manifest.preset", "pad_to_max needs a max_length") }
        guard Int(p.max_length) <= ResourceLimits.positions else {
            throw fail("manifest.preset.max_length", "expected at most \(ResourceLimits.positions) (docs/limits.md), got \(p.max_length)")
        }
        let preset = PipelinePreset(kind: pipeline, maxLength: p.max_length == 0 ? nil : Int(p.max_length), padToMax: p.pad_to_max != 0,
                                    useMask: p.use_mask != 0)
        let kind = try value(ManifestEnums.outputKind, p.output, "manifest.preset.output")
        if kind == .layer && !(Int(p.output_layer) >= -(layers + 1) && Int(p.output_layer) <= layers) {
            throw fail("manifest.preset.output_layer", "expected -\(layers + 1)...\(layers), got \(p.output_layer)")
        }
        return (preset, OutputSelection(manifestKind: kind, layer: Int(p.output_layer)))
    }

    /// Stored ranges may not overlap: the writer never shares bytes between entries, so an
    /// overlap means a forged or damaged table (re-used weights are one entry, not two).
    func checkNoOverlap(tensors: [ProgramTensor], extents: [StoredExtent], scales: [StoredExtent?],
                        tokenizerFiles: [TokenizerFileInfo]) throws {
        var ranges = zip(tensors.map(\.name), extents).map { (name: "'\($0)'", extent: $1) }
        ranges += zip(tensors.map(\.name), scales).compactMap { name, extent in extent.map { (name: "'\(name)' scales", extent: $0) } }
        ranges += tokenizerFiles.compactMap { entry in entry.extent.map { (name: "tokenizer file \(entry.name)", extent: $0) } }
        ranges.sort { ($0.extent.offset, $0.extent.length) < ($1.extent.offset, $1.extent.length) }
        var previous: (name: String, extent: StoredExtent)?
        for range in ranges where range.extent.length > 0 {
            if let previous, range.extent.offset < previous.extent.offset + previous.extent.length {
                throw fail(range.name, "data bytes \(range.extent.offset)..<\(range.extent.offset + range.extent.length) overlap \(previous.name) at \(previous.extent.offset)..<\(previous.extent.offset + previous.extent.length)")
            }
            previous = range
        }
    }

    /// What `skrrc inspect` shows besides the program (producer and provenance strings checked here).
    func info(alignment: Int, extents: [StoredExtent], scales: [StoredExtent?], tokenizerFiles: [TokenizerFileInfo],
              preset: (preset: PipelinePreset, output: OutputSelection)) throws -> RuntimeFileInfo {
        let p = try provenance()
        return RuntimeFileInfo(
            fileSize: file.count, header: header, alignment: alignment, producer: p.producer, sourceModel: p.sourceModel,
            passes: p.passes, paramsTotal: p.paramsTotal, paramsKept: p.paramsKept,
            tensorExtents: extents, scaleExtents: scales, tokenizerFiles: tokenizerFiles, presetName: preset.preset.name, defaultOutput: preset.output)
    }

    /// `producer` and `provenance`, informational, in any format version; strings must be UTF-8.
    func provenance() throws -> (producer: String, sourceModel: String, passes: String, paramsTotal: Int, paramsKept: Int) {
        let prov = m.provenance?.pointee
        return (try string(m.producer, "manifest.producer"), try string(prov?.source_model, "manifest.provenance.source_model"),
                try string(prov?.passes, "manifest.provenance.passes"),
                Int(clamping: prov?.params_total ?? 0), Int(clamping: prov?.params_kept ?? 0))
    }
}
