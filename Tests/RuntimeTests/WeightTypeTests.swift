import SkrrRuntime
import SkrrSupport
import Testing

/// The bridge between checkpoint dtypes and executed weight types.
@Suite struct WeightTypeTests {
    @Test func exactlyTheSupportedDTypesRunAndMapBack() {
        for dtype in DType.allCases {
            let type = WeightType(dtype)
            #expect((type != nil) == dtype.isSupportedWeightType, "\(dtype)")
            if let type { #expect(type.dtype == dtype) }
        }
        #expect(WeightType.allCases.allSatisfy { WeightType($0.dtype) == $0 })
        #expect(WeightType(DType.i32) == nil && WeightType(DType.f64) == nil && WeightType(DType.f8e4m3) == nil)
    }

    @Test func byteSizes() {
        #expect(WeightType.f32.byteSize == 4)
        #expect(WeightType.f16.byteSize == 2)
        #expect(WeightType.bf16.byteSize == 2)
    }
}
