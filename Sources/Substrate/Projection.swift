import Foundation
import Linear

/// How a `Projection` finds its principal directions (docs/method.md §2). All three agree to tolerance on the same data.
public enum ProjectionMethod: String, Sendable, CaseIterable {
    /// Thin SVD of the centred data (for n ≥ D: Householder QR, then the SVD of R; else LAPACK gesdd). Exact;
    /// O(nD·min(n, D)).
    case svd
    /// Eigendecomposition of the covariance accumulated in Double in row chunks (syrk + syevd). Exact,
    /// streaming (memory independent of n) and mergeable across shards. O(nD² + D³).
    case covariance
    /// Randomized SVD (Halko, Martinsson & Tropp 2011) of the top directions only; the rest of the basis is an
    /// orthonormal completion. Subspace iteration on C = X_cᵀX_c, applied either through the formed D×D matrix (one
    /// read of X, O(nD²)) or streamed (q + 2 reads of X, O(nD·(k + p)·(q + 2))), whichever the cost model
    /// `Projection.randomizedFormsCovariance` finds cheaper (`ProjectionOptions.randomizedOperator` overrides it).
    case randomized
}

/// How the randomized method applies C = X_cᵀX_c (the centred scatter) to its D×l iterate. Both run the same
/// subspace iteration from the same seeded start and agree up to rounding; they differ only in cost.
public enum RandomizedOperator: String, Sendable, CaseIterable {
    /// `covariance` when `Projection.randomizedFormsCovariance` says forming C is cheaper, else `streamed`.
    case automatic
    /// Form C once (one streamed syrk read of X, n·D(D + 1)/2 multiply-adds, memory O(D²)) and multiply the
    /// D×D matrix in every iteration.
    case covariance
    /// Never form C: each application Y = X_cᵀ(X_cZ) is one read of X with two thin products (2·n·D·l
    /// multiply-adds), q + 2 reads in all.
    case streamed
}

/// Options of `Projection.fit`; the defaults are those of docs/method.md.
public struct ProjectionOptions: Sendable {
    /// Core size k (3, 6 or 9 by convention; any 1 ≤ k ≤ D).
    public var k: Int = 9
    public var method: ProjectionMethod = .svd
    /// Subtract the column mean (on by default).
    public var center: Bool = true
    /// Divide each feature by its standard deviation before fitting (off by default).
    public var standardize: Bool = false
    /// `project` returns whitened coordinates z/√λ (off by default).
    public var whiten: Bool = false
    /// Seed of the randomized method's Gaussian start (basis completion is deterministic: Householder).
    public var seed: UInt64 = 0
    /// Randomized method: oversampling p (default 10) and power iterations q (default 4).
    public var oversampling: Int = 10
    public var powerIterations: Int = 4
    /// Randomized method: how C = X_cᵀX_c is applied in the subspace iteration (default: by the cost model).
    public var randomizedOperator: RandomizedOperator = .automatic
    /// Covariance method: rows per chunk.
    public var chunkRows: Int = 4096

    public init(k: Int = 9, method: ProjectionMethod = .svd) { self.k = k; self.method = method }
}

