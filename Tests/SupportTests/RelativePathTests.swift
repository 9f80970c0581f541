import SkrrSupport
import Testing

@Suite struct RelativePathTests {
    @Test func relativeToAFolder() {
        #expect(FileSystem.relativePath("/a/b/model", from: "/a/b/out/sub") == "../../model")
        #expect(FileSystem.relativePath("/a/b/model", from: "/a/b") == "model")
        #expect(FileSystem.relativePath("/a/b", from: "/a/b") == ".")
        #expect(FileSystem.relativePath("/x/y", from: "/a/b") == "../../x/y")
        #expect(FileSystem.relativePath("/a/./b/../c", from: "/a/d/") == "../c")
    }

    /// Relative paths are taken from the working directory, both of them.
    @Test func bothRelativeToTheWorkingDirectory() {
        #expect(FileSystem.relativePath("bench/out/t5-xxl", from: "bench/out/int8-xxl") == "../t5-xxl")
        #expect(FileSystem.relativePath("./model", from: ".") == "model")
        #expect(FileSystem.relativePath("model", from: "..") == FileSystem.basename(FileSystem.workingDirectory()) + "/model")
    }
}
