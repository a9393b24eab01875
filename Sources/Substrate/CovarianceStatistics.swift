import Foundation
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

    /// Adds the rows of `x` [m, D], `chunk` rows at a time so memory stays O(block·D + D²).
    ///
    /// Each chunk's scatter is formed about a shift c close to its mean and corrected exactly:
    /// Σ(x − μ)(x − μ)ᵀ = Σ(x − c)(x − c)ᵀ − m·δδᵀ with δ = μ − c. The first chunk of a call uses its own mean
    /// (two reads); later chunks use the running mean, whose distance to the chunk mean is sampling noise, so the
    /// correction is tiny and nothing cancels while each row is read only once. The shifted rows are written a
    /// cache-sized block at a time into a buffer in the input's precision and folded in by syrk (Float input:
    /// `ssyrk`, twice the speed of `dsyrk`; the chunk's Float scatter is flushed into Double after every chunk, so
    /// its rounding does not accumulate across chunks); means, sums and merges are Double. With BLAS.threads = T > 1
    /// the rows are split into T ranges on chunk boundaries, accumulated on T threads (single-threaded BLAS calls)
    /// and merged in order. Throws, naming the first chunk that holds a NaN or infinity, before changing anything.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public mutating func add<S: BLASScalar>(_ x: Tensor<S>, chunk: Int = 4096) throws {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "CovarianceStatistics.add (rows of dimension \(dimension) expected)", lhs: [count, dimension], rhs: x.shape)
        }
        let m = x.shape[0], d = dimension
        if m == 0 { return }
        let chunk = Swift.max(1, chunk)
        let chunks = (m + chunk - 1) / chunk
        let workers = Swift.max(1, Swift.min(BLAS.threads, chunks, m / 4096))
        var parts = [CovarianceStatistics?](repeating: nil, count: workers)
        var failures = [Range<Int>?](repeating: nil, count: workers)
        x.withUnsafeBufferPointer { xp in
            let xa = xp.baseAddress!
            parts.withUnsafeMutableBufferPointer { pp in
                failures.withUnsafeMutableBufferPointer { fp in
                    func work(_ w: Int) {
                        let lo = Swift.min(m, chunks * w / workers * chunk), hi = Swift.min(m, chunks * (w + 1) / workers * chunk)
                        let r = Self.accumulate(xa, rows: lo..<hi, d: d, chunk: chunk)
                        switch r {
                        case .success(let s): pp[w] = s
                        case .failure(let bad): fp[w] = bad.rows
                        }
                    }
                    if workers == 1 {
                        work(0)
                    } else {
                        BLAS.withThreads(1) { DispatchQueue.concurrentPerform(iterations: workers) { work($0) } }
                    }
                }
            }
        }
        if let bad = failures.lazy.compactMap({ $0 }).first {
            try x.slice(bad).checkFinite("rows \(bad.lowerBound)..<\(bad.upperBound)")
            throw TensorError.invalidArgument("rows \(bad.lowerBound)..<\(bad.upperBound): the sums overflow (entries too large for Double)")
        }
        for p in parts { if let p { try merge(p) } }
    }

    struct NonFiniteRows: Error { var rows: Range<Int> }

    /// The statistics of rows `range` of the row-major [*, d] matrix at `x`, or the first chunk whose sums are not
    /// finite.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func accumulate<S: BLASScalar>(_ x: UnsafePointer<S>, rows range: Range<Int>, d: Int, chunk: Int) -> Result<CovarianceStatistics, NonFiniteRows> {
        var n = 0
        var mean = [Double](repeating: 0, count: d)
        var scatter = Tensor<Double>.zeros([d, d])                       // upper triangle until the end
        // Blocks of at least 1024 rows: fewer, deeper syrk calls repack less (measured: 256-row blocks cost 15 % more at D = 256).
        let block = Swift.min(chunk, Swift.max(1024, RowOps.blockRows(chunk, d, bytes: (1 << 23) / S.byteCount)))
        let buf = UnsafeMutablePointer<S>.allocate(capacity: block * d)
        let part = UnsafeMutablePointer<S>.allocate(capacity: d * d)     // the chunk's scatter about c (upper)
        var sums = [Double](repeating: 0, count: d), shift = [Double](repeating: 0, count: d), delta = [Double](repeating: 0, count: d)
        part.initialize(repeating: 0, count: d * d)
        // Float input: the shift in Float and the Float partial sums (2·d).
        let floatBuffer: UnsafeMutablePointer<Float>? = S.self == Float.self ? .allocate(capacity: 2 * d) : nil
        defer { buf.deallocate(); part.deallocate(); floatBuffer?.deallocate() }
        var start = range.lowerBound
        while start < range.upperBound {
            let end = Swift.min(range.upperBound, start + chunk), m = end - start
            let ok: Bool = sums.withUnsafeMutableBufferPointer { sp in
                shift.withUnsafeMutableBufferPointer { cp in
                    let s = sp.baseAddress!, c = cp.baseAddress!
                    for j in 0..<d { s[j] = 0 }
                    if n == 0 {
                        // First chunk: shift by its own mean.
                        let total = RowOps.addColumnSums(x + start * d, rows: m, d: d, into: s)
                        if !total.isFinite { return false }
                        for j in 0..<d { c[j] = s[j] / Double(m); s[j] = 0 }
                    } else {
                        for j in 0..<d { c[j] = mean[j] }
                    }
                    var total = 0.0
                    var b = start
                    if let fbuf = floatBuffer {
                        // Float rows are centred in Float (16 lanes, no conversions): the shift is rounded to Float
                        // so the Double bookkeeping below uses exactly the shift subtracted; the centred values'
                        // sums gather in Float over at most 32 rows and are then added into Double.
                        let cf = fbuf, partial = fbuf + d
                        for j in 0..<d { cf[j] = Float(c[j]); c[j] = Double(cf[j]); partial[j] = 0 }
                        let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
                        let bf = UnsafeMutableRawPointer(buf).assumingMemoryBound(to: Float.self)
                        while b < end {
                            let rows = Swift.min(block, end - b)
                            var i = 0
                            while i < rows {
                                let stop = Swift.min(rows, i + 32)
                                var t: Float = 0
                                while i < stop { t += RowOps.centerRowFloat(xf + (b + i) * d, cf, bf + i * d, partial, d); i += 1 }
                                total += Double(t)
                                for j in 0..<d { s[j] += Double(partial[j]); partial[j] = 0 }
                            }
                            S.syrk(trans: true, n: d, k: rows, alpha: 1, a: buf, lda: d, beta: b == start ? 0 : 1, c: part, ldc: d)
                            b += rows
                        }
                        return total.isFinite
                    }
                    while b < end {
                        let rows = Swift.min(block, end - b)
                        for i in 0..<rows { total += RowOps.centerRowSums(x + (b + i) * d, c, buf + i * d, s, d) }
                        S.syrk(trans: true, n: d, k: rows, alpha: 1, a: buf, lda: d, beta: b == start ? 0 : 1, c: part, ldc: d)
                        b += rows
                    }
                    return total.isFinite
                }
            }
            if !ok { return .failure(NonFiniteRows(rows: start..<end)) }
            // Chunk: mean μ_c = c + s/m, scatter S_c − m·δδᵀ (δ = s/m); merged into (n, mean, scatter) by Chan et al.
            let na = Double(n), nb = Double(m), nn = na + nb
            for j in 0..<d {
                let dj = sums[j] / nb
                let muC = shift[j] + dj
                sums[j] = dj                                              // δ
                delta[j] = muC - mean[j]                                 // μ_c − running mean
                mean[j] = n == 0 ? muC : mean[j] + delta[j] * (nb / nn)
            }
            let cross = n == 0 ? 0 : na * nb / nn
            scatter.withUnsafeMutableBufferPointer { mp in
                for i in 0..<d {
                    let si = sums[i] * nb, di = delta[i] * cross
                    let row = mp.baseAddress! + i * d, prow = part + i * d
                    for j in i..<d { row[j] += Double(prow[j]) - si * sums[j] + di * delta[j] }
                }
            }
            n += m
            start = end
        }
        scatter.symmetrizeFromUpper()
        return .success(try! CovarianceStatistics(count: n, mean: Tensor(mean), scatter: scatter))
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
