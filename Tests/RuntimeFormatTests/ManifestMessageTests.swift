import CManifest
import SkrrRuntime
import SkrrSupport
import Testing

/// The loader's exact words for each bad enum value and tokenizer file list. Users and scripts
/// read these messages, so they are pinned to the letter, not by fragments.
@Suite struct ManifestMessageTests {
    /// The key and message a broken file is refused with (nil if it loads).
    func refusal(_ edit: (UnsafeMutablePointer<Skrr__Manifest>) -> Void) -> (key: String?, message: String)? {
        var file = BrokenFileTests.good
        file.editManifest(edit)
        do {
            _ = try RuntimeFile(path: file.write())
            return nil
        } catch let error as SkrrError {
            return (error.key, error.message)
        } catch {
            return ("unexpected error type", "\(error)")
        }
    }

    func expectRefusal(_ key: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ edit: (UnsafeMutablePointer<Skrr__Manifest>) -> Void) {
        let found = refusal(edit)
        #expect(found?.key == key, sourceLocation: sourceLocation)
        #expect(found?.message == message, sourceLocation: sourceLocation)
    }

    @Test func hyperParameterEnums() {
        expectRefusal("manifest.hyper.norm_kind", "expected NORM_KIND_RMS (1) or NORM_KIND_LAYER (2), got 0") {
            $0.pointee.hyper.pointee.norm_kind = Skrr__NormKind(rawValue: 0)
        }
        expectRefusal("manifest.hyper.norm_placement", "expected PRE (1) or POST (2), got 3") {
            $0.pointee.hyper.pointee.norm_placement = Skrr__NormPlacement(rawValue: 3)
        }
        expectRefusal("manifest.hyper.activation", "expected 1...4, got 5") {
            $0.pointee.hyper.pointee.activation = Skrr__Activation(rawValue: 5)
        }
        expectRefusal("manifest.hyper.attention_scaling", "expected NONE (1) or INV_SQRT_HEAD_DIM (2), got 0") {
            $0.pointee.hyper.pointee.attention_scaling = Skrr__AttentionScaling(rawValue: 0)
        }
        expectRefusal("manifest.hyper.position_encoding", "expected 1...3, got 4") {
            $0.pointee.hyper.pointee.position_encoding = Skrr__PositionEncoding(rawValue: 4)
        }
    }

    @Test func tensorDTypes() {
        let name = "shared.weight"
        expectRefusal(name, "dtype i32 cannot hold weights (expected f32, f16, bf16 or i8)") {
            $0.pointee.tensors[tensorIndex($0, name)]!.pointee.dtype = SKRR__DTYPE__DTYPE_I32
        }
        expectRefusal(name, "unknown dtype 0 (expected f32 (1), f16 (2), bf16 (3) or i8 (5))") {
            $0.pointee.tensors[tensorIndex($0, name)]!.pointee.dtype = Skrr__DType(rawValue: 0)
        }
    }

    @Test func subBlockKind() {
        expectRefusal("manifest.sub_blocks[1].kind", "expected ATTENTION (1) or FFN (2), got 7") {
            $0.pointee.sub_blocks[1]!.pointee.kind = Skrr__SubBlockKind(rawValue: 7)
        }
    }

    @Test func tokenizerKindAndFiles() {
        expectRefusal("manifest.tokenizer.kind", "expected 1...3, got 0") {
            $0.pointee.tokenizer.pointee.kind = Skrr__TokenizerKind(rawValue: 0)
        }
        expectRefusal("manifest.tokenizer.files[0].name", "expected one of vocab.json, merges.txt once each, got 'spiece.model'") {
            $0.pointee.tokenizer.pointee.kind = SKRR__TOKENIZER_KIND__TOKENIZER_KIND_CLIP_BPE
        }
        expectRefusal("manifest.tokenizer.files[0].name", "expected one of vocab.txt once each, got 'spiece.model'") {
            $0.pointee.tokenizer.pointee.kind = SKRR__TOKENIZER_KIND__TOKENIZER_KIND_WORDPIECE
        }
        expectRefusal("manifest.tokenizer", "a sentencepiece tokenizer needs the file spiece.model") {
            // The dropped files are no longer reachable by free_unpacked: the edit frees them.
            let tokenizer = $0.pointee.tokenizer!
            for i in 0..<tokenizer.pointee.n_files { skrr__tokenizer_file__free_unpacked(tokenizer.pointee.files[i], nil) }
            tokenizer.pointee.n_files = 0
        }
    }

    @Test func presetOutput() {
        expectRefusal("manifest.preset.output", "expected 1...4, got 9") {
            $0.pointee.preset.pointee.output = Skrr__OutputKind(rawValue: 9)
        }
        // t5-v1_1 has 3 blocks: hidden states 0...3, or -4...-1 from the end.
        expectRefusal("manifest.preset.output_layer", "expected -4...3, got 4") {
            $0.pointee.preset.pointee.output = SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER
            $0.pointee.preset.pointee.output_layer = 4
        }
        expectRefusal("manifest.preset.name", "unknown pipeline 'dalle' (known: generic, pixart-sigma, sd3, flux, sdxl)") {
            _ = skrr_pb_set_string(&$0.pointee.preset.pointee.name, "dalle")
        }
        // Issue 15: a preset padding to a huge length made every run allocate for it and abort.
        expectRefusal("manifest.preset.max_length", "expected at most 1048576 (docs/limits.md), got 4000000000") {
            $0.pointee.preset.pointee.max_length = 4_000_000_000
            $0.pointee.preset.pointee.pad_to_max = 1
        }
    }

    @Test func layerCountAboveTheLimit() {
        expectRefusal("manifest.hyper.num_layers", "expected 1...1024, got 100000") {
            $0.pointee.hyper.pointee.num_layers = 100_000
        }
    }

    @Test func headNames() {
        expectRefusal("manifest.heads[0].name",
                      "unknown head 'pool.mean' (expected pool.eos_token, pool.argmax_token, pool.first_token_tanh or projected)") {
            let head = skrr_head_new("pool.mean")!
            _ = skrr_manifest_add_head($0, head)
        }
    }
}
