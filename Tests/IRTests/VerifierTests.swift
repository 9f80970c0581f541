import SkrrIR
import SkrrSupport
import SkrrTestSupport
import Testing

/// The verifier reports every problem of a model, each naming the entity and expected vs actual.
@Suite struct VerifierTests {
    func problems(_ original: String, _ replacement: String) throws -> [String] {
        IRVerifier.problems(in: try IRParser.parse(try IRInputs.mutated(original, replacement)))
    }

    @Test func reuseOfTheWrongKindIsRefused() throws {
        let found = try problems("slot 2 run 2", "slot 2 run 1")
        #expect(found == ["slot 2 (attention) re-uses sub-block 1, which is ffn"])
    }

    @Test func reuseSourceMustBeKeptInItsOwnSlot() throws {
        let found = try problems("slot 0 run 0    // attention block 0, 100 params\n    slot 1 run 1    // ffn block 0, 64 params\n    slot 2 run 2",
                                 "slot 0 skip\n    slot 1 run 1\n    slot 2 run 0")
        #expect(found == ["slot 2 re-uses sub-block 0, but slot 0 does not run it: re-use sources must be kept in their own slot"])
    }

    @Test func runningAMissingSubBlockIsRefused() throws {
        #expect(try problems("slot 3 run 3", "slot 3 run 9") == ["slot 3 runs sub-block 9, which does not exist"])
    }

    @Test func wrongShapeNamesRoleTensorAndBothShapes() throws {
        let found = try problems("%encoder.block.1.layer.0.SelfAttention.q.weight f32[6, 4] file 0 offset 864 bytes 96",
                                 "%encoder.block.1.layer.0.SelfAttention.q.weight f32[4, 6] file 0 offset 864 bytes 96")
        #expect(found == ["subblock 2: role 'q.weight' (%encoder.block.1.layer.0.SelfAttention.q.weight) has shape [4, 6], expected [6, 4]"])
    }

    @Test func byteLengthMustMatchShapeAndDtype() throws {
        let found = try problems("%shared.weight f32[10, 4] file 0 offset 0 bytes 160", "%shared.weight bf16[10, 4] file 0 offset 0 bytes 160")
        #expect(found == ["tensor %shared.weight: shape [10, 4] bf16 needs 80 bytes, location gives 160"])
    }

    /// Found by mutation (issue 15): `skrrc opt` accepted it and `run` trapped computing the end.
    @Test func anOffsetWhoseEndOverflowsIsRefused() throws {
        let found = try problems("%shared.weight f32[10, 4] file 0 offset 0 bytes 160",
                                 "%shared.weight f32[10, 4] file 0 offset 9223372036854775807 bytes 160")
        #expect(found == ["tensor %shared.weight: offset 9223372036854775807 + 160 bytes overflows a 64-bit file position"])
    }

    @Test func sizesAboveTheResourceLimitsAreRefused() throws {
        let found = try problems("relative_max_distance 8", "relative_max_distance 1000000000000")
        #expect(found == ["config relative_max_distance must be at most 16777216 (docs/limits.md), got 1000000000000"])
    }

    @Test func unsupportedDtypeAndMissingFileAreReported() throws {
        let found = try problems("%shared.weight f32[10, 4] file 0 offset 0 bytes 160", "%shared.weight i32[10, 4] file 3 offset 0 bytes 160")
        #expect(found.contains("tensor %shared.weight has dtype i32; supported weight types are f32, f16, bf16"))
        #expect(found.contains("tensor %shared.weight is in file 3, but the model declares 1 file(s)"))
    }

    @Test func missingUnexpectedAndUndeclaredRolesAreAllReportedTogether() throws {
        let found = try problems(
            "    norm.weight %encoder.block.0.layer.1.layer_norm.weight\n    wi_0.weight",
            "    gate.weight %encoder.block.0.layer.1.layer_norm.weight\n    wi_0.weight %nothing.here\n    wi_2.weight")
        #expect(found.contains { $0.contains("subblock 1: unexpected role 'gate.weight'") })
        #expect(found.contains("subblock 1: role 'wi_0.weight' refers to undeclared tensor %nothing.here"))
        #expect(found.contains("subblock 1: missing role 'norm.weight'"))
        #expect(found.count >= 4, "\(found)")
    }

