import Foundation
import SkrrDistributed

/// Ranks as threads of this process, for testing what runs on a `Collective` without mpirun:
/// `InProcessWorld.run(size:)` starts one thread per rank, each with its own world, and returns
/// their results in rank order.
final class InProcessWorld: Collective, @unchecked Sendable {
    let rank: Int
    let size: Int
    private let hub: Hub

    private init(rank: Int, hub: Hub) {
        self.rank = rank
        size = hub.size
        self.hub = hub
    }

    /// Runs `body` on `size` threads, one rank each; rethrows the lowest rank's error, if any.
    static func run<T>(size: Int, _ body: @escaping @Sendable (InProcessWorld) throws -> T) throws -> [T] {
        let hub = Hub(size: size)
        let results = Results<T>(size: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let world = InProcessWorld(rank: rank, hub: hub)
            let thread = Thread {
                results.set(rank, Result { try body(world) })
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return try results.all()
    }

    func allGather(_ values: [Double], counts: [Int]) throws -> [Double] {
        precondition(values.count == counts[rank])
        return hub.exchange(rank, values).flatMap { $0 }
    }

    func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
        hub.exchange(rank, bytes)[root]
    }

    /// Where the ranks meet: each deposits its value; the last to arrive publishes all of them.
    private final class Hub: @unchecked Sendable {
        let size: Int
        private let condition = NSCondition()
        private var deposits: [Any?]
        private var published: [Any] = []
        private var arrived = 0, generation = 0

        init(size: Int) {
            self.size = size
            deposits = Array(repeating: nil, count: size)
        }

        func exchange<V>(_ rank: Int, _ value: V) -> [V] {
            condition.lock()
            defer { condition.unlock() }
            let round = generation
            deposits[rank] = value
            arrived += 1
            if arrived == size {
                published = deposits.map { $0! }
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == round { condition.wait() }
            }
            // `published` stays until the next round completes, which needs this rank again.
            return published.map { $0 as! V }
        }
    }

    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Result<T, any Error>?]
        init(size: Int) { stored = Array(repeating: nil, count: size) }
        func set(_ rank: Int, _ result: Result<T, any Error>) { lock.withLock { stored[rank] = result } }
        func all() throws -> [T] { try lock.withLock { try stored.map { try $0!.get() } } }
    }
}
