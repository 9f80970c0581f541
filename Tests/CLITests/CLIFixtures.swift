import Foundation
import SkrrTestSupport

/// Facts about the committed fixtures read with Foundation's JSON, independently of skrrc.
enum FixtureFacts {
    static func config(_ fixture: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(fixture + "/config.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Total parameters of the t5-v1_1 fixture, from its config: see Golden/t5-v1_1.check.
    static func t5Params() throws -> Int {
        let vocab = try config("t5-v1_1")["vocab_size"] as! Int
        return vocab * 48 + 8 * 3 + 3 * (11_568 + 10_416) + 48
    }

    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value))!
    }

    /// Copies a fixture folder into a fresh temporary directory so a test can break it.
    static func copy(_ fixture: String) throws -> String {
        let target = TestPaths.makeTemporaryDirectory() + "/" + URL(fileURLWithPath: fixture).lastPathComponent
        try FileManager.default.copyItem(atPath: TestPaths.fixture(fixture), toPath: target)
        return target
    }
}
