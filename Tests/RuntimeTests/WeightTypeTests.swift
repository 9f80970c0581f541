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
        // A checkpoint's int8 tensor has no row scales, so it is no int8 weight: only runtime files
        // (which store the scales beside it) hold int8 weights.
        #expect(WeightType.allCases.filter { !$0.isScaled }.allSatisfy { WeightType($0.dtype) == $0 })
        #expect(WeightType.int8.dtype == .i8 && WeightType(DType.i8) == nil)
        #expect(WeightType(DType.i32) == nil && WeightType(DType.f64) == nil && WeightType(DType.f8e4m3) == nil)
    }

    @Test func byteSizes() {
        #expect(WeightType.f32.byteSize == 4)
        #expect(WeightType.f16.byteSize == 2)
        #expect(WeightType.bf16.byteSize == 2)
        #expect(WeightType.int8.byteSize == 1)
    }
}
