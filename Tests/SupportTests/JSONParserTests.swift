import SkrrSupport
import Testing

@Suite struct JSONParserTests {
    func error(_ text: String) -> String? {
        do {
            _ = try JSONParser.parse(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func parsesNestedValuesKeepingOrderAndSpelling() throws {
        let value = try JSONParser.parse(#"{"b": [1, 2.50, -3e2, true, null], "a": {"x": "y\u00e9\n"}}"#)
        let members = try #require(value.objectMembers)
        #expect(members.map(\.key) == ["b", "a"])
        #expect(value["b"] == .array([.number("1"), .number("2.50"), .number("-3e2"), .bool(true), .null]))
        #expect(value["a"]?["x"]?.stringValue == "yé\n")
        #expect(value["b"]?.arrayValue?[0].intValue == 1)
        #expect(value["b"]?.arrayValue?[1].intValue == nil)
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#).stringValue == "😀")
    }

    @Test(arguments: [
        (#"{"a": 1, "a": 2}"#, "duplicate key \"a\""),
        (#"{"a": 1,}"#, "expected a string key"),
        (#"[1, 2,]"#, "unexpected character ']'"),
        (#"{"a": NaN}"#, "unexpected character 'N'"),
        (#"{"a": 01}"#, "expected ',' or '}' in object"),
        (#"{"a": 1} x"#, "unexpected data after the JSON value"),
        (#"{"a": "\x"}"#, "invalid escape"),
        ("{\"a\": \"\u{01}\"}", "unescaped control character"),
        (#"{"a": "\ud800"}"#, "unpaired surrogate"),
        (#"{"a" 1}"#, "expected ':' after key \"a\""),
        ("", "unexpected end of input"),
        (#"{"a": "abc"#, "unterminated string"),
        (#"{"a": 1."#, "malformed number"),
        (String(repeating: "[", count: 100), "nesting deeper than 64"),
    ])
    func refusesInvalidJSON(_ testCase: (String, String)) {
        let message = error(testCase.0)
        #expect(message?.contains(testCase.1) == true, "\(message ?? "parsed")")
    }

    @Test func refusesInvalidUTF8AndReportsLineAndColumn() {
        let bytes: [UInt8] = Array("{\n  \"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        do {
            _ = try JSONParser.parse(bytes)
            Issue.record("invalid UTF-8 accepted")
        } catch {
            #expect("\(error)".contains("line 2, column 9: invalid UTF-8 continuation byte"), "\(error)")
        }
        // Overlong encoding of "/".
        #expect(throws: SkrrError.self) { try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22]) }
    }
}

@Suite struct JSONWriterTests {
    @Test func serialisedJSONParsesBackToTheSameValue() throws {
        let value = JSONValue.object([
            ("name", .string("a \"quoted\"\\ line\nwith\ttabs\u{01}")), ("n", .number(3)), ("x", .number(0.25)),
            ("list", .array([.number(1), .number(2)])), ("nested", .object([("ok", .bool(true)), ("none", .null)])),
            ("empty", .array([])), ("objects", .array([.object([("a", .number(1))])])),
        ])
        for indent in [nil, 2] as [Int?] {
            #expect(try JSONParser.parse(value.serialized(indent: indent)) == value)
        }
        #expect(JSONValue.number(Double.nan) == .null)
        #expect(value.serialized(indent: nil).hasPrefix("{\"name\":\"a \\\"quoted\\\"\\\\ line\\nwith\\ttabs\\u0001\""))
    }
}

@Suite struct JSONKeyIdentityTests {
    /// "é" (U+00E9) and "e" + U+0301 are equal Swift Strings but different JSON keys.
    @Test func canonicallyEquivalentKeysAreDistinct() throws {
        let value = try JSONParser.parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        #expect(value.objectMembers?.count == 2)
    }
}
