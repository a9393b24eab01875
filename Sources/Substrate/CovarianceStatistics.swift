import Foundation
import Linear

/// Streaming, mergeable second-order statistics of a set of rows: the count n, the mean μ and the scatter
/// M₂ = Σ(x − μ)(x − μ)ᵀ, all in Double. Equivalent to (n, Σx, Σxxᵀ) (Σx = nμ, Σxxᵀ = M₂ + nμμᵀ) but
/// accumulated about the running mean, so large offsets do not cancel catastrophically.
///
/// Rows are added in chunks (one syrk per chunk); two accumulators merge exactly (Chan, Golub & LeVeque 1979):
/// δ = μ_b − μ_a, μ = μ_a + δ·n_b/n, M₂ = M₂ᵃ + M₂ᵇ + δδᵀ·n_a·n_b/n. So shards of a corpus fitted on
/// different machines combine into the statistics a single pass would give.
///
/// Scale: the parts are held divided by a power of two, μ = 2ᵉ·μ̃ and M₂ = 2²ᵉ·M̃₂ (`scaleExponent` e, 0 for
/// data whose largest magnitude lies in 2^±30 for float32 or 2^±300 for float64, see `BinaryScale`). Rows of
/// larger or smaller magnitude are accumulated after an exact division by 2ᵉ (e the exponent of max|x|), so
/// data from 1e-320 to 1e300 give the same statistics up to rounding relative to their own scale instead of
/// squares that overflow or underflow; merges bring both sides to the larger exponent first.
public struct CovarianceStatistics: Sendable {
    /// Number of rows seen.
    public private(set) var count: Int
    /// μ̃ = μ·2⁻ᵉ [D].
    public private(set) var scaledMean: Tensor<Double>
    /// M̃₂ = M₂·2⁻²ᵉ [D, D], symmetric.
    public private(set) var scaledScatter: Tensor<Double>
    /// e, the binary exponent of the scale (0 for data of ordinary magnitude).
    public private(set) var scaleExponent: Int

    /// The scale 2ᵉ (1 for data of ordinary magnitude).
    public var scale: Double { BinaryScale.times(1.0, pow2: scaleExponent) }
    /// μ, the mean row [D].
    public var mean: Tensor<Double> { BinaryScale.times(scaledMean, pow2: scaleExponent) }
    /// M₂ = Σ(x − μ)(x − μ)ᵀ [D, D], symmetric (overflows or underflows Double when 2²ᵉ does: use
    /// `scaledScatter` and `scaleExponent` for data of extreme magnitude).
    public var scatter: Tensor<Double> { BinaryScale.times(scaledScatter, pow2: 2 * scaleExponent) }

    /// Empty statistics for rows of dimension `d`.
    public init(dimension d: Int) {
        count = 0
        scaledMean = Tensor.zeros([d])
        scaledScatter = Tensor.zeros([d, d])
        scaleExponent = 0
    }

    /// Statistics from stored parts (e.g. a shard file); checks the shapes.
    public init(count: Int, mean: Tensor<Double>, scatter: Tensor<Double>) throws {
        try self.init(count: count, scaledMean: mean, scaledScatter: scatter, scaleExponent: 0)
    }

    /// Statistics from stored parts held at scale 2ᵉ (μ = 2ᵉ·`scaledMean`, M₂ = 2²ᵉ·`scaledScatter`); checks the
    /// shapes and that the count is not negative.
    public init(count: Int, scaledMean mean: Tensor<Double>, scaledScatter scatter: Tensor<Double>, scaleExponent e: Int) throws {
        let d = mean.count
        guard mean.rank == 1, scatter.shape == [d, d] else {
            throw TensorError.invalidShape("CovarianceStatistics: mean \(mean.shape) and scatter \(scatter.shape) do not describe one dimension")
        }
        guard count >= 0 else { throw AnalysisError.parameter(term: "CovarianceStatistics", name: "count", problem: "the row count n = \(count) is negative") }
        self.init(checkedCount: count, scaledMean: mean, scaledScatter: scatter, scaleExponent: e)
    }

    /// The statistics of parts the caller built consistently (n ≥ 0, mean [D], scatter [D, D]): no checks.
    init(checkedCount count: Int, scaledMean mean: Tensor<Double>, scaledScatter scatter: Tensor<Double>, scaleExponent e: Int) {
        self.count = count; self.scaledMean = mean; self.scaledScatter = scatter; self.scaleExponent = e
    }

    /// Dimension D.
    public var dimension: Int { scaledMean.count }

    /// The covariance C = M₂/(n − 1) (ddof 1, as numpy `cov` and sklearn PCA). Overflows or underflows with
    /// M₂ for data of extreme magnitude; `scaledCovariance()` does not.
    public func covariance() throws -> Tensor<Double> {
        BinaryScale.times(try scaledCovariance(), pow2: 2 * scaleExponent)
    }

    /// C̃ = M̃₂/(n − 1) = C·2⁻²ᵉ.
    public func scaledCovariance() throws -> Tensor<Double> {
        guard count >= 2 else { throw AnalysisError.tooFewRows(term: "covariance", needed: 2, got: count, detail: "needs at least 2 rows, have \(count)") }
        return scaledScatter * (1 / Double(count - 1))
    }

