import SkrrIR
import SkrrTestSupport
import Testing

@Suite struct RoundTripTests {
    @Test func canonicalTextIsAFixedPoint() throws {
        let text = try IRInputs.text("t5-tiny.ir")
        let model = try IRParser.parse(text)
        #expect(IRPrinter.print(model) == text)
    }

    @Test func handWrittenModelVerifies() throws {
        let model = try IRParser.parse(try IRInputs.text("t5-tiny.ir"))
        #expect(IRVerifier.problems(in: model) == [])
        #expect(model.sourceParameters == 380)
        #expect(model.keptParameters == 380)
        #expect(model.parameterCount(ofSubBlock: 0) == 100)
        #expect(model.parameterCount(ofSubBlock: 1) == 64)
    }

    @Test func commentsAndLayoutAreNotSignificant() throws {
        let text = try IRInputs.text("t5-tiny.ir")
        // Strip every comment and squeeze the whole model onto few lines: same model.
        let squeezed = text.split(separator: "\n").map { line -> String in
            if let range = line.range(of: "//") { return String(line[..<range.lowerBound]) }
            return String(line)
        }.joined(separator: " ")
        #expect(try IRParser.parse(squeezed) == IRParser.parse(text))
    }

    @Test func skippedAndReusedSlotsPrintTheirEffect() throws {
        let text = try IRInputs.mutated("slot 2 run 2    // attention block 1, 100 params\n    slot 3 run 3",
                                        "slot 2 skip\n    slot 3 run 1")
        let model = try IRParser.parse(text)
        #expect(IRVerifier.problems(in: model) == [])
        // 380 − 100 (attention 1 skipped) − 64 (ffn 1 replaced by a re-use of ffn 0) = 216 kept.
        #expect(model.keptParameters == 216)
        let printed = IRPrinter.print(model)
        let check = FileCheck(checkSource: """
            // CHECK: schedule {  // 4 slots: 2 run, 1 skipped, 1 re-used; 216 of 380 params kept (43.16% removed)
            // CHECK-NEXT: slot 0 run 0 // attention block 0, 100 params
            // CHECK-NEXT: slot 1 run 1 // ffn block 0, 64 params
            // CHECK-NEXT: slot 2 skip // attention block 1: skipped, 100 params removed
            // CHECK-NEXT: slot 3 run 1 // ffn block 1: skipped, re-uses sub-block 1 (ffn block 0)
            """)
        #expect(check.match(printed) == nil, "\(check.match(printed) ?? "")\n\(printed)")
        #expect(try IRPrinter.print(IRParser.parse(printed)) == printed)
    }

    @Test func unusualTensorNamesAreQuotedAndReadBack() throws {
        let text = try IRInputs.text("t5-tiny.ir").replacingOccurrences(of: "%shared.weight", with: "%\"shared weight/ü\\\"x\"")
        let model = try IRParser.parse(text)
        #expect(model.tensors[0].name == "shared weight/ü\"x")
        #expect(model.embeddings[0].tensor == "shared weight/ü\"x")
        #expect(IRPrinter.print(model) == text)
    }

    @Test(arguments: [true, false])
    func lastLayerAttributeIsPrintedAndReadBack(_ value: Bool) throws {
        var model = try IRParser.parse(try IRInputs.text("t5-tiny.ir"))
        model.config.lastLayerIncludesFinalNorm = value
        let printed = IRPrinter.print(model)
        #expect(printed.contains("\n    last_layer_includes_final_norm \(value)\n"))
        #expect(try IRParser.parse(printed).config.lastLayerIncludesFinalNorm == value)
    }

    @Test func floatAttributesRoundTripExactly() throws {
        for eps in [1e-6, 1e-12, 1e-5, 0.1, 3.0000000000000004e-7] {
            var model = try IRParser.parse(try IRInputs.text("t5-tiny.ir"))
            model.config.normEps = eps
            let reparsed = try IRParser.parse(IRPrinter.print(model))
            #expect(reparsed.config.normEps == eps)
        }
    }
}
