import SkrrIR
import SkrrSupport
import SkrrTestSupport
import Testing

/// Syntax errors name the input, the line and column, and what was expected.
@Suite struct ParserErrorTests {
    func parseError(_ text: String) -> String? {
        do {
            _ = try IRParser.parse(text, source: "in.ir")
            return nil
        } catch let error as SkrrError {
            return error.description
        } catch {
            return "unexpected error type \(error)"
        }
    }

    @Test(arguments: [
        ("  source_params 380", "  source_params 380\n  bogus 1", "line 5, column 3: unknown declaration 'bogus'"),
        ("f32[10, 4]", "f31[10, 4]", "unknown dtype 'f31'"),
        ("slot 1 run 1", "slot 2 run 1", "slots must count up from 0: expected slot 1, found 2"),
        ("slot 1 run 1", "slot 1 drop 1", "expected 'run' or 'skip', found 'drop'"),
        ("root \"models/t5-tiny\"", "root \"models/t5-tiny", "unterminated string"),
        ("    num_heads 2\n", "", "config is missing 'num_heads'"),
        ("    last_layer_includes_final_norm true\n", "", "config is missing 'last_layer_includes_final_norm'"),
        ("    last_layer_includes_final_norm true", "    last_layer_includes_final_norm 1",
         "config 'last_layer_includes_final_norm' must be true or false"),
        ("    norm rms", "    norm rmss", "config 'norm' must be one of: rms, layer"),
        ("    norm_eps 1e-06", "    norm_eps 1e-06\n    norm_eps 1e-06", "config key 'norm_eps' given twice"),
        ("    gated_ffn true", "    gated_ffn yes", "config 'gated_ffn' must be true or false"),
        ("    hidden_size 4", "    hidden_size 4.5", "config 'hidden_size' must be an integer"),
        ("    hidden_size 4", "    hidden_sizes 4", "unknown config key 'hidden_sizes'"),
        ("model t5 ", "model t6 ", "unknown family 't6' (expected one of: t5, umt5, clip, bert)"),
        ("    token %shared.weight", "    token %shared.weight\n    token %shared.weight", "operand 'token' given twice"),
        ("    token %shared.weight", "    token shared.weight", "expected a tensor reference (%name), found 'shared.weight'"),
        ("  source_params 380\n", "", "the model has no 'source_params' declaration"),
        ("file 0 \"model.safetensors\"", "file 1 \"model.safetensors\"", "file indices must count up from 0: expected 0, found 1"),
        ("  root \"models/t5-tiny\"", "  root \"models/t5-tiny\"\n  root \"x\"", "'root' declared twice"),
        ("model t5 \"t5-tiny\" {", "model t5 \"t5-tiny\" {\n  $", "unexpected character '$'"),
    ])
    func syntaxErrorIsReported(_ mutation: (String, String, String)) throws {
        let text = try IRInputs.mutated(mutation.0, mutation.1)
        let message = try #require(parseError(text))
        #expect(message.hasPrefix("in.ir: line "), "\(message)")
        #expect(message.contains(mutation.2), "\(message)")
    }

    @Test func trailingContentAfterTheModelIsRefused() throws {
        let message = try #require(parseError(try IRInputs.text("t5-tiny.ir") + "model"))
        #expect(message.contains("unexpected 'model' after the model"))
    }

    @Test func emptyInputIsRefused() {
        #expect(parseError("")?.contains("expected 'model', found end of input") == true)
    }
}