    @Test func subBlockOrderAndCountFollowTheBlockStructure() throws {
        let found = try problems("    num_layers 2", "    num_layers 3")
        #expect(found.contains("4 sub-blocks declared, num_layers 3 needs 6"))
        #expect(found.contains("the schedule has 4 slots for 4 sub-blocks") == false)
        let swapped = try problems("subblock 1 ffn block 0", "subblock 1 attention block 0")
        #expect(swapped.contains { $0.hasPrefix("subblock 1 is 'attention block 0', expected 'ffn block 0'") })
    }

    @Test func configSanityAndTokenIds() throws {
        let found = try problems("    eos_token_id 1", "    eos_token_id 10")
        #expect(found == ["config eos_token_id 10 is outside the vocabulary of 10"])
        let relative = try problems("    relative_buckets 4\n", "")
        #expect(relative.contains("config positions relative_shared needs a positive relative_buckets"))
    }

    /// A post-norm encoder has no final norm, so its last layer cannot include one.
    @Test func lastLayerNormNeedsAFinalNorm() throws {
        let message = "config last_layer_includes_final_norm true needs a final norm, but norm_placement post has none"
        var model = try IRParser.parse(try IRInputs.text("t5-tiny.ir"))
        model.config.normPlacement = .post
        model.finalNorm = nil
        #expect(IRVerifier.problems(in: model).contains(message))
        model.config.lastLayerIncludesFinalNorm = false
        #expect(!IRVerifier.problems(in: model).contains { $0.contains("last_layer_includes_final_norm") })
    }

    @Test func sharedPositionBiasIsRequiredForT5() throws {
        let found = try problems("  position_bias {\n    table %encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight\n  }\n", "")
        #expect(found == ["positions relative_shared needs a position_bias declaration"])
    }

    @Test func duplicateTensorsAndSourceParamsAreChecked() throws {
        let duplicate = try problems("  tensors {\n", "  tensors {\n    %shared.weight f32[10, 4] file 0 offset 0 bytes 160\n")
        #expect(duplicate == ["tensor %shared.weight is declared twice"])
        let params = try problems("source_params 380", "source_params 379")
        #expect(params == ["source_params 379 is less than the 380 parameters still referenced"])
    }

    @Test func verifyThrowsOneErrorListingEveryProblem() throws {
        let model = try IRParser.parse(try IRInputs.mutated("slot 2 run 2", "slot 2 run 1").replacingOccurrences(of: "slot 3 run 3", with: "slot 3 run 7"))
        do {
            try IRVerifier.verify(model, source: "x.ir")
            Issue.record("verification passed")
        } catch let error as SkrrError {
            let text = error.description
            #expect(text.hasPrefix("x.ir: IR verification failed with 2 problems"))
            #expect(text.contains("  slot 2 (attention) re-uses sub-block 1, which is ffn"))
            #expect(text.contains("  slot 3 runs sub-block 7, which does not exist"))
        }
    }
}

@Suite struct EliminatedSubBlockTests {
    /// After dead-weight-elim a skipped sub-block names tensors that no longer exist: valid,
    /// because nothing runs it. A running sub-block with the same problem is an error.
    @Test func undeclaredTensorsAreOnlyAllowedInSubBlocksNothingRuns() throws {
        let withoutQ = try IRInputs.mutated("    %encoder.block.1.layer.0.SelfAttention.q.weight f32[6, 4] file 0 offset 864 bytes 96\n", "")
        #expect(IRVerifier.problems(in: try IRParser.parse(withoutQ)) == [
            "subblock 2: role 'q.weight' refers to undeclared tensor %encoder.block.1.layer.0.SelfAttention.q.weight",
        ])
        let skipped = try IRParser.parse(withoutQ.replacingOccurrences(of: "slot 2 run 2", with: "slot 2 skip"))
        #expect(IRVerifier.problems(in: skipped) == [])
        #expect(skipped.isEliminated(2))
        #expect(IRPrinter.print(skipped).contains("subblock 2 attention block 1 {  // eliminated: runs in no slot, weights dropped"))
    }
}
