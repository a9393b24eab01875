import Dispatch
import Foundation
import Linear
import Testing

/// Tensor values used from many threads at once: copy-on-write must give every thread its own buffer on write
/// and never let a write show through another thread's copy.
@Suite struct ConcurrencyTests {
    @Test func copiesMutatedOnManyThreadsNeverDisturbEachOtherOrTheOriginal() throws {
        let original = Tensor<Double>.normal([64, 32], seed: 1)
        let reference = original.scalars
        let threads = 8, rounds = 200
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var mine = original                     // shares storage until the first write
            var acc = 0.0
            for r in 0..<rounds {
                mine[t, r % 32] = Double(t * 1000 + r)   // write: must copy away from the shared buffer first
                let other = mine                        // share again, then read through both
                acc += other[t, r % 32] - mine[t, r % 32]
                mine *= 1.0
            }
            results[t] = acc + mine[t, (rounds - 1) % 32]
        }
        #expect(original.scalars == reference, "a write on another thread changed the original")
        for t in 0..<threads { #expect(results[t] == Double(t * 1000 + rounds - 1)) }
    }

    @Test func sharedReadOnlyTensorsGiveIdenticalResultsOnEveryThread() throws {
        let a = Tensor<Float>.normal([128, 96], seed: 2), b = Tensor<Float>.normal([96, 64], seed: 3)
        let expected = try matmul(a, b).silu().sum(axis: 0)
        let ok = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 16)
        defer { ok.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            let got = try? matmul(a, b).silu().sum(axis: 0)
            ok[i] = got == expected
        }
        #expect(ok.allSatisfy { $0 })
    }

    @Test func uniquenessIsReportedForInPlaceReuse() {
        var t = Tensor<Float>.zeros([4])
        let alone = t.isStorageUniquelyReferenced()
        // A copy held in an array that is read afterwards, so an optimised build cannot drop it early.
        var holder = [t]
        let shared = t.isStorageUniquelyReferenced()
        #expect(alone && !shared)
        #expect(holder[0].count == 4)
        holder.removeAll()
        let aloneAgain = t.isStorageUniquelyReferenced()
        #expect(aloneAgain)
    }
}
