import Linear

/// Streaming, mergeable second-order statistics of a set of rows: the count n, the mean μ and the scatter
/// M₂ = Σ(x − μ)(x − μ)ᵀ, all in Double. Equivalent to (n, Σx, Σxxᵀ) (Σx = nμ, Σxxᵀ = M₂ + nμμᵀ) but
/// accumulated about the running mean, so large offsets do not cancel catastrophically.
///
/// Rows are added in chunks (one syrk per chunk); two accumulators merge exactly (Chan, Golub & LeVeque 1979):
/// δ = μ_b − μ_a, μ = μ_a + δ·n_b/n, M₂ = M₂ᵃ + M₂ᵇ + δδᵀ·n_a·n_b/n. So shards of a corpus fitted on
/// different machines combine into the statistics a single pass would give.
public struct CovarianceStatistics: Sendable {
    /// Number of rows seen.
    public private(set) var count: Int
    /// μ, the mean row [D].
    public private(set) var mean: Tensor<Double>
    /// M₂ = Σ(x − μ)(x − μ)ᵀ [D, D], symmetric.
    public private(set) var scatter: Tensor<Double>

    /// Empty statistics for rows of dimension `d`.
    public init(dimension d: Int) {
        count = 0
        mean = Tensor.zeros([d])
        scatter = Tensor.zeros([d, d])
    }

    /// Statistics from stored parts (e.g. a shard file); checks the shapes.
    public init(count: Int, mean: Tensor<Double>, scatter: Tensor<Double>) throws {
        let d = mean.count
        guard mean.rank == 1, scatter.shape == [d, d], count >= 0 else {
            throw TensorError.invalidShape("CovarianceStatistics: mean \(mean.shape) and scatter \(scatter.shape) do not describe one dimension")
        }
        self.count = count; self.mean = mean; self.scatter = scatter
    }

    /// Dimension D.
    public var dimension: Int { mean.count }

    /// The covariance C = M₂/(n − 1) (ddof 1, as numpy `cov` and sklearn PCA).
    public func covariance() throws -> Tensor<Double> {
        guard count >= 2 else { throw TensorError.invalidArgument("covariance needs at least 2 rows, have \(count)") }
        return scatter * (1 / Double(count - 1))
    }

    /// Adds the rows of `x` [m, D], `chunk` rows at a time so memory stays O(chunk·D + D²).
    ///
    /// Each chunk is centred on its own mean (computed in Double) before its scatter is formed, so the products
    /// never cancel; Float input forms the chunk scatter with `ssyrk` in Float (twice the speed of `dsyrk`, and
    /// the relative error of a centred chunk of 4096 rows stays near 1e-6), Double input with `dsyrk`. Chunks
    /// merge in Double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func add<S: BLASScalar>(_ x: Tensor<S>, chunk: Int = 4096) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "CovarianceStatistics.add (rows of dimension \(dimension) expected)", lhs: [count, dimension], rhs: x.shape)
        }
        var start = 0
        let m = x.shape[0]
        while start < m {
            let end = Swift.min(m, start + chunk)
            let block = try x.slice(start..<end)
            try block.checkFinite("rows \(start)..<\(end)")
            let mu = try block.mean(axis: 0)   // sums accumulate in Double inside Linear
            let scatter: Tensor<Double> = try (block - mu).gram().cast()
            let part = try CovarianceStatistics(count: end - start, mean: mu.cast(), scatter: scatter)
            try merge(part)
            start = end
        }
    }

    /// Merges another accumulator into this one (exact up to rounding).
    public mutating func merge(_ other: CovarianceStatistics) throws {
        guard other.dimension == dimension else {
            throw TensorError.shapeMismatch(operation: "CovarianceStatistics.merge", lhs: [dimension], rhs: [other.dimension])
        }
        if other.count == 0 { return }
        if count == 0 { self = other; return }
        let na = Double(count), nb = Double(other.count), n = na + nb
        let delta = try other.mean - mean
        mean = try mean + delta * (nb / n)
        var s = try scatter + other.scatter
        try s.addScaled(outer(delta, delta), na * nb / n)
        scatter = s
        count += other.count
    }
}
