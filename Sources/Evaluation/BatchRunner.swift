import Dispatch
import SkrrRuntime
import SkrrSupport
import Synchronization

/// Runs one program on many batches at once: one interpreter per thread, each batch computed by
/// one of them on one thread. A search scores many small batches (prompts grouped by length),
/// too small to split a single GEMM usefully, so spreading the batches is what keeps both cores
/// busy. Every batch is computed single-threaded in the same way wherever it runs, so scores do
/// not depend on the thread count.
///
/// Slots whose matrices are bf16/f16 on the packing kernel instead run once over the rows of all
/// batches together, split over the threads inside the products (`Interpreter.apply(_:toAll:)`):
/// per row the bits are the same, and the weights are read once per group of batches instead of
/// once per batch, which is what bounds a search on T5-XXL.
final class BatchRunner {
    let interpreters: [Interpreter]
    /// Runs row-wise slots over all batches at once with `threads` workers (nil: never).
    let rowWise: Interpreter?

    init(program: EncoderProgram, weights: WeightSource, threads: Int = Interpreter.defaultThreads,
         compute: ComputePrecision = .f32, fuseRows: Bool = true) throws {
        interpreters = try (0..<max(1, threads)).map { _ in
            let interpreter = try Interpreter(program: program, weights: weights)
            interpreter.workerLimit = 1
            interpreter.compute = compute
            return interpreter
        }
        if fuseRows {
            let interpreter = try Interpreter(program: program, weights: weights)
            interpreter.workerLimit = max(1, threads)
            interpreter.compute = compute
            rowWise = interpreter
        } else {
            rowWise = nil
        }
    }

    /// The interpreter for work done on one thread (embedding one batch, finishing a state).
    var primary: Interpreter { interpreters[0] }

    func begin(_ batches: [TokenBatch]) throws -> [ForwardState] {
        try batches.map { try primary.begin($0) }
    }

    /// Applies `slot` to every state; state `i` is handled by interpreter `i % threads`. A
    /// row-wise slot runs on all threads even for one state (a bounded candidate's chunk may be
    /// a single batch), with the same bits.
    func apply(_ slot: ProgramSlot, to states: inout [ForwardState]) throws {
        if let rowWise, states.count > 1 || interpreters.count > 1, rowWise.rowWiseFusable(slot) {
            try rowWise.apply(slot, toAll: &states)
            return
        }
        let workers = min(interpreters.count, states.count)
        if workers <= 1 {
            for i in states.indices { try primary.apply(slot, to: &states[i]) }
            return
        }
        let failures = FirstFailure()
        states.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedWork(states: buffer, interpreters: interpreters, slot: slot)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < shared.states.count {
                    do {
                        try shared.interpreters[worker].apply(shared.slot, to: &shared.states[i])
                    } catch {
                        failures.record(error)
                        return
                    }
                    i += workers
                }
            }
        }
        if let error = failures.error { throw error }
    }
}

/// What the workers share: each writes only the states with its own indices.
private struct SharedWork: @unchecked Sendable {
    let states: UnsafeMutableBufferPointer<ForwardState>
    let interpreters: [Interpreter]
    let slot: ProgramSlot
}

/// The first error any worker hit.
private final class FirstFailure: Sendable {
    private let stored = Mutex<(any Error)?>(nil)
    var error: (any Error)? { stored.withLock { $0 } }
    func record(_ error: any Error) { stored.withLock { if $0 == nil { $0 = error } } }
}