/// An invertible linear map of ℝ^D into a k-dimensional core plus its orthogonal residual (docs/method.md §2).
///
/// With μ the mean, V = [V_k | V_⊥] an orthonormal D×D basis ordered by explained variance:
/// `project(x)` = (x − μ)V_k, `residual(x)` = (x − μ)V_⊥, `lift(z, r)` = μ + zV_kᵀ + rV_⊥ᵀ (the exact inverse),
/// `lift(z)` = μ + zV_kᵀ (the best rank-k reconstruction). Signs are deterministic: each column's entry of
/// largest magnitude is positive. Everything is Double.
public struct Projection: Sendable {
    /// μ [D] (zeros when centring is off).
    public var mean: Tensor<Double>
    /// Per-feature standard deviations [D] when fitted with `standardize`, else nil.
    public var scale: Tensor<Double>?
    /// V [D, D], columns ordered by explained variance.
    public var basis: Tensor<Double>
    /// λ, descending: the variance along each known direction (D values for svd/covariance; for randomized the
    /// top max(k, 9) only), in units of 2^`varianceExponent` (1 but for data of extreme magnitude).
    public var eigenvalues: [Double]
    /// Σ of all D variances (the trace of the covariance), so ratios are exact even when not every λ is known.
    public var totalVariance: Double
    /// Core size.
    public var k: Int
    /// Rows the projection was fitted on.
    public var n: Int
    public var method: ProjectionMethod
    public var whiten: Bool
    /// Free-form provenance (creation time, source file), saved with the projection.
    public var metadata: [String: String] = [:]
    /// E: the variances are `eigenvalues`·2ᴱ and `totalVariance`·2ᴱ. 0 (the values are the variances themselves)
    /// unless the true variances of data of extreme magnitude overflow or underflow Double (e.g. data of order
    /// 1e200 have variances of order 1e400); ratios, whitening and everything else account for it.
    public var varianceExponent: Int = 0

    /// Dimension D.
    public var dimension: Int { mean.count }

    /// λᵢ / Σλ for the known directions.
    public var explainedVarianceRatio: [Double] { eigenvalues.map { totalVariance > 0 ? $0 / totalVariance : 0 } }

    /// E_k = Σ_{i≤k} λᵢ / Σλ for k = 3, 6, 9.
    public var coreEnergy: [Int: Double] {
        Dictionary(uniqueKeysWithValues: Ladder.cores.map { c in
            (c, totalVariance > 0 ? eigenvalues.prefix(c).reduce(0, +) / totalVariance : 0)
        })
    }

    /// max |VᵀV − I|.
    public var orthonormalityError: Double {
        let g = (try? matmul(basis, basis, transposeA: true)) ?? basis
        return (try? (g - Tensor<Double>.eye(dimension)).maxAbs()) ?? .infinity
    }

    /// V_k [D, k].
    public var coreBasis: Tensor<Double> { Self.columns(basis, 0..<k) }
    /// V_⊥ [D, D − k].
    public var residualBasis: Tensor<Double> { Self.columns(basis, k..<dimension) }

    /// Columns `range` of the D×D matrix `v` (a copy), for ranges within 0...D (k is checked when fitting and loading).
    /// How far from orthonormal the fitted directions may be before the basis completion refuses them.
    static let completionTolerance = 1e-8

    static func columns(_ v: Tensor<Double>, _ range: Range<Int>) -> Tensor<Double> {
        let d = v.shape[0], w = v.shape[1], c = range.count
        return v.withUnsafeBufferPointer { src in
            Tensor<Double>(unsafeUninitializedShape: [d, c]) { dst, _ in
                for i in 0..<d { for j in 0..<c { dst[i * c + j] = src[i * w + range.lowerBound + j] } }
            }
        }
    }

    // MARK: Fitting

