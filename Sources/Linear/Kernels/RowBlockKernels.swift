// Row-block kernels: products and second moments of a centred n×D matrix X_c = (X − 1μᵀ)·diag(1/s), read from the
// row-major input X a cache-sized block of rows at a time, so no centred or converted copy of X is ever formed.

/// Streaming kernels over the rows of an n×D matrix X (Float or Double), for the fits and maps of `Substrate`
/// (projection, covariance statistics, linear CKA).
///
/// Each kernel reads X once, a block of rows at a time: the block is centred (x − μ, optionally divided by a scale
/// s) into a buffer that stays in cache and handed to one BLAS call (gemm or syrk) while it is there. Blocking is
/// what makes the centring free: forming X_c whole would cost a write and a read of n·D values and n·D memory; a
/// block of about 1 MiB costs neither. Means, sums and accumulators are Double whatever the input precision
/// (the Float paths say where a product runs in Float and how its result reaches Double).
///
/// Every kernel is deterministic for a given `BLAS.threads`: the block sizes depend only on n and D, the split over
/// worker threads only on n and `BLAS.threads`, and partial results are added in worker order.
public enum RowBlockKernels {
    /// The column sums Σᵢ xᵢⱼ of the n×D matrix `x`, in Double (eight lanes per row), and their total. The total
    /// is not finite exactly when an element is NaN or infinite, or when huge finite values overflow the sum: one
    /// read gives both the mean and a finiteness check.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func columnSums<S: BLASScalar>(_ x: Tensor<S>) throws -> (sums: [Double], total: Double) {
        guard x.rank == 2 else { throw TensorError.invalidShape("RowBlockKernels.columnSums: expected an n×D matrix, got shape \(x.shape)") }
        let n = x.shape[0], d = x.shape[1]
        var sums = [Double](repeating: 0, count: d)
        if d == 0 { return (sums, 0) }
        let total = x.withUnsafeBufferPointer { p in
            sums.withUnsafeMutableBufferPointer { RowOps.addColumnSums(p.baseAddress!, rows: n, d: d, into: $0.baseAddress!) }
        }
        return (sums, total)
    }

    /// Z = ((X − 1μᵀ)·diag(1/s))·V[:, columns] [n, |columns|] in Double, for X [n, D], μ [D], s [D] (nil: no
    /// scaling) and V [D, w].
    ///
    /// Blocks of about 512 KiB of Double rows: each is converted, centred and scaled into the buffer and multiplied
    /// by the selected columns of V in place (one dgemm with V's own leading dimension w: no copy of the columns).
    /// `finite` is false when a block's sum of centred values is not finite, i.e. when X holds a NaN or infinity
    /// (the caller then locates it).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func centeredProduct<S: BLASScalar>(_ x: Tensor<S>, mean: Tensor<Double>, scale: Tensor<Double>?,
                                                      basis: Tensor<Double>, columns: Range<Int>) throws -> (product: Tensor<Double>, finite: Bool) {
        guard x.rank == 2, basis.rank == 2, mean.shape == [x.shape[1]], basis.shape[0] == x.shape[1] else {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.centeredProduct (X [n, D], basis [D, w])", lhs: x.shape, rhs: basis.shape)
        }
        if let scale, scale.shape != mean.shape {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.centeredProduct (scale [D])", lhs: mean.shape, rhs: scale.shape)
        }
        guard columns.lowerBound >= 0, columns.upperBound <= basis.shape[1] else {
            throw TensorError.invalidShape("RowBlockKernels.centeredProduct: columns \(columns) outside the basis's 0..<\(basis.shape[1])")
        }
        let rows = x.shape[0], d = x.shape[1], m = columns.count, w = basis.shape[1]
        if rows == 0 || m == 0 || d == 0 {
            let (_, total) = try columnSums(x)
            return (Tensor.zeros([rows, m]), total.isFinite)
        }
        let block = RowOps.blockRows(rows, d, bytes: 1 << 19)
        var finite = true
        let out = Tensor<Double>(unsafeUninitializedShape: [rows, m]) { zp, _ in
            let buf = UnsafeMutablePointer<Double>.allocate(capacity: block * d)
            defer { buf.deallocate() }
            x.withUnsafeBufferPointer { xp in
                mean.withUnsafeBufferPointer { mp in
                    basis.withUnsafeBufferPointer { bp in
                        let sc = scale?.scalars ?? []
                        sc.withUnsafeBufferPointer { sb in
                            let sp: UnsafePointer<Double>? = scale == nil ? nil : sb.baseAddress
                            var start = 0
                            while start < rows {
                                let r = Swift.min(block, rows - start)
                                var total = 0.0
                                for i in 0..<r {
                                    total += RowOps.centerRow(xp.baseAddress! + (start + i) * d, mp.baseAddress!, sp, buf + i * d, d)
                                }
                                if !total.isFinite { finite = false }
                                Double.gemm(transA: false, transB: false, m: r, n: m, k: d, alpha: 1, a: buf, lda: d,
                                            b: bp.baseAddress! + columns.lowerBound, ldb: w, beta: 0, c: zp + start * m, ldc: m)
                                start += r
                            }
                        }
                    }
                }
            }
        }
        return (out, finite)
    }

    /// X = 1μᵀ + (Z·V[:, 0..<k]ᵀ + R·V[:, k..<k + r]ᵀ)·diag(s) [n, D] for Z [n, k], R [n, r] (optional), V [D, w]
    /// with k + r ≤ w, μ [D] and s [D] (nil: no scaling): the inverse of two `centeredProduct`s over complementary
    /// columns of an orthonormal V.
    ///
    /// Formed a block of rows at a time straight into the result, at least D rows per block so that packing V for
    /// each dgemm is amortised over as many rows. Without a scale the block starts as μ in every row and both
    /// products accumulate onto it (β = 1: no zero fill, no separate pass for + μ); with one, the products are
    /// formed (the second accumulating onto the first), then ·s + μ while the block is in cache. `residualFinite`
    /// is false when a block of R holds a NaN or infinity.
    public static func affineReconstruction(_ z: Tensor<Double>, residual r: Tensor<Double>?, basis: Tensor<Double>,
                                            mean: Tensor<Double>, scale: Tensor<Double>?) throws -> (result: Tensor<Double>, residualFinite: Bool) {
        guard z.rank == 2, basis.rank == 2, mean.shape == [basis.shape[0]] else {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.affineReconstruction (Z [n, k], basis [D, w], mean [D])", lhs: z.shape, rhs: basis.shape)
        }
        let rows = z.shape[0], d = basis.shape[0], w = basis.shape[1], kk = z.shape[1]
        let rest = r?.shape.last ?? 0
        if let r, r.rank != 2 || r.shape[0] != rows {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.affineReconstruction (residual [n, r])", lhs: z.shape, rhs: r.shape)
        }
        guard kk + rest <= w else {
            throw TensorError.invalidShape("RowBlockKernels.affineReconstruction: \(kk) + \(rest) coordinate columns exceed the basis's \(w) columns")
        }
        if let scale, scale.shape != mean.shape {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.affineReconstruction (scale [D])", lhs: mean.shape, rhs: scale.shape)
        }
        if rows == 0 || d == 0 { return (Tensor.zeros([rows, d]), true) }
        let block = Swift.max(RowOps.blockRows(rows, d, bytes: 1 << 20), Swift.min(rows, d))
        var residualFinite = true
        let out = Tensor<Double>(unsafeUninitializedShape: [rows, d]) { xp, _ in
            z.withUnsafeBufferPointer { zp in
                basis.withUnsafeBufferPointer { bp in
                    mean.withUnsafeBufferPointer { mp in
                        let sc = scale?.scalars ?? []
                        var start = 0
                        while start < rows {
                            let m = Swift.min(block, rows - start)
                            let c = xp + start * d
                            let prefill = sc.isEmpty
                            if prefill {
                                for i in 0..<m { (c + i * d).update(from: mp.baseAddress!, count: d) }
                            }
                            if kk > 0 {
                                Double.gemm(transA: false, transB: true, m: m, n: d, k: kk, alpha: 1, a: zp.baseAddress! + start * kk, lda: kk,
                                            b: bp.baseAddress!, ldb: w, beta: prefill ? 1 : 0, c: c, ldc: d)
                            } else if !prefill {
                                c.update(repeating: 0, count: m * d)
                            }
                            if let r, rest > 0 {
                                r.withUnsafeBufferPointer { rp in
                                    let a = rp.baseAddress! + start * rest
                                    if !RowOps.allFinite(a, m * rest) { residualFinite = false }
                                    Double.gemm(transA: false, transB: true, m: m, n: d, k: rest, alpha: 1, a: a, lda: rest,
                                                b: bp.baseAddress! + kk, ldb: w, beta: 1, c: c, ldc: d)
                                }
                            }
                            if !prefill {
                                for i in 0..<m {
                                    let row = c + i * d
                                    for j in 0..<d { row[j] = row[j] * sc[j] + mp[j] }
                                }
                            }
                            start += m
                        }
                    }
                }
            }
        }
        return (out, residualFinite)
    }

    /// Y = X_cᵀ(X_c·Z) [D, l] for X_c = X − 1μᵀ, X [n, D] in S, μ [D] and Z [D, l], in one read of X: the products
    /// run in S (sgemm for Float input), Y accumulates in Double. With `sumOfSquares`, also Σᵢⱼ (xᵢⱼ − μⱼ)² in
    /// Double from the unrounded values; with `columnSums`, Σᵢ (xᵢⱼ − μⱼ) per column in Double (and the block is
    /// then centred through Double rather than in S).
    ///
    /// The products are formed transposed, Pᵀ = ZᵀX_bᵀ [l, rows] and Yᵀ += PᵀX_b [l, D], so that the thin dimension
    /// l is BLAS's column count, the one its micro-kernels tile finely. Blocks hold about 1 MiB of S. With
    /// `BLAS.threads` = T > 1 the rows are split into T contiguous ranges (at least two blocks each), each run on its
    /// own thread with single-threaded BLAS, and the T partial sums are added in worker order. Double input
    /// accumulates Yᵀ in place (β = 1); Float input forms each block's Yᵀ in Float and adds it into Double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func centeredGramProduct<S: BLASScalar>(_ x: Tensor<S>, mean: [Double], _ z: Tensor<Double>, sumOfSquares wantSquares: Bool,
                                                          columnSums wantSums: Bool) throws -> (product: Tensor<Double>, sumOfSquares: Double, columnSums: [Double]) {
        guard x.rank == 2, z.rank == 2, z.shape[0] == x.shape[1], mean.count == x.shape[1] else {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.centeredGramProduct (X [n, D], Z [D, l], mean [D])", lhs: x.shape, rhs: z.shape)
        }
        let n = x.shape[0], d = x.shape[1], l = z.shape[1]
        if n == 0 || d == 0 || l == 0 { return (Tensor.zeros([d, l]), 0, [Double](repeating: 0, count: d)) }
        let zs: Tensor<S> = z.cast()
        let muS = mean.map { S($0) }
        let rows = RowOps.blockRows(n, d, bytes: (1 << 23) / S.byteCount)      // one block of S ≈ 1 MiB
        let workers = Swift.max(1, Swift.min(BLAS.threads, n / Swift.max(1, 2 * rows)))
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: workers * l * d)   // Yᵀ per worker
        let squares = UnsafeMutablePointer<Double>.allocate(capacity: workers)
        let colSums = UnsafeMutablePointer<Double>.allocate(capacity: workers * d)
        defer { partial.deallocate(); squares.deallocate(); colSums.deallocate() }
        partial.initialize(repeating: 0, count: workers * l * d)
        squares.initialize(repeating: 0, count: workers)
        colSums.initialize(repeating: 0, count: workers * d)
        x.withUnsafeBufferPointer { xp in
            zs.withUnsafeBufferPointer { zp in
                mean.withUnsafeBufferPointer { mp in muS.withUnsafeBufferPointer { msp in
                    let xa = xp.baseAddress!, za = zp.baseAddress!, ma = mp.baseAddress!, msa = msp.baseAddress!
                    func work(_ w: Int) {
                        let lo = n * w / workers, hi = n * (w + 1) / workers
                        let yt = partial + w * l * d
                        var sq = 0.0
                        let buf = UnsafeMutablePointer<S>.allocate(capacity: rows * d)
                        let pt = UnsafeMutablePointer<S>.allocate(capacity: rows * l)
                        let ytS = UnsafeMutablePointer<S>.allocate(capacity: d * l)
                        defer { buf.deallocate(); pt.deallocate(); ytS.deallocate() }
                        ytS.initialize(repeating: 0, count: d * l)
                        var start = lo
                        while start < hi {
                            let m = Swift.min(rows, hi - start)
                            for i in 0..<m {
                                let src = xa + (start + i) * d
                                if wantSums {
                                    _ = RowOps.centerRowSums(src, ma, buf + i * d, colSums + w * d, d)
                                } else {
                                    RowOps.centerRowInPlace(src, msa, buf + i * d, d)
                                }
                                if wantSquares { sq += RowOps.centeredSquares(src, ma, d) }
                            }
                            // Pᵀ [l, m] = Zᵀ [l, D] · X_bᵀ [D, m]
                            S.gemm(transA: true, transB: true, m: l, n: m, k: d, alpha: 1, a: za, lda: l, b: buf, ldb: d,
                                   beta: 0, c: pt, ldc: m)
                            // Yᵀ [l, D] (+)= Pᵀ [l, m] · X_b [m, D]: Double accumulates in place, Float per block into Double.
                            let beta: S = S.self == Double.self ? 1 : 0
                            S.gemm(transA: false, transB: false, m: l, n: d, k: m, alpha: 1, a: pt, lda: m, b: buf, ldb: d,
                                   beta: beta, c: ytS, ldc: d)
                            if S.self != Double.self { for i in 0..<(d * l) { yt[i] += Double(ytS[i]) } }
                            start += m
                        }
                        if S.self == Double.self { for i in 0..<(d * l) { yt[i] = Double(ytS[i]) } }
                        squares[w] = sq
                    }
                    if workers == 1 {
                        work(0)
                    } else {
                        BLAS.withThreads(1) { Parallel.perform(iterations: workers) { work($0) } }
                    }
                } }
            }
        }
        for w in 1..<Swift.max(1, workers) {
            let src = partial + w * l * d
            for i in 0..<(l * d) { partial[i] += src[i] }
            squares[0] += squares[w]
        }
        var sums = [Double](repeating: 0, count: d)
        if wantSums { for w in 0..<workers { for j in 0..<d { sums[j] += colSums[w * d + j] } } }
        // Y = (Yᵀ)ᵀ
        let y = Tensor<Double>(unsafeUninitializedShape: [d, l]) { out, _ in
            for a in 0..<l { for b in 0..<d { out[b * l + a] = partial[a * d + b] } }
        }
        return (y, squares[0], sums)
    }

    /// The count n, mean μ and scatter M₂ = Σᵢ(xᵢ − μ)(xᵢ − μ)ᵀ of a set of rows, all in Double (`scatter` is the
    /// full symmetric D×D matrix).
    public struct Scatter: Sendable {
        public var count: Int
        public var mean: [Double]
        public var scatter: Tensor<Double>
    }

    /// The rows whose sums were not finite (a NaN or infinity among them, or values too large for Double).
    public struct NonFiniteRows: Error, Sendable {
        public var rows: Range<Int>
    }

    /// The scatter of the rows of X [n, D], as one `Scatter` per worker, each over a contiguous range of whole
    /// chunks of `chunk` rows (merge them in order, e.g. by Chan, Golub & LeVeque 1979); or the first chunk
    /// (in row order of the workers) whose sums are not finite.
    ///
    /// Each chunk's scatter is formed about a shift c close to its mean and corrected exactly:
    /// Σ(x − μ)(x − μ)ᵀ = Σ(x − c)(x − c)ᵀ − m·δδᵀ with δ = μ − c, then merged into the running (n, μ, M₂) by
    /// Chan et al. The first chunk of a range uses its own mean as c (two reads); later chunks the running mean
    /// (one read). The shifted rows go a block at a time (at least 1024 rows, about 1 MiB of S) into a buffer in the
    /// input's precision and are folded in by syrk (Float input: ssyrk, with the centring in Float on the shift
    /// rounded to Float, and the chunk's Float scatter added into Double after the chunk, so Float rounding never
    /// accumulates over more than one chunk). With `BLAS.threads` = T > 1 (and at least 4096 rows per worker) the
    /// chunks are split over T threads running single-threaded BLAS.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func centeredScatter<S: BLASScalar>(_ x: Tensor<S>, chunk: Int) throws -> Result<[Scatter], NonFiniteRows> {
        guard x.rank == 2 else { throw TensorError.invalidShape("RowBlockKernels.centeredScatter: expected an n×D matrix, got shape \(x.shape)") }
        let m = x.shape[0], d = x.shape[1], chunk = Swift.max(1, chunk)
        if m == 0 { return .success([]) }
        let chunks = (m + chunk - 1) / chunk
        let workers = Swift.max(1, Swift.min(BLAS.threads, chunks, m / 4096))
        var parts = [Scatter?](repeating: nil, count: workers)
        var failures = [Range<Int>?](repeating: nil, count: workers)
        x.withUnsafeBufferPointer { xp in
            let xa = xp.baseAddress!
            parts.withUnsafeMutableBufferPointer { pp in
                failures.withUnsafeMutableBufferPointer { fp in
                    func work(_ w: Int) {
                        let lo = Swift.min(m, chunks * w / workers * chunk), hi = Swift.min(m, chunks * (w + 1) / workers * chunk)
                        switch accumulate(xa, rows: lo..<hi, d: d, chunk: chunk) {
                        case .success(let s): pp[w] = s
                        case .failure(let bad): fp[w] = bad.rows
                        }
                    }
                    if workers == 1 {
                        work(0)
                    } else {
                        BLAS.withThreads(1) { Parallel.perform(iterations: workers) { work($0) } }
                    }
                }
            }
        }
        if let bad = failures.lazy.compactMap({ $0 }).first { return .failure(NonFiniteRows(rows: bad)) }
        return .success(parts.compactMap { $0 })
    }

    /// The scatter of rows `range` of the row-major [*, d] matrix at `x` (see `centeredScatter`), or the first
    /// chunk whose sums are not finite.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func accumulate<S: BLASScalar>(_ x: UnsafePointer<S>, rows range: Range<Int>, d: Int, chunk: Int) -> Result<Scatter, NonFiniteRows> {
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
        return .success(Scatter(count: n, mean: mean, scatter: scatter))
    }

    /// G = [X_c Y_c]ᵀ[X_c Y_c] [(D₁ + D₂)²] for X [n, D₁] and Y [n, D₂] centred by μ = [μ_X μ_Y] (given, D₁ + D₂
    /// values): XᵀX, XᵀY and YᵀY of the centred data in one matrix. Only the upper triangle is formed (the lower
    /// holds zeros).
    ///
    /// Blocks of rows of both inputs (at least max(256, D₁ + D₂) rows, about 1 MiB) are centred side by side in
    /// Double into one buffer and folded in by one dsyrk each: the n(D₁ + D₂)² flops of the three products in one
    /// call per block, and no centred copy of either input. With `BLAS.threads` = T > 1 (at least two blocks per
    /// worker) the rows are split into T ranges on T threads with single-threaded BLAS, and the partial Gram
    /// matrices are added in worker order.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func centeredJointGram<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, mean: [Double]) throws -> Tensor<Double> {
        guard x.rank == 2, y.rank == 2, x.shape[0] == y.shape[0], mean.count == x.shape[1] + y.shape[1] else {
            throw TensorError.shapeMismatch(operation: "RowBlockKernels.centeredJointGram (X [n, D₁], Y [n, D₂], mean [D₁ + D₂])", lhs: x.shape, rhs: y.shape)
        }
        let n = x.shape[0], d1 = x.shape[1], d2 = y.shape[1], dd = d1 + d2
        if n == 0 || dd == 0 { return Tensor.zeros([dd, dd]) }
        let block = Swift.min(n, Swift.max(256, dd, RowOps.blockRows(n, dd)))
        let workers = Swift.max(1, Swift.min(BLAS.threads, n / (2 * block)))
        let g = UnsafeMutablePointer<Double>.allocate(capacity: workers * dd * dd)
        defer { g.deallocate() }
        g.initialize(repeating: 0, count: workers * dd * dd)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                mean.withUnsafeBufferPointer { mp in
                    func work(_ w: Int) {
                        let lo = n * w / workers, hi = n * (w + 1) / workers
                        let buf = UnsafeMutablePointer<Double>.allocate(capacity: block * dd)
                        defer { buf.deallocate() }
                        var start = lo
                        while start < hi {
                            let m = Swift.min(block, hi - start)
                            for i in 0..<m {
                                _ = RowOps.centerRow(xp.baseAddress! + (start + i) * d1, mp.baseAddress!, nil, buf + i * dd, d1)
                                _ = RowOps.centerRow(yp.baseAddress! + (start + i) * d2, mp.baseAddress! + d1, nil, buf + i * dd + d1, d2)
                            }
                            Double.syrk(trans: true, n: dd, k: m, alpha: 1, a: buf, lda: dd, beta: 1, c: g + w * dd * dd, ldc: dd)
                            start += m
                        }
                    }
                    if workers == 1 {
                        work(0)
                    } else {
                        BLAS.withThreads(1) { Parallel.perform(iterations: workers) { work($0) } }
                    }
                }
            }
        }
        for w in 1..<Swift.max(1, workers) { for i in 0..<(dd * dd) { g[i] += g[w * dd * dd + i] } }
        return Tensor<Double>(unsafeUninitializedShape: [dd, dd]) { out, count in out.update(from: g, count: count) }
    }
}
