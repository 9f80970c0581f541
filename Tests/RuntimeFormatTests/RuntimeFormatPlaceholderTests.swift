import SkrrRuntime
import Testing

/// Until the runtime file lands: the runtime library reports the format version it reads.
@Suite struct RuntimeFormatVersionTests {
    @Test func formatVersionIsOne() {
        #expect(SkrrRuntimeInfo.formatVersion == 1)
    }
}
