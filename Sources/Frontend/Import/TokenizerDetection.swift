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
