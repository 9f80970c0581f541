import SkrrRuntime
import Testing

@Suite struct RuntimeFormatVersionTests {
    @Test func writerAndReaderAgreeOnTheVersion() {
        #expect(SkrrRuntimeInfo.formatVersion == 1)
        #expect(RuntimeFileFormat.magic == [0x89, 0x53, 0x4B, 0x52, 0x52, 0x0D, 0x0A, 0x1A])
    }
}
