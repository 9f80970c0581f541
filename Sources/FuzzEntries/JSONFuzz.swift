import SkrrSupport

extension FuzzTargets {
    /// The strict JSON reader every config, index and tokenizer file goes through. An accepted
    /// document must survive our own writer: serialise, parse again, get the same value.
    static let json = FuzzTarget(name: "json", summary: "strict JSON reader (JSONParser)", maxLength: 8_192) { input, check in
        let value = try JSONParser.parse(input)
        for indent in [nil, 2] as [Int?] {
            let text = value.serialized(indent: indent)
            let again: JSONValue
            do { again = try JSONParser.parse(text) } catch {
                throw check.violation("serialised form does not parse: \(error)")
            }
            try check(again == value, "value changed after serialise + parse (indent \(String(describing: indent)))")
        }
    }
}