    /// Adds the rows of `x` [m, D], `chunk` rows at a time so memory stays O(block·D + D²).
    ///
    /// Each chunk's scatter is formed about a shift c close to its mean and corrected exactly:
    /// Σ(x − μ)(x − μ)ᵀ = Σ(x − c)(x − c)ᵀ − m·δδᵀ with δ = μ − c. The first chunk of a call uses its own mean
    /// (two reads); later chunks use the running mean, whose distance to the chunk mean is sampling noise, so the
    /// correction is tiny and nothing cancels while each row is read only once. The shifted rows are written a
    /// cache-sized block at a time into a buffer in the input's precision and folded in by syrk (Float input:
    /// `ssyrk`, twice the speed of `dsyrk`; the chunk's Float scatter is flushed into Double after every chunk of
    /// at most `floatChunkLimit` rows, so its rounding does not accumulate across chunks); means, sums and merges are Double. With BLAS.threads = T > 1
    /// the rows are split into T ranges on chunk boundaries, accumulated on T threads (single-threaded BLAS calls)
    /// and merged in order. Throws, naming the first chunk that holds a NaN or infinity, before changing anything.
    /// Rows whose largest magnitude lies outside `BinaryScale`'s window are divided by 2ᵉ first (exactly, in blocks
    /// of rows) and merged at that scale.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func add<S: BLASScalar>(_ x: Tensor<S>, chunk: Int = 4096) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "CovarianceStatistics.add (rows of dimension \(dimension) expected)", lhs: [count, dimension], rhs: x.shape)
        }
        let m = x.shape[0], d = dimension
        if m == 0 { return }
        let chunk = Swift.max(1, chunk)
        if let e = BinaryScale.exponent(of: x) {
            // Extreme magnitude: accumulate x·2⁻ᵉ (exact) a block of rows at a time, then merge at scale 2ᵉ.
            var part = CovarianceStatistics(dimension: d)
            let block = Swift.max(chunk, (1 << 22) / Swift.max(1, d) / chunk * chunk)
            var start = 0
            while start < m {
                let end = Swift.min(m, start + block)
                try part.addUnscaled(BinaryScale.times(x.slice(start..<end), pow2: -e), chunk: chunk)
                start = end
            }
            part.scaleExponent = e
            try merge(part)
            return
        }
        try addUnscaled(x, chunk: chunk)
    }

    /// Float input accumulates its scatter in Float over at most this many rows before the flush into Double: the
    /// single-precision rounding of a chunk's sums grows with its length, and 4096 rows keep the covariance and the
    /// explained variance within 1e-6 (relative) of the exact Double result (FloatAccumulationTests, on rows
    /// 10⁴ + N(0, Σ) and on columns scaled over six orders of magnitude) at a flush cost of D²/2 additions per
    /// 4096·D²/2 multiply-adds.
    public static let floatChunkLimit = 4096

    /// `add` for rows whose magnitude needs no scaling.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    mutating func addUnscaled<S: BLASScalar>(_ x: Tensor<S>, chunk: Int) throws {
        let chunk = S.byteCount <= 4 ? Swift.min(Self.floatChunkLimit, Swift.max(1, chunk)) : Swift.max(1, chunk)
        switch try RowBlockKernels.centeredScatter(x, chunk: chunk) {
        case .failure(let failure):
            let bad = failure.rows
            try x.slice(bad).checkFinite("rows \(bad.lowerBound)..<\(bad.upperBound)")
            throw AnalysisError.undefined(term: "covariance statistics", reason: "rows \(bad.lowerBound)..<\(bad.upperBound): the sums overflow (entries too large for Double)")
        case .success(let parts):
            for p in parts {
                try merge(CovarianceStatistics(checkedCount: p.count, scaledMean: Tensor(p.mean), scaledScatter: p.scatter, scaleExponent: 0))
            }
        }
    }

    /// Merges another accumulator into this one (exact up to rounding). Both sides are first brought to the
    /// larger scale exponent (an exact power-of-two rescaling of the smaller side). Throws when the combined row
    /// count overflows Int.
    public mutating func merge(_ other: CovarianceStatistics) throws {
        guard other.dimension == dimension else {
            throw TensorError.shapeMismatch(operation: "CovarianceStatistics.merge", lhs: [dimension], rhs: [other.dimension])
        }
        if other.count == 0 { return }
        if count == 0 { self = other; return }
        let (total, overflow) = count.addingReportingOverflow(other.count)
        guard !overflow else {
            throw AnalysisError.incompatible(term: "CovarianceStatistics.merge", problem: "the row counts \(count) + \(other.count) overflow a 64-bit integer")
        }
        var other = other
        if other.scaleExponent != scaleExponent {
            let e = Swift.max(scaleExponent, other.scaleExponent)
            rescale(to: e)
            other.rescale(to: e)
        }
        let na = Double(count), nb = Double(other.count), n = na + nb
        let delta = try other.scaledMean - scaledMean
        scaledMean = try scaledMean + delta * (nb / n)
        var s = try scaledScatter + other.scaledScatter
        try s.addScaled(outer(delta, delta), na * nb / n)
        scaledScatter = s
        count = total
    }

    /// Holds the parts at scale exponent e ≥ `scaleExponent` (exact but for parts that underflow, which are then
    /// below rounding relative to the larger side of a merge).
    mutating func rescale(to e: Int) {
        let shift = scaleExponent - e
        if shift == 0 { return }
        scaledMean = BinaryScale.times(scaledMean, pow2: shift)
        scaledScatter = BinaryScale.times(scaledScatter, pow2: 2 * shift)
        scaleExponent = e
    }
}

