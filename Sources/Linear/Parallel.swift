import Dispatch
import Foundation

/// How many threads Linear's own element-wise kernels may use (BLAS threads are set separately, see `BLAS`).
///
/// Defaults to the number of active processors, capped at 8. Work below `minimumParallelCount` elements stays on
/// the calling thread, because waking a second thread costs more than it saves for small tensors.
public enum Parallel {
    nonisolated(unsafe) public static var threads: Int = Swift.min(8, Swift.max(1, ProcessInfo.processInfo.activeProcessorCount))
    /// Element count from which element-wise kernels split across threads.
    nonisolated(unsafe) public static var minimumParallelCount: Int = 1 << 16

    /// Runs `body` over `0..<count` split into at most `threads` contiguous chunks (aligned to 16 elements).
    @inlinable
    public static func forChunks(_ count: Int, minimum: Int = Parallel.minimumParallelCount, _ body: (Range<Int>) -> Void) {
        let t = threads
        if t <= 1 || count < minimum {
            body(0..<count)
            return
        }
        let chunks = Swift.min(t, (count + minimum / 2 - 1) / Swift.max(1, minimum / 2))
        if chunks <= 1 { body(0..<count); return }
        let chunk = ((count + chunks - 1) / chunks + 15) & ~15
        withoutActuallyEscaping(body) { body in
            // concurrentPerform returns only after every iteration ran: `body` does not outlive this call, and
            // each iteration writes a disjoint range, so sharing it across the iterations is safe.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * chunk
                let hi = Swift.min(count, lo + chunk)
                if lo < hi { body(lo..<hi) }
            }
        }
    }

    /// Runs `body(i)` for every i in 0..<iterations, on up to `iterations` threads of Dispatch's pool, and returns
    /// when all have finished (`DispatchQueue.concurrentPerform`). The iterations must be independent: each writes
    /// only its own part of shared memory. This is the one place where Substrate's own code starts threads, so the
    /// upper modules need neither Dispatch nor a `@Sendable` closure: `body` does not escape this call.
    public static func perform(iterations: Int, _ body: (Int) -> Void) {
        if iterations == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: iterations) { body($0) }
        }
    }
}
