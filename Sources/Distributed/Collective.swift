import SkrrSupport

/// A group of ranks running the same program in lockstep: who this rank is, how many there are,
/// and the two collectives the sharded search needs. Every rank must make the same calls in the
/// same order (that is what makes them collective). `MPIWorld` is the real one; tests run an
/// in-process one over threads, so the sharding logic is tested without mpirun.
public protocol Collective: AnyObject {
    /// This rank, `0..<size`. Rank 0 is the one that writes results.
    var rank: Int { get }
    var size: Int { get }
    /// Every rank passes its own values, `counts[rank]` of them; every rank gets all ranks' values,
    /// rank 0's first, then rank 1's, and so on.
    func allGather(_ values: [Double], counts: [Int]) throws -> [Double]
    /// Rank `root`'s bytes, on every rank (what the others pass is ignored, its length too).
    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8]
}

extension Collective {
    /// Checks that every rank holds what rank 0 holds, part by part (the model, the prompts, the
    /// kernels...). A rank whose part differs throws an error naming the part and both values'
    /// descriptions; a rank count must never change results, and ranks that disagree on inputs
    /// would make it do so silently.
    public func agree(on parts: [AgreementPart]) throws {
        for part in parts {
            let leader = try broadcast(part.bytes, from: 0)
            guard leader == part.bytes else {
                throw SkrrError("mismatch in \(part.name) with rank 0 (rank 0: \(part.describe(leader)); rank \(rank): \(part.describe(part.bytes))). \(part.advice)")
            }
        }
    }
}

/// One thing every rank must hold identically, as bytes, with how to show it in a message.
public struct AgreementPart: Sendable {
    public var name: String
    public var bytes: [UInt8]
    /// What to do when it differs.
    public var advice: String
    /// Text parts are shown as they are; anything else by size and checksum.
    public var isText: Bool

    public init(name: String, text: String, advice: String) {
        self.name = name
        bytes = Array(text.utf8)
        self.advice = advice
        isText = true
    }

    public init(name: String, bytes: [UInt8], advice: String) {
        self.name = name
        self.bytes = bytes
        self.advice = advice
        isText = false
    }

    func describe(_ value: [UInt8]) -> String {
        if isText && value.count <= 80 { return "'\(String(decoding: value, as: UTF8.self))'" }
        let hash = value.withUnsafeBytes { XXH64.hash($0) }
        return "\(value.count) bytes, XXH64 \(String(hash, radix: 16))"
    }
}
