import Linear
import Neural

/// Seeded train / held-out splits and shuffles. Mini-batches come from Neural's `MiniBatches` (deterministic
/// per (seed, epoch)); `LabeledData.miniBatches` builds one over a data set.
public enum DataSplit {
    /// A split of 0..<count: a seeded permutation, the first ⌈(1 − f)·count⌉ indices for training and the rest
    /// held out (f = `heldOutFraction`), each part sorted ascending so the split is a set, not an order.
    /// - Throws: `ConfigurationError` unless 0 ≤ f < 1 and count ≥ 0.
    public static func indices(count: Int, heldOutFraction f: Double, seed: UInt64) throws -> (train: [Int], heldOut: [Int]) {
        guard count >= 0 else { throw ConfigurationError(field: "DataSplit.indices(count:)", reason: "DataSplit: count must be ≥ 0, got \(count)") }
        guard f >= 0, f < 1 else { throw ConfigurationError(field: "DataSplit.indices(heldOutFraction:)", reason: "DataSplit: the held-out fraction must be in [0, 1), got \(f)") }
        var g = RandomGenerator(seed: seed)
        let p = g.permutation(count)
        let held = Int((f * Double(count)).rounded(.down))
        let trainCount = count - held
        return (Array(p[..<trainCount]).sorted(), Array(p[trainCount...]).sorted())
    }

    /// The rows of `data` split into training and held-out parts (see `indices`).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func split<S: BLASScalar>(_ data: Tensor<S>, heldOutFraction f: Double, seed: UInt64) throws -> (train: Tensor<S>, heldOut: Tensor<S>) {
        guard data.rank >= 1 else { throw TensorError.invalidShape("DataSplit.split: expected rows, got a scalar") }
        let (a, b) = try indices(count: data.shape[0], heldOutFraction: f, seed: seed)
        return (try data.gather(rows: a), try data.gather(rows: b))
    }

    /// The rows of `data` in a seeded random order.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func shuffled<S: BLASScalar>(_ data: Tensor<S>, seed: UInt64) throws -> Tensor<S> {
        guard data.rank >= 1 else { throw TensorError.invalidShape("DataSplit.shuffled: expected rows, got a scalar") }
        var g = RandomGenerator(seed: seed)
        return try data.gather(rows: g.permutation(data.shape[0]))
    }
}

extension LabeledData {
    /// Training and held-out parts (labels follow their rows; see `DataSplit.indices`).
    public func split(heldOutFraction f: Double, seed: UInt64) throws -> (train: LabeledData, heldOut: LabeledData) {
        let (a, b) = try DataSplit.indices(count: count, heldOutFraction: f, seed: seed)
        return (try subset(a), try subset(b))
    }

    /// Deterministic shuffled mini-batches of row indices over this data (Neural's `MiniBatches`); take a batch's
    /// rows with `data.gather(rows:)`.
    public func miniBatches(batchSize: Int, seed: UInt64, dropLast: Bool = false) throws -> MiniBatches {
        guard batchSize >= 1 else { throw ConfigurationError(field: "LabeledData.miniBatches(batchSize:)", reason: "miniBatches: the batch size must be ≥ 1, got \(batchSize)") }
        return MiniBatches(count: count, batchSize: batchSize, shuffle: true, dropLast: dropLast, seed: seed)
    }
}
