import SkrrIR
import SkrrPasses

/// A checksum of one scoring call (the base and every candidate, in order), sent along with the
/// scores so each rank can check that all ranks scored the same list. Every rank runs the same
/// deterministic search, so they always should; if they ever did not, results would depend on
/// the rank count, and the job stops instead of writing them.
enum CandidateDigest {
    /// FNV-1a (64 bit) of the slots, as a double holding its top 52 bits exactly.
    static func of(_ candidates: [[Slot]], base: [Slot]) -> Double { of([CandidateGroup(base: base, candidates: candidates)]) }

    /// The same over several groups: each base, then its candidates.
    static func of(_ groups: [CandidateGroup]) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: Int) {
            var v = UInt64(bitPattern: Int64(value))
            for _ in 0..<8 {
                hash = (hash ^ (v & 0xff)) &* 0x100_0000_01b3
                v >>= 8
            }
        }
        for schedule in groups.flatMap({ [$0.base] + $0.candidates }) {
            mix(schedule.count)
            for slot in schedule {
                switch slot {
                case .skip: mix(-1)
                case let .run(source): mix(source)
                }
            }
        }
        return Double(hash >> 12)
    }
}
