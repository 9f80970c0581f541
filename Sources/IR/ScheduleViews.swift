/// What a schedule does to the source's slots, as reports and summaries list it.
extension ModelIR {
    /// Slots that do not run their own sub-block: skipped, or re-running another one (re-used).
    public var skippedSlots: [Int] { schedule.indices.filter { schedule[$0] != .run($0) } }

    /// Every slot that re-runs another sub-block, with that sub-block, ascending by slot.
    public var reusedSlots: [(slot: Int, source: Int)] {
        schedule.enumerated().compactMap { slot, entry in
            if case let .run(source) = entry, source != slot { return (slot, source) }
            return nil
        }
    }
}
