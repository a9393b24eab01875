import Dispatch
import Foundation
import Linear
import Testing
import TestSupport

/// Tensor values used from many threads at once: copy-on-write must give every thread its own buffer on write
/// and never let a write show through another thread's copy.
@Suite struct ConcurrencyTests {
    @Test func copiesMutatedOnManyThreadsNeverDisturbEachOtherOrTheOriginal() throws {
        let original = Tensor<Double>.normal([64, 32], seed: 1)
        let reference = original.scalars
        let threads = 8, rounds = 200
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
        defer { results.deallocate() }
        Parallel.perform(iterations: threads) { t in
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
        Parallel.perform(iterations: 16) { i in
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

    @Test("many threads mutate copies of one shared tensor and hand copies to each other: every value stays its own")
    func hammerCopyOnWriteWithMutationsAndHandOffs() throws {
        let base = Tensor<Double>.normal([32, 16], seed: 7)
        let reference = base.scalars
        let threads = 16, rounds = 2000
        // Mailboxes: thread t leaves a copy (and the value it must show) for thread (t + 1) % threads.
        let lock = NSLock()
        var boxes = [(Tensor<Double>, Double)?](repeating: nil, count: threads)
        let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        failures.initialize(repeating: 0)
        defer { failures.deallocate() }
        Parallel.perform(iterations: threads) { t in
            var g = RandomGenerator(seed: UInt64(t))
            var mine = base
            var bad = 0
            for r in 0..<rounds {
                let i = Int.random(in: 0..<32, using: &g), j = Int.random(in: 0..<16, using: &g)
                let v = Double(t * 1_000_000 + r)
                switch r % 4 {
                case 0: mine[i, j] = v                                                  // subscript write
                case 1: mine.withUnsafeMutableBufferPointer { $0[i * 16 + j] = v }      // raw write
                case 2: mine += 0; mine[i, j] = v                                       // in-place arithmetic, then write
                default: mine = try! mine.reshaped([16, 32]).reshaped([32, 16]); mine[i, j] = v  // views share storage
                }
                if mine[i, j] != v { bad += 1 }
                // Hand a copy to the next thread, then keep mutating ours: the copy must not change.
                let handed = mine
                lock.lock(); boxes[(t + 1) % threads] = (handed, v); lock.unlock()
                mine[i, j] = -v
                lock.lock(); let got = boxes[t]; boxes[t] = nil; lock.unlock()
                if let (copy, expected) = got {
                    // The sender wrote `expected` somewhere and then -expected into its own copy: ours must hold
                    // `expected` and never `-expected`.
                    if !copy.scalars.contains(expected) || (expected != 0 && copy.scalars.contains(-expected)) { bad += 1 }
                    var local = copy
                    local[0, 0] = .nan                                                  // writing our copy is private
                    if local.isStorageUniquelyReferenced() == false { bad += 1 }
                }
            }
            failures[t] = bad
        }
        #expect(base.scalars == reference, "a mutation on another thread reached the shared original")
        #expect(failures.reduce(0, +) == 0, "copy-on-write failures per thread: \(Array(failures))")
    }

    @Test("Float tensors: concurrent element-wise kernels on shared inputs, parallel kernels inside, results identical")
    func concurrentKernelsOnSharedInputs() throws {
        // Above Parallel's split threshold, so each call also fans out internally while 8 callers run at once.
        let x = Tensor<Float>.normal([300, 300], seed: 11)
        let expected = try (x.exp() * x.tanh() + x).sum(axis: 1)
        let ok = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { ok.deallocate() }
        Parallel.perform(iterations: 8) { i in
            var same = true
            for _ in 0..<10 {
                var y = x
                y += Float(0)                                                           // forces a private copy
                let r = try? (y.exp() * y.tanh() + y).sum(axis: 1)
                same = same && r == expected
            }
            ok[i] = same
        }
        #expect(ok.allSatisfy { $0 })
    }

    @Test func valueTypesAreSendable() {
        func requireSendable<T: Sendable>(_: T.Type) {}
        requireSendable(Tensor<Float>.self); requireSendable(Tensor<Double>.self)
        requireSendable(NDArray.self); requireSendable(SafetensorsFile.self); requireSendable(CSVTable.self)
        requireSendable(RandomGenerator.self); requireSendable(TensorError.self); requireSendable(SVD<Double>.self)
        requireSendable(SymmetricEigen<Float>.self); requireSendable(LeastSquares<Double>.self)
        // Values cross task boundaries without copies or warnings.
        let t = Tensor<Double>.ones([4, 4])
        let task = Task.detached { t.sum() }
        _ = task
    }
}
