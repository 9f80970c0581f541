import SkrrIR
import SkrrSupport

/// Finds the tokenizer files a family uses. A model without them still imports (its IR can be
/// pruned and run from ids); encoding prompts then reports the missing files.
enum TokenizerDetection {
    static func detect(_ location: ModelLocation, family: Family) throws -> TokenizerRef? {
        let dir = location.tokenizerDirectory
        func present(_ name: String) -> String? {
            let relative = dir.isEmpty ? name : FileSystem.join(dir, name)
            return FileSystem.isFile(location.path(relative)) ? relative : nil
        }
        switch family {
        case .t5, .umt5:
            return present("spiece.model").map { TokenizerRef(kind: .sentencepiece, files: [$0]) }
        case .clip:
            let vocab = present("vocab.json"), merges = present("merges.txt")
            // One of the pair alone is a damaged tokenizer, not a model without one.
            if (vocab == nil) != (merges == nil) {
                let missing = vocab == nil ? "vocab.json" : "merges.txt"
                throw SkrrError(file: location.path(dir.isEmpty ? missing : FileSystem.join(dir, missing)), key: "tokenizer",
                                "missing: a CLIP tokenizer needs vocab.json and merges.txt, and only one of them is here")
            }
            guard let vocab, let merges else { return nil }
            return TokenizerRef(kind: .clipBPE, files: [vocab, merges], lowercase: true)
        case .bert:
            guard let vocab = present("vocab.txt") else { return nil }
            var lowercase = true
            if let configFile = present("tokenizer_config.json") {
                let path = location.path(configFile)
                let reader = try ConfigReader(json: try readJSONFile(path), path: path)
                lowercase = try reader.bool("do_lower_case", default: true)
            }
            return TokenizerRef(kind: .wordpiece, files: [vocab], lowercase: lowercase)
        }
    }
}

extension TokenizerDetection {
    /// The id a CLIP tokenizer pads with: its `pad_token` (tokenizer_config.json, else
    /// special_tokens_map.json), by default `<|endoftext|>` as transformers' CLIPTokenizer has it.
    ///
    /// Why the importer needs it: SD3, FLUX and SDXL run CLIP on 77 positions padded by the
    /// tokenizer and without a mask, and SD3 hands the padded positions' states to the denoiser,
    /// so the pad id changes the conditioning. The tokenizer's pad is what diffusers feeds; a
    /// config's `pad_token_id` often is not (real CLIP-L configs say 1, their tokenizer pads with
    /// 49407, and SD3's CLIP-G tokenizer pads with "!").
    static func clipPadId(_ location: ModelLocation, _ tokenizer: TokenizerRef) throws -> Int {
        let dir = location.tokenizerDirectory
        func path(_ name: String) -> String { location.path(dir.isEmpty ? name : FileSystem.join(dir, name)) }
        var token = "<|endoftext|>"
        var source = "the CLIP default"
        for name in ["tokenizer_config.json", "special_tokens_map.json"] where FileSystem.isFile(path(name)) {
            let file = path(name)
            guard let value = try readJSONFile(file)["pad_token"], value != .null else { continue }
            if let text = value.stringValue {
                token = text
            } else if let text = value["content"]?.stringValue {
                token = text
            } else {
                throw SkrrError(file: file, key: "pad_token", "expected a string or an object with \"content\", got \(value.typeName)")
            }
            source = file
            break
        }
        let vocabPath = location.path(tokenizer.files[0])
        guard let id = try readJSONFile(vocabPath)[token]?.intValue else {
            throw SkrrError(file: vocabPath, key: token, "the pad token named by \(source) is not in the vocabulary")
        }
        return id
    }
}
