import SkrrSupport

/// What skip-search saves after every step (`--checkpoint`): the kept beams with D along each,
/// what each step cost, and the result once a beam reaches the target. Doubles are written in
/// Swift's shortest round-trip form, so a restored search continues with the very same bits.
struct SearchState: Equatable {
    struct Step: Equatable {
        var candidates: Int
        var rescored: Int
        /// Sub-block runs of the full-set scorer, and of the screening scorer (on its prompts).
        var subBlockEvaluations: Int
        var screenedSubBlockEvaluations: Int
    }

    var beams = [SkipSearch.Beam(order: [], discrepancies: [])]
    var steps: [Step] = []
    var finished: SkipSearch.Beam?

    var json: JSONValue {
        .object([
            ("beams", .array(beams.map(Self.json))),
            ("steps", .array(steps.map {
                .object([("candidates", .number($0.candidates)), ("rescored", .number($0.rescored)),
                         ("subblock_evals", .number($0.subBlockEvaluations)),
                         ("screened_subblock_evals", .number($0.screenedSubBlockEvaluations))])
            })),
            ("finished", finished.map(Self.json) ?? .null),
        ])
    }

    static func json(_ beam: SkipSearch.Beam) -> JSONValue {
        .object([("order", .array(beam.order.map { .number($0) })), ("d", .array(beam.discrepancies.map { .number($0) }))])
    }

    /// The state saved by an earlier run; nil when there is none. A state that does not parse is
    /// an error (the journal's owner has already checked it belongs to this compile).
    static func restore(_ value: JSONValue?) throws -> SearchState? {
        guard let value else { return nil }
        func fail(_ what: String) -> SkrrError { SkrrError(key: "skip-search checkpoint", "\(what) is missing or malformed") }
        func beam(_ v: JSONValue) throws -> SkipSearch.Beam {
            guard let order = v["order"]?.arrayValue?.compactMap(\.intValue),
                  let d = v["d"]?.arrayValue?.compactMap(\.doubleValue), order.count == d.count else { throw fail("a beam") }
            return SkipSearch.Beam(order: order, discrepancies: d)
        }
        guard let beams = value["beams"]?.arrayValue, !beams.isEmpty, let steps = value["steps"]?.arrayValue else {
            throw fail("the beams or steps")
        }
        var state = SearchState()
        state.beams = try beams.map(beam)
        state.steps = try steps.map {
            guard let c = $0["candidates"]?.intValue, let r = $0["rescored"]?.intValue, let w = $0["subblock_evals"]?.intValue,
                  let s = $0["screened_subblock_evals"]?.intValue else {
                throw fail("a step")
            }
            return Step(candidates: c, rescored: r, subBlockEvaluations: w, screenedSubBlockEvaluations: s)
        }
        if let finished = value["finished"], finished != .null { state.finished = try beam(finished) }
        return state
    }
}
