import CManifest
import SkrrRuntime
import Testing

/// The enum tables the writer and the loader share: total over the Swift values (the writer
/// may meet any of them), one wire number per value, never the schema's UNSPECIFIED (0).
@Suite struct ManifestEnumTests {
    func expectBijective<Value, Wire>(_ table: ManifestEnum<Value, Wire>, over values: [Value], _ name: String) {
        let wires = values.map { table.wire($0).rawValue }
        #expect(Set(wires).count == values.count, "\(name): two values share a wire number")
        #expect(!wires.contains(0), "\(name): UNSPECIFIED (0) is written")
        #expect(table.cases.count == values.count, "\(name): the table lists values the Swift type does not have")
        for value in values { #expect(table.value(table.wire(value)) == value, "\(name): \(value) does not read back") }
        #expect(table.value(Wire(rawValue: 0)!) == nil, "\(name): UNSPECIFIED (0) reads as a value")
    }

    @Test func everyTableIsTotalAndOneToOne() {
        expectBijective(ManifestEnums.normKind, over: RuntimeNorm.allCases, "norm kind")
        expectBijective(ManifestEnums.normPlacement, over: [false, true], "norm placement")
        expectBijective(ManifestEnums.activation, over: RuntimeActivation.allCases, "activation")
        expectBijective(ManifestEnums.attentionScaling, over: [false, true], "attention scaling")
        expectBijective(ManifestEnums.positionEncoding, over: ManifestPositionEncoding.allCases, "position encoding")
        expectBijective(ManifestEnums.dtype, over: WeightType.allCases, "dtype")
        expectBijective(ManifestEnums.subBlockKind, over: [0, 1], "sub-block kind")
        expectBijective(ManifestEnums.tokenizerKind, over: TokenizerKindName.allCases, "tokenizer kind")
        expectBijective(ManifestEnums.outputKind, over: ManifestOutputKind.allCases, "output kind")
    }

    /// The wire numbers are the schema's (proto/manifest.proto), spot-checked by number: a
    /// table that swapped two entries would still be one-to-one.
    @Test func wireNumbersAreTheSchemas() {
        #expect(ManifestEnums.normKind.wire(.layer).rawValue == 2)
        #expect(ManifestEnums.normPlacement.wire(true).rawValue == 2)
        #expect(ManifestEnums.activation.wire(.gelu).rawValue == 2)
        #expect(ManifestEnums.activation.wire(.quickGelu).rawValue == 3)
        #expect(ManifestEnums.attentionScaling.wire(true).rawValue == 2)
        #expect(ManifestEnums.positionEncoding.wire(.relativePerLayer).rawValue == 2)
        #expect(ManifestEnums.positionEncoding.wire(.learned).rawValue == 3)
        #expect(ManifestEnums.dtype.wire(.bf16).rawValue == 3)
        #expect(ManifestEnums.subBlockKind.wire(1).rawValue == 2)
        #expect(ManifestEnums.tokenizerKind.wire(.wordpiece).rawValue == 3)
        #expect(ManifestEnums.outputKind.wire(.layer).rawValue == 4)
    }
}
