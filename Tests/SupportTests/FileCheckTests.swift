import SkrrTestSupport
import Testing

/// The checker must fail when output is wrong, or every compiler-style test built on it is void.
@Suite struct FileCheckTests {
    let output = "alpha one\nbeta  two\ngamma three\ndelta four\n"

    @Test func orderedMatchesPass() {
        let check = FileCheck(checkSource: "// CHECK: alpha\n// CHECK-NEXT: beta\n// CHECK-SAME: two\n// CHECK: delta")
        #expect(check.match(output) == nil)
    }

    @Test func outOfOrderFails() {
        #expect(FileCheck(checkSource: "// CHECK: gamma\n// CHECK: alpha").match(output) != nil)
    }

    @Test func checkNextRequiresTheVeryNextLine() {
        #expect(FileCheck(checkSource: "// CHECK: alpha\n// CHECK-NEXT: gamma").match(output) != nil)
    }

    @Test func checkNotBetweenMatches() {
        #expect(FileCheck(checkSource: "// CHECK: alpha\n// CHECK-NOT: beta\n// CHECK: gamma").match(output) != nil)
        #expect(FileCheck(checkSource: "// CHECK: alpha\n// CHECK-NOT: zeta\n// CHECK: gamma").match(output) == nil)
        #expect(FileCheck(checkSource: "// CHECK: gamma\n// CHECK-NOT: delta").match(output) != nil)
    }

    @Test func checkSameLooksAfterThePreviousMatchOnly() {
        #expect(FileCheck(checkSource: "// CHECK: two\n// CHECK-SAME: beta").match(output) != nil)
    }

    @Test func noRulesIsAFailure() {
        #expect(FileCheck(checkSource: "nothing here").match(output) == "no CHECK lines found")
    }

    @Test func customPrefix() {
        let check = FileCheck(checkSource: "// ERR: delta\n// CHECK: nope", prefix: "ERR")
        #expect(check.rules.count == 1)
        #expect(check.match(output) == nil)
    }
}