/// Exact power-of-two rescaling, so that fits and statistics of data at any magnitude (float64 from subnormal
/// 1e-320 to 1e300, float32 over its whole range) run on values of order 1.
///
/// Multiplying a binary floating-point number by 2ᵉ changes only its exponent: it is exact (no rounding) unless
/// the result leaves the normal range, and IEEE rounding commutes with it, so a computation on X·2⁻ᵉ returns
/// exactly 2⁻ᵉ (or 2⁻²ᵉ for second moments) times the same computation on X wherever the latter neither
/// overflows nor underflows. Data whose largest magnitude lies inside `window` keep scale 1 and their results
/// are bit-for-bit those of the unscaled code; outside it, the data are divided by 2ᵉ with e the exponent of
/// max|x| (so the scaled maximum lies in [1, 2)), and second moments are carried with their scale.
enum BinaryScale {
    /// Magnitudes whose squares, summed over any realistic number of rows, neither overflow nor underflow in S:
    /// max|x| ∈ [2⁻³⁰, 2³⁰] for Float (products stay within 2⁻¹²⁶…2¹²⁷ with 2⁴⁰ rows of headroom) and
    /// [2⁻³⁰⁰, 2³⁰⁰] for Double.
    static func window<S: BLASScalar>(_: S.Type) -> Int { S.byteCount <= 4 ? 30 : 300 }

    /// The exponent e to divide by (x·2⁻ᵉ), or nil when max|x| lies inside the window (or is 0 or not finite,
    /// which the callers' own checks report).
    static func exponent<S: BLASScalar>(maxAbs m: S) -> Int? {
        guard m.isFinite, m > 0 else { return nil }
        let e = Int(m.exponent)
        return Swift.abs(e) <= window(S.self) ? nil : e
    }

    /// The exponent e for the largest magnitude of `x`, or nil (see `exponent(maxAbs:)`).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func exponent<S: BLASScalar>(of x: Tensor<S>) -> Int? { exponent(maxAbs: maxAbs(x)) }

    /// max|x|, or NaN when `x` holds a NaN or an infinity, in one read of `x`. With the sign bit cleared, the bit
    /// patterns of finite IEEE numbers order like their magnitudes and those of ±∞ and NaN lie above all of them,
    /// so the maximum is an unsigned integer maximum (which vectorises, unlike a floating-point one with NaN rules).
    static func maxAbs<S: BLASScalar>(_ x: Tensor<S>) -> S {
        x.withUnsafeBufferPointer { p -> S in
            guard let base = p.baseAddress, p.count > 0 else { return 0 }
            let raw = UnsafeRawPointer(base)
            if S.self == Float.self {
                var m: UInt32 = 0
                let b = raw.assumingMemoryBound(to: UInt32.self)
                for i in 0..<p.count { m = Swift.max(m, b[i] & 0x7FFF_FFFF) }
                return m >= 0x7F80_0000 ? .nan : S(Float(bitPattern: m))
            }
            var m: UInt64 = 0
            let b = raw.assumingMemoryBound(to: UInt64.self)
            for i in 0..<p.count { m = Swift.max(m, b[i] & 0x7FFF_FFFF_FFFF_FFFF) }
            return m >= 0x7FF0_0000_0000_0000 ? .nan : S(Double(bitPattern: m))
        }
    }

    /// v·2ᵏ, exact unless the result leaves the normal range (in steps of at most 2¹⁰⁰, so each factor exists in
    /// Float as well as Double).
    @inline(__always)
    static func times<S: BLASScalar>(_ v: S, pow2 k: Int) -> S {
        var r = v, k = k
        while k != 0 {
            let step = Swift.max(-100, Swift.min(100, k))
            r *= S(sign: .plus, exponent: S.Exponent(step), significand: 1)
            k -= step
        }
        return r
    }

    /// x·2ᵏ elementwise.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func times<S: BLASScalar>(_ x: Tensor<S>, pow2 k: Int) -> Tensor<S> {
        if k == 0 { return x }
        var y = x
        var k = k
        while k != 0 {
            let step = Swift.max(-100, Swift.min(100, k))
            let f = S(sign: .plus, exponent: S.Exponent(step), significand: 1)
            y.mapInPlace { $0 * f }
            k -= step
        }
        return y
    }

    /// Each value times 2ᵏ.
    static func times(_ xs: [Double], pow2 k: Int) -> [Double] { k == 0 ? xs : xs.map { times($0, pow2: k) } }
}
