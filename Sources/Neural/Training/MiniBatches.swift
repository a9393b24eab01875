import Linear

/// Deterministic mini-batches of row indices: epoch e is a permutation of 0..<count drawn from a generator
/// seeded by (seed, e), cut into batches of `batchSize` (the last one shorter unless `dropLast`).
/// The same seed gives the same batches on every run, and any epoch can be produced on its own.
public struct MiniBatches: Sendable {
    public let count: Int
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) {
        precondition(count >= 0 && batchSize > 0, "MiniBatches: count must be ≥ 0 and batchSize > 0")
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
    }

    /// Number of batches per epoch.
    public var batchesPerEpoch: Int { dropLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The batches of epoch `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        var order: [Int]
        if shuffle {
            var g = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
            order = g.permutation(count)
        } else {
            order = Array(0..<count)
        }
        var out: [[Int]] = []
        var start = 0
        while start < count {
            let end = Swift.min(count, start + batchSize)
            if end - start < batchSize && dropLast { break }
            out.append(Array(order[start..<end]))
            start = end
        }
        return out
    }
}

extension Tensor {
    /// The rows of this tensor at `indices` (a mini-batch), as a copy.
    public func batch(_ indices: [Int]) throws -> Tensor { try AutogradKernels.gatherRows(self, indices) }
}