    /// Fits a projection on the rows of `x` [n, D] (Float or Double input; the fit runs in Double).
    ///
    /// Scale invariant: data whose largest magnitude lies outside `BinaryScale`'s window (2^±30 for Float, 2^±300
    /// for Double) are fitted divided by 2ᵉ, e the exponent of max|x| (exact, on a copy), and the result is scaled
    /// back (`rescaled(byPowerOfTwo:)`), so data of order 1e-320 or 1e200 give the directions and explained-variance
    /// ratios of data of order 1 up to rounding relative to their own scale.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func fit<S: BLASScalar>(_ x: Tensor<S>, options o: ProjectionOptions = ProjectionOptions()) throws -> Projection {
        guard x.rank == 2 else { throw AnalysisError.shape(term: "fit", problem: "expected an n×D matrix, got shape \(x.shape)") }
        let n = x.shape[0], d = x.shape[1]
        try checkFitInput(n: n, d: d, options: o)
        try AnalysisError.requireFinite(x, term: "fit")
        if let e = BinaryScale.exponent(of: x) {
            return try fit(BinaryScale.times(x, pow2: -e), options: o).rescaled(byPowerOfTwo: e)
        }
        if o.method == .covariance && !o.standardize {
            var stats = CovarianceStatistics(dimension: d)
            try stats.add(x, chunk: o.chunkRows)
            return try fit(statistics: stats, options: o)
        }
        if o.method == .randomized && !o.standardize {
            return try fitRandomized(x, options: o)
        }
        if o.method == .svd && n >= d {
            return try fitSVDTall(x, options: o)
        }
        var xd: Tensor<Double> = x.cast()
        try xd.checkFinite("input")
        var mean = Tensor<Double>.zeros([d])
        if o.center { mean = try xd.mean(axis: 0); xd = try xd - mean }
        var scale: Tensor<Double>? = nil
        if o.standardize {
            let sd = try xd.std(axis: 0, ddof: 1).map { $0 > 0 ? $0 : 1 }
            xd = try xd / sd
            scale = sd
        }
        var p: Projection
        switch o.method {
        case .svd:
            let svd = try xd.svd()
            let lambda = svd.s.scalars.map { $0 * $0 / Double(n - 1) }
            let v = try svd.vt.transposed()            // D × min(n, D)
            let full = try v.orientedBasis(tolerance: Self.completionTolerance)
            var eig = lambda
            eig += [Double](repeating: 0, count: d - eig.count)
            p = Projection(mean: mean, scale: scale, basis: full, eigenvalues: eig, totalVariance: eig.reduce(0, +),
                           k: o.k, n: n, method: .svd, whiten: o.whiten)
        case .covariance:
            let c = try xd.gram(alpha: 1 / Double(n - 1))
            p = try fromCovariance(c, mean: mean, n: n, options: o)
            p.scale = scale
        case .randomized:
            // Standardised input (the implicit-centring path below handles the plain case without a copy).
            let r = Swift.min(Swift.max(o.k, 9), Swift.min(n, d))
            let top = try randomizedTop(xd, mean: [Double](repeating: 0, count: d), r: r, oversampling: o.oversampling,
                                        iterations: o.powerIterations, seed: o.seed)
            let full = try top.vectors.orientedBasis(tolerance: Self.completionTolerance)
            let lambda = top.lambda
            p = Projection(mean: mean, scale: scale, basis: full, eigenvalues: lambda, totalVariance: xd.square().sum() / Double(n - 1),
                           k: o.k, n: n, method: .randomized, whiten: o.whiten)
        }
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// The svd method for n ≥ D: the singular values and right singular vectors of the centred (and scaled) data
    /// are those of R in its QR factorisation X_c = QR (LAPACK's own first step for tall matrices), so only R is
    /// formed: one Householder QR of a column-major centred copy (written straight from the input, no row-major
    /// intermediate), then the SVD of the D×D R. Neither Q nor U (n×D each) is built: about a third of the flops
    /// and memory of the thin SVD with U, and the same λ and V.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func fitSVDTall<S: BLASScalar>(_ x: Tensor<S>, options o: ProjectionOptions) throws -> Projection {
        let n = x.shape[0], d = x.shape[1]
        let (sums, total) = try RowBlockKernels.columnSums(x)
        if !total.isFinite { try x.checkFinite("input") }
        let mu = o.center ? sums.map { $0 / Double(n) } : [Double](repeating: 0, count: d)
        var scale: [Double]? = nil
        if o.standardize {
            // Sample standard deviations (ddof 1) of the centred columns; constant columns keep scale 1.
            var sq = [Double](repeating: 0, count: d)
            let m = sums.map { $0 / Double(n) }                // about the column means, centred fit or not
            x.withUnsafeBufferPointer { p in
                for i in 0..<n { for j in 0..<d { let v = Double(p[i * d + j]) - m[j]; sq[j] += v * v } }
            }
            scale = sq.map { v in let sd = (v / Double(n - 1)).squareRoot(); return sd > 0 ? sd : 1 }
        }
        // R of the thin QR of (x − μ)/s (one Householder QR of a column-major centred copy; Q is not formed).
        let r = try x.centeredTriangularFactor(mean: mu, scale: scale)
        let svd = try r.svd()
        let lambda = svd.s.scalars.map { $0 * $0 / Double(n - 1) }
        var p = Projection(mean: Tensor(mu), scale: scale.map { Tensor($0) }, basis: try svd.vt.transposed().orientedBasis(tolerance: Self.completionTolerance),
                           eigenvalues: lambda, totalVariance: lambda.reduce(0, +), k: o.k, n: n, method: .svd, whiten: o.whiten)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// The checks of every fit, in one place: n ≥ 2 rows (a covariance needs n − 1 ≥ 1), D ≥ 1 and 1 ≤ k ≤ D.
    /// Throws `AnalysisError` naming the term `fit` (`.tooFewRows`, `.shape`, `.parameter(name: "k")`).
    public static func checkFitInput(n: Int, d: Int, options o: ProjectionOptions) throws {
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "fit", needed: 2, got: n, detail: "need at least 2 rows to fit a projection, got \(n)") }
        guard d >= 1 else { throw AnalysisError.shape(term: "fit", problem: "the states have no columns (D = 0); need D ≥ 1") }
        guard o.k >= 1, o.k <= d else { throw AnalysisError.parameter(term: "fit", name: "k", problem: "core size k = \(o.k) must be in 1...\(d) (D = \(d))") }
    }

    /// Fits the covariance method from accumulated (possibly merged) statistics.
    public static func fit(statistics s: CovarianceStatistics, options o: ProjectionOptions = ProjectionOptions()) throws -> Projection {
        try checkFitInput(n: s.count, d: s.dimension, options: o)
        guard !o.standardize else {
            throw AnalysisError.parameter(term: "fit", name: "standardize", problem: "standardisation is not available from merged statistics")
        }
        // In the statistics' scaled units (μ̃ = μ·2⁻ᵉ, C̃ = C·2⁻²ᵉ), then scaled back.
        let mean = o.center ? s.scaledMean : Tensor<Double>.zeros([s.dimension])
        var c = try s.scaledCovariance()
        if !o.center {
            // Uncentred second moment: Σxxᵀ/(n − 1) = C + n/(n − 1)·μμᵀ.
            try c.addScaled(outer(s.scaledMean, s.scaledMean), Double(s.count) / Double(s.count - 1))
        }
        var p = try fromCovariance(c, mean: mean, n: s.count, options: o).rescaled(byPowerOfTwo: s.scaleExponent)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// The projection of the data X·2ᵉ, given this one fitted on X (`scale`, if standardised, is of X): the mean
    /// and the per-feature scale are multiplied by 2ᵉ and the variances by 2²ᵉ, the basis is unchanged.
    /// Standardised variances are scale-free and stay as they are. The variances are folded into `eigenvalues`
    /// when they fit Double with room for their smallest ratios (total in [2⁻⁸⁰⁰, 2¹⁰⁰⁰)), else carried in
    /// `varianceExponent`.
    public func rescaled(byPowerOfTwo e: Int) -> Projection {
        if e == 0 { return self }
        var p = self
        p.mean = BinaryScale.times(mean, pow2: e)
        if let scale {
            p.scale = BinaryScale.times(scale, pow2: e)
            return p
        }
        let exponent = varianceExponent + 2 * e
        let total = BinaryScale.times(totalVariance, pow2: exponent)
        let fits = totalVariance == 0 || (total.isFinite && total >= 0x1p-800 && total < 0x1p1000)
        if fits {
            p.eigenvalues = BinaryScale.times(eigenvalues, pow2: exponent)
            p.totalVariance = total
            p.varianceExponent = 0
        } else {
            p.varianceExponent = exponent
        }
        return p
    }

    /// The variances λᵢ = `eigenvalues`ᵢ·2ᴱ in Double (±∞ or 0 where they overflow or underflow).
    public var variances: [Double] { BinaryScale.times(eigenvalues, pow2: varianceExponent) }

    /// √λᵢ for i < k, as (roots of `eigenvalues`ᵢ·2^(E mod 2), ⌊E/2⌋), so that √λᵢ = root·2^⌊E/2⌋ without
    /// forming λ.
    var coreRoots: (roots: [Double], halfExponent: Int) {
        let half = varianceExponent >> 1, odd = varianceExponent - 2 * half
        return (eigenvalues.prefix(k).map { BinaryScale.times($0, pow2: odd).squareRoot() }, half)
    }

    static func fromCovariance(_ c: Tensor<Double>, mean: Tensor<Double>, n: Int, options o: ProjectionOptions) throws -> Projection {
        let d = c.shape[0]
        let e = try c.eigh()
        // Ascending → descending.
        let lambda = (0..<d).reversed().map { Swift.max(0, e.values[$0]) }
        // Columns in descending order: one reversed copy of each row.
        let v = e.vectors.withUnsafeBufferPointer { src in
            Tensor<Double>(unsafeUninitializedShape: [d, d]) { dst, _ in
                for i in 0..<d { for j in 0..<d { dst[i * d + j] = src[i * d + d - 1 - j] } }
            }
        }
        let oriented = try v.orientedBasis(tolerance: Self.completionTolerance)
        return Projection(mean: mean, scale: nil, basis: oriented, eigenvalues: lambda, totalVariance: lambda.reduce(0, +),
                          k: o.k, n: n, method: .covariance, whiten: o.whiten)
    }

    /// The randomized fit without materialising the centred data. The subspace iteration applies C = X_cᵀX_c
    /// either through the explicitly formed D×D scatter (accumulated like the covariance method: one read of X,
    /// memory O(D²)) or streamed (q + 2 reads of X, each block centred into a small buffer in the input's precision,
    /// Float input using sgemm; memory O(block·D + D·l)); `options.randomizedOperator` chooses, by default the
    /// cost model `randomizedFormsCovariance`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func fitRandomized<S: BLASScalar>(_ x: Tensor<S>, options o: ProjectionOptions) throws -> Projection {
        let n = x.shape[0], d = x.shape[1]
        let r = Swift.min(Swift.max(o.k, 9), Swift.min(n, d))
        let l = Swift.min(Swift.min(n, d), r + Swift.max(0, o.oversampling))
        let explicit: Bool
        switch o.randomizedOperator {
        case .automatic: explicit = randomizedFormsCovariance(n: n, d: d, l: l, iterations: o.powerIterations, scalarBytes: S.byteCount)
        case .covariance: explicit = true
        case .streamed: explicit = false
        }
        if explicit {
            var stats = CovarianceStatistics(dimension: d)
            try stats.add(x, chunk: o.chunkRows)
            return try fitRandomized(statistics: stats, options: o)
        }
        // With centring, the mean comes out of the sketch's first read of X (see randomizedTop).
        let top = try randomizedTop(x, mean: o.center ? nil : [Double](repeating: 0, count: d), r: r, oversampling: o.oversampling,
                                    iterations: o.powerIterations, seed: o.seed)
        var p = Projection(mean: Tensor(top.mean), scale: nil, basis: try top.vectors.orientedBasis(tolerance: Self.completionTolerance), eigenvalues: top.lambda,
                           totalVariance: Swift.max(0, top.sumSquares) / Double(n - 1), k: o.k, n: n, method: .randomized, whiten: o.whiten)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// The randomized method on the formed scatter: `subspaceIteration` with C = M₂ = Σ(x − μ)(x − μ)ᵀ (or Σxxᵀ
    /// without centring, M₂ + nμμᵀ) applied as one D×D product per step, in the statistics' scaled units
    /// (μ̃ = μ·2⁻ᵉ, M̃₂ = M₂·2⁻²ᵉ) and scaled back. The explicit operator of `fitRandomized`, and what
    /// `vst fit-projection --method randomized` runs on statistics streamed from files (memory O(block·D + D²),
    /// the input never held). The total variance is tr(C)/(n − 1).
    public static func fitRandomized(statistics s: CovarianceStatistics, options o: ProjectionOptions) throws -> Projection {
        let n = s.count, d = s.dimension
        try checkFitInput(n: n, d: d, options: o)
        guard !o.standardize else {
            throw AnalysisError.parameter(term: "fit", name: "standardize", problem: "standardisation is not available from merged statistics")
        }
        let r = Swift.min(Swift.max(o.k, 9), Swift.min(n, d))
        let l = Swift.min(Swift.min(n, d), r + Swift.max(0, o.oversampling))
        var c = s.scaledScatter                                                              // Σ(x − μ)(x − μ)ᵀ
        var mean = s.scaledMean.scalars
        if !o.center {
            try c.addScaled(outer(s.scaledMean, s.scaledMean), Double(n))                   // Σxxᵀ
            mean = [Double](repeating: 0, count: d)
        }
        let trace = c.withUnsafeBufferPointer { p in (0..<d).reduce(0.0) { $0 + p[$1 * d + $1] } }
        let it = try subspaceIteration(d: d, l: l, r: r, n: n, iterations: o.powerIterations, seed: o.seed) { z, _ in
            try matmul(c, z)
        }
        var p = Projection(mean: Tensor(mean), scale: nil, basis: try it.vectors.orientedBasis(tolerance: Self.completionTolerance), eigenvalues: it.lambda,
                           totalVariance: Swift.max(0, trace) / Double(n - 1), k: o.k, n: n, method: .randomized, whiten: o.whiten)
            .rescaled(byPowerOfTwo: s.scaleExponent)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// Whether the randomized fit should form C = X_cᵀX_c once rather than stream q + 2 applications of it.
    ///
    /// Forming C costs one syrk over X, n·D(D + 1)/2 multiply-adds; streaming costs q + 2 reads, each two thin
    /// products of 2·n·D·l multiply-adds. Thin products (l ≈ 19 columns) run BLAS well below its peak, so the
    /// comparison weighs them by ρ, the measured ratio of a thin product's rate to syrk's (single-threaded OpenBLAS
    /// 0.3.21 on AVX-512: 0.34 in Float, 0.5 in Double): C is formed when D·ρ < 4·l·(q + 2). With the defaults
    /// (k = 9, p = 10, q = 4) that is D ≤ 1341 for Float input and D ≤ 911 for Double. Never when n < D (C would
    /// cost more than the data it summarises).
    public static func randomizedFormsCovariance(n: Int, d: Int, l: Int, iterations q: Int, scalarBytes: Int) -> Bool {
        guard n >= d else { return false }
        let rho = scalarBytes <= 4 ? 0.34 : 0.5
        return Double(d) * rho < 4 * Double(l) * Double(Swift.max(0, q) + 2)
    }

    /// `SubspaceIteration.topEigenpairs` (Halko, Martinsson & Tropp 2011, §4.5) on the scatter C applied by
    /// `apply`, with λ = θ/(n − 1).
    static func subspaceIteration(d: Int, l: Int, r: Int, n: Int, iterations: Int, seed: UInt64,
                                  apply: (Tensor<Double>, Int) throws -> Tensor<Double>) throws -> (vectors: Tensor<Double>, lambda: [Double]) {
        let top = try SubspaceIteration.topEigenpairs(dimension: d, sketch: l, rank: r, iterations: iterations, seed: seed, apply: apply)
        return (top.vectors, top.values.map { $0 / Double(n - 1) })
    }

    /// Top-r right singular vectors of X_c = X − 1μᵀ [n, D] and λ = σ²/(n − 1), by `subspaceIteration` on
    /// C = X_cᵀX_c without forming C or X_c: each application Y = CZ is one read of X in blocks of rows, each block
    /// centred into a cache-resident buffer and multiplied twice (P = X_b Z, Y += X_bᵀP) while it is in cache.
    ///
    /// Also returns Σ of the squared centred entries (for the total variance) and the mean: when `mean` is nil it is
    /// computed in the first read, which is then uncentred (see below), so X is read q + 2 times in all.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func randomizedTop<S: BLASScalar>(_ x: Tensor<S>, mean given: [Double]?, r: Int, oversampling: Int, iterations: Int,
                                             seed: UInt64) throws -> (vectors: Tensor<Double>, lambda: [Double], sumSquares: Double, mean: [Double]) {
        let n = x.shape[0], d = x.shape[1]
        let l = Swift.min(Swift.min(n, d), r + Swift.max(0, oversampling))
        var sumSquares = 0.0
        var mean = given ?? [Double](repeating: 0, count: d)
        let it = try subspaceIteration(d: d, l: l, r: r, n: n, iterations: iterations, seed: seed) { z, t in
            if t == 0 {
                // First read: also the column sums (finiteness, and the mean when not given). Without a given
                // mean this read is uncentred, Y = XᵀXZ, corrected to X_cᵀX_cZ = XᵀXZ − nμ(μᵀZ): the correction
                // can cancel for large offsets, but this Y only seeds the iteration (its subspace is re-formed
                // from centred products in every later read), so no read of X is spent on the mean alone.
                let centred = given != nil
                let first = try RowBlockKernels.centeredGramProduct(x, mean: mean, z, sumOfSquares: centred, columnSums: true)
                var y = first.product
                let sums = first.columnSums
                if centred { sumSquares += first.sumOfSquares }
                if !sums.reduce(0, +).isFinite { try x.checkFinite("input") }
                if !centred {
                    mean = sums.map { $0 / Double(n) }
                    let mz = try matmul(Tensor(mean, shape: [1, d]), z)                       // μᵀZ [1, l]
                    let nn = Double(n), mu = mean
                    y.withUnsafeMutableBufferPointer { yp in
                        mz.withUnsafeBufferPointer { mp in
                            for j in 0..<d { for a in 0..<l { yp[j * l + a] -= nn * mu[j] * mp[a] } }
                        }
                    }
                }
                return y
            } else if t == 1 && given == nil {
                let product = try RowBlockKernels.centeredGramProduct(x, mean: mean, z, sumOfSquares: true, columnSums: false)
                sumSquares += product.sumOfSquares
                return product.product
            } else {
                return try RowBlockKernels.centeredGramProduct(x, mean: mean, z, sumOfSquares: false, columnSums: false).product
            }
        }
        return (it.vectors, it.lambda, sumSquares, mean)
    }

    func checkWhitenable() throws {
        for i in 0..<k where !(eigenvalues.indices.contains(i) && eigenvalues[i] > 0 && eigenvalues[i].isFinite) {
            throw AnalysisError.undefined(term: "whitening", reason: "core direction \(i + 1) has zero variance, so z/√λ is undefined; fit without whitening or with a smaller k")
        }
    }

    // MARK: Maps

    /// ((x − μ)/s)·V[:, columns] [n, |columns|] in Double, by `RowBlockKernels.centeredProduct`, a block of rows at a time: each block is converted,
    /// centred and scaled into a cache-resident buffer and multiplied by the basis columns in place (one gemm with
    /// the basis's own leading dimension, no copy of V_k or V_⊥), so the input is read once and nothing of its size
    /// is allocated besides the result. Checks the width first and finiteness along the way (a block's sum is
    /// non-finite when it holds a NaN or infinity; the whole input is then checked for the message).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func mapped<S: BLASScalar>(_ x: Tensor<S>, _ op: String, columns: Range<Int>) throws -> Tensor<Double> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "\(op) (the projection has D = \(dimension))", lhs: [n, dimension], rhs: x.shape)
        }
        let rows = x.shape[0], m = columns.count
        if rows == 0 || m == 0 {
            try x.checkFinite(op + " input")
            return Tensor.zeros([rows, m])
        }
        let (out, finite) = try RowBlockKernels.centeredProduct(x, mean: mean, scale: scale, basis: basis, columns: columns)
        if !finite { try x.checkFinite(op + " input") }
        return out
    }

    /// Core coordinates z = (x − μ)V_k [n, k] (divided by √λ when whitening).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func project<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Double> {
        if whiten { try checkWhitenable() }
        var z = try mapped(x, "project", columns: 0..<k)
        if whiten {
            let (roots, half) = coreRoots
            let kk = k
            z.withUnsafeMutableBufferPointer { p in
                if half == 0 {
                    for i in 0..<(p.count / Swift.max(1, kk)) { for c in 0..<kk { p[i * kk + c] /= roots[c] } }
                } else {
                    for i in 0..<(p.count / Swift.max(1, kk)) { for c in 0..<kk { p[i * kk + c] = BinaryScale.times(p[i * kk + c], pow2: -half) / roots[c] } }
                }
            }
        }
        return z
    }

    /// Residual coordinates r = (x − μ)V_⊥ [n, D − k].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func residual<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Double> {
        try mapped(x, "residual", columns: k..<dimension)
    }

    /// μ + zV_kᵀ (+ rV_⊥ᵀ when the residual is given): the exact inverse of (project, residual), or the best
    /// rank-k reconstruction without it.
    ///
    /// Formed by `RowBlockKernels.affineReconstruction`, a block of rows at a time into the result (gemm with the basis's own leading dimension for V_kᵀ and
    /// V_⊥ᵀ, the second accumulating onto the first, then ·s + μ while the block is in cache): no temporary of
    /// the result's size and no copy of the basis.
    public func lift(_ z: Tensor<Double>, residual r: Tensor<Double>? = nil) throws -> Tensor<Double> {
        guard z.rank == 2, z.shape[1] == k else {
            throw TensorError.shapeMismatch(operation: "lift (core coordinates have k = \(k) columns)", lhs: [z.shape.first ?? 0, k], rhs: z.shape)
        }
        try z.checkFinite("lift: core coordinates")
        let rows = z.shape[0], d = dimension, kk = k, rest = d - k
        if let r {
            guard r.rank == 2, r.shape == [rows, rest] else {
                throw TensorError.shapeMismatch(operation: "lift (residual must be n×(D − k))", lhs: [rows, rest], rhs: r.shape)
            }
        }
        var zz = z
        if whiten {
            try checkWhitenable()
            let (roots, half) = coreRoots
            zz.withUnsafeMutableBufferPointer { p in
                for i in 0..<rows { for c in 0..<kk { p[i * kk + c] = BinaryScale.times(p[i * kk + c] * roots[c], pow2: half) } }
            }
        }
        if rows == 0 { return Tensor.zeros([0, d]) }
        let (out, residualFinite) = try RowBlockKernels.affineReconstruction(zz, residual: r, basis: basis, mean: mean, scale: scale)
        if let r, !residualFinite { try r.checkFinite("lift: residual") }
        return out
    }

    /// ‖lift(project(x), residual(x)) − x‖_F / ‖x‖_F.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func roundTripError<S: BLASScalar>(_ x: Tensor<S>) throws -> Double {
        let xd: Tensor<Double> = x.cast()
        let back = try lift(project(x), residual: residual(x))
        let denom = xd.norm()
        return try (back - xd).norm() / (denom > 0 ? denom : 1)
    }

    /// The fit-projection report of docs/method.md §10.
    public func report(roundTripError: Double) -> JSON {
        .object([
            ("n", .int(n)), ("d", .int(dimension)), ("k", .int(k)), ("method", .string(method.rawValue)),
            ("eigenvalues", .nums(eigenvalues)),
            ("variance_exponent", .int(varianceExponent)),
            ("explained_variance_ratio", .nums(explainedVarianceRatio)),
            ("core_energy", Spectrum.coreEnergyJSON(coreEnergy)),
            ("round_trip_error", .num(roundTripError)),
            ("orthonormality_error", .num(orthonormalityError)),
        ])
    }
}
