import Foundation
import Linear

/// How a `Projection` finds its principal directions (spec §2). All three agree to tolerance on the same data.
public enum ProjectionMethod: String, Sendable, CaseIterable {
    /// Thin SVD of the centred data (LAPACK gesdd). Exact; O(nD·min(n, D)).
    case svd
    /// Eigendecomposition of the covariance accumulated in Double in row chunks (syrk + syevd). Exact,
    /// streaming (memory independent of n) and mergeable across shards. O(nD² + D³).
    case covariance
    /// Randomized SVD (Halko, Martinsson & Tropp 2011) of the top directions only; the rest of the basis is an
    /// orthonormal completion. O(nD·(k + p)·(2q + 1)).
    case randomized
}

/// Options of `Projection.fit`; the defaults are the spec's.
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
    /// Seed for the randomized method and for basis completion.
    public var seed: UInt64 = 0
    /// Randomized method: oversampling p (default 10) and power iterations q (default 4).
    public var oversampling: Int = 10
    public var powerIterations: Int = 4
    /// Covariance method: rows per chunk.
    public var chunkRows: Int = 4096

    public init(k: Int = 9, method: ProjectionMethod = .svd) { self.k = k; self.method = method }
}

/// An invertible linear map of ℝ^D into a k-dimensional core plus its orthogonal residual (spec §2).
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
    /// top max(k, 9) only).
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
    public var coreBasis: Tensor<Double> { try! basis.slice(0..<k, axis: 1) }
    /// V_⊥ [D, D − k].
    public var residualBasis: Tensor<Double> { try! basis.slice(k..<dimension, axis: 1) }

    // MARK: Fitting

    /// Fits a projection on the rows of `x` [n, D] (Float or Double input; the fit runs in Double).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func fit<S: BLASScalar>(_ x: Tensor<S>, options o: ProjectionOptions = ProjectionOptions()) throws -> Projection {
        guard x.rank == 2 else { throw TensorError.invalidShape("fit: expected an n×D matrix, got shape \(x.shape)") }
        let n = x.shape[0], d = x.shape[1]
        guard n >= 2 else { throw TensorError.invalidShape("fit: need at least 2 rows to fit a projection, got \(n)") }
        guard d >= 1, o.k >= 1, o.k <= d else { throw TensorError.invalidArgument("fit: core size k = \(o.k) must be in 1...\(d) (D = \(d))") }
        if o.method == .covariance && !o.standardize {
            var stats = CovarianceStatistics(dimension: d)
            try stats.add(x, chunk: o.chunkRows)
            return try fit(statistics: stats, options: o)
        }
        if o.method == .randomized && !o.standardize {
            return try fitRandomized(x, options: o)
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
            let full = try completeAndOrient(v, seed: o.seed)
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
            let (v, lambda) = try randomizedTop(xd, mean: Tensor<Double>.zeros([d]), r: r, oversampling: o.oversampling,
                                                iterations: o.powerIterations, seed: o.seed)
            let full = try completeAndOrient(v, seed: o.seed)
            p = Projection(mean: mean, scale: scale, basis: full, eigenvalues: lambda, totalVariance: xd.square().sum() / Double(n - 1),
                           k: o.k, n: n, method: .randomized, whiten: o.whiten)
        }
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// Fits the covariance method from accumulated (possibly merged) statistics.
    public static func fit(statistics s: CovarianceStatistics, options o: ProjectionOptions = ProjectionOptions()) throws -> Projection {
        guard s.count >= 2 else { throw TensorError.invalidArgument("fit: need at least 2 rows, the statistics hold \(s.count)") }
        guard o.k >= 1, o.k <= s.dimension else { throw TensorError.invalidArgument("fit: core size k = \(o.k) must be in 1...\(s.dimension)") }
        guard !o.standardize else { throw TensorError.invalidArgument("fit: standardisation is not available from merged statistics") }
        let mean = o.center ? s.mean : Tensor<Double>.zeros([s.dimension])
        var c = try s.covariance()
        if !o.center {
            // Uncentred second moment: Σxxᵀ/(n − 1) = C + n/(n − 1)·μμᵀ.
            try c.addScaled(outer(s.mean, s.mean), Double(s.count) / Double(s.count - 1))
        }
        var p = try fromCovariance(c, mean: mean, n: s.count, options: o)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    static func fromCovariance(_ c: Tensor<Double>, mean: Tensor<Double>, n: Int, options o: ProjectionOptions) throws -> Projection {
        let d = c.shape[0]
        let e = try c.eigh()
        // Ascending → descending.
        let order = Array((0..<d).reversed())
        let lambda = order.map { Swift.max(0, e.values[$0]) }
        let v = try e.vectors.transposed().gather(rows: order).transposed()
        let oriented = try completeAndOrient(v, seed: o.seed)
        return Projection(mean: mean, scale: nil, basis: oriented, eigenvalues: lambda, totalVariance: lambda.reduce(0, +),
                          k: o.k, n: n, method: .covariance, whiten: o.whiten)
    }

    /// The randomized fit without materialising the centred data: products with X − 1μᵀ are formed as products
    /// with X minus a rank-one correction, in the input's precision (Float input uses sgemm), so memory stays at
    /// the input plus n×(k + p).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func fitRandomized<S: BLASScalar>(_ x: Tensor<S>, options o: ProjectionOptions) throws -> Projection {
        let n = x.shape[0], d = x.shape[1]
        try x.checkFinite("input")
        let mean: Tensor<S> = o.center ? try x.mean(axis: 0) : Tensor<S>.zeros([d])
        let r = Swift.min(Swift.max(o.k, 9), Swift.min(n, d))
        let (v, lambda) = try randomizedTop(x, mean: mean, r: r, oversampling: o.oversampling, iterations: o.powerIterations, seed: o.seed)
        // tr C = Σⱼ (Σᵢ xᵢⱼ² − n·μⱼ²)/(n − 1), accumulated in Double without a temporary.
        var sumSquares = [Double](repeating: 0, count: d)
        x.withUnsafeBufferPointer { p in
            for i in 0..<n { for j in 0..<d { let v = Double(p[i * d + j]); sumSquares[j] += v * v } }
        }
        let mu: Tensor<Double> = mean.cast()
        var total = 0.0
        for j in 0..<d { total += sumSquares[j] - Double(n) * mu[j] * mu[j] }
        var p = Projection(mean: mu, scale: nil, basis: try completeAndOrient(v, seed: o.seed), eigenvalues: lambda,
                           totalVariance: Swift.max(0, total) / Double(n - 1), k: o.k, n: n, method: .randomized, whiten: o.whiten)
        if o.whiten { try p.checkWhitenable() }
        p.metadata["created"] = ISO8601DateFormatter().string(from: Date())
        return p
    }

    /// Top-r right singular vectors of X − 1μᵀ [n, D] and λ = σ²/(n − 1), by randomized subspace iteration
    /// (Halko, Martinsson & Tropp 2011, Algorithm 4.4 with QR re-orthonormalisation after every product).
    /// The sketch runs in `S`; the final l×D SVD in Double.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func randomizedTop<S: BLASScalar>(_ x: Tensor<S>, mean: Tensor<S>, r: Int, oversampling: Int, iterations: Int,
                                             seed: UInt64) throws -> (Tensor<Double>, [Double]) {
        let n = x.shape[0], d = x.shape[1]
        let l = Swift.min(Swift.min(n, d), r + Swift.max(0, oversampling))
        let mu = try mean.reshaped([1, d])
        // (X − 1μᵀ)·W = X·W − 1·(μᵀW)
        func right(_ w: Tensor<S>) throws -> Tensor<S> { try matmul(x, w) - matmul(mu, w) }
        // (X − 1μᵀ)ᵀ·Q = XᵀQ − μ·(1ᵀQ)
        func left(_ q: Tensor<S>) throws -> Tensor<S> { try matmul(x, q, transposeA: true) - matmul(mu, q.sum(axis: 0, keepDims: true), transposeA: true) }
        var q = try right(Tensor<S>.normal([d, l], seed: seed)).qr().q                    // n × l
        for _ in 0..<Swift.max(0, iterations) {
            let z = try left(q).qr().q                                                      // D × l
            q = try right(z).qr().q                                                         // n × l
        }
        let b: Tensor<Double> = try left(q).transposed().cast()                            // l × D
        let svd = try b.svd()
        let v = try svd.vt.slice(0..<r).transposed()                                        // D × r
        let lambda = svd.s.scalars.prefix(r).map { $0 * $0 / Double(n - 1) }
        return (v, Array(lambda))
    }

    /// Completes D×m orthonormal columns to a D×D basis and flips each column so its largest-magnitude entry is positive.
    static func completeAndOrient(_ v: Tensor<Double>, seed: UInt64) throws -> Tensor<Double> {
        var full = try v.completingOrthonormalBasis(seed: seed, tolerance: 1e-8)
        let d = full.shape[0]
        full.withUnsafeMutableBufferPointer { p in
            for j in 0..<d {
                var best = 0.0, sign = 1.0
                for i in 0..<d { let a = Swift.abs(p[i * d + j]); if a > best { best = a; sign = p[i * d + j] < 0 ? -1 : 1 } }
                if sign < 0 { for i in 0..<d { p[i * d + j] = -p[i * d + j] } }
            }
        }
        return full
    }

    func checkWhitenable() throws {
        for i in 0..<k where !(eigenvalues.indices.contains(i) && eigenvalues[i] > 0) {
            throw TensorError.invalidArgument("whitening: core direction \(i + 1) has zero variance, so z/√λ is undefined; fit without whitening or with a smaller k")
        }
    }

    // MARK: Maps

    /// (x − μ)/s as Double, after checking the width and finiteness.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    func prepared<S: BLASScalar>(_ x: Tensor<S>, _ op: String) throws -> Tensor<Double> {
        guard x.rank == 2, x.shape[1] == dimension else {
            throw TensorError.shapeMismatch(operation: "\(op) (the projection has D = \(dimension))", lhs: [n, dimension], rhs: x.shape)
        }
        var xd: Tensor<Double> = x.cast()
        try xd.checkFinite(op + " input")
        xd = try xd - mean
        if let scale { xd = try xd / scale }
        return xd
    }

    /// Core coordinates z = (x − μ)V_k [n, k] (divided by √λ when whitening).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func project<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Double> {
        var z = try matmul(prepared(x, "project"), coreBasis)
        if whiten { z = try z / Tensor(eigenvalues.prefix(k).map { $0.squareRoot() }) }
        return z
    }

    /// Residual coordinates r = (x − μ)V_⊥ [n, D − k].
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func residual<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<Double> {
        try matmul(prepared(x, "residual"), residualBasis)
    }

    /// μ + zV_kᵀ (+ rV_⊥ᵀ when the residual is given): the exact inverse of (project, residual), or the best
    /// rank-k reconstruction without it.
    public func lift(_ z: Tensor<Double>, residual r: Tensor<Double>? = nil) throws -> Tensor<Double> {
        guard z.rank == 2, z.shape[1] == k else {
            throw TensorError.shapeMismatch(operation: "lift (core coordinates have k = \(k) columns)", lhs: [z.shape.first ?? 0, k], rhs: z.shape)
        }
        try z.checkFinite("lift: core coordinates")
        var zz = z
        if whiten { zz = try z * Tensor(eigenvalues.prefix(k).map { $0.squareRoot() }) }
        var x = try matmul(zz, coreBasis, transposeB: true)
        if let r {
            guard r.rank == 2, r.shape == [z.shape[0], dimension - k] else {
                throw TensorError.shapeMismatch(operation: "lift (residual must be n×(D − k))", lhs: [z.shape[0], dimension - k], rhs: r.shape)
            }
            try r.checkFinite("lift: residual")
            x = try x + matmul(r, residualBasis, transposeB: true)
        }
        if let scale { x = try x * scale }
        return try x + mean
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

    /// The spec's fit-projection report (§10).
    public func report(roundTripError: Double) -> JSON {
        .object([
            ("n", .int(n)), ("d", .int(dimension)), ("k", .int(k)), ("method", .string(method.rawValue)),
            ("eigenvalues", .nums(eigenvalues)),
            ("explained_variance_ratio", .nums(explainedVarianceRatio)),
            ("core_energy", Spectrum.coreEnergyJSON(coreEnergy)),
            ("round_trip_error", .num(roundTripError)),
            ("orthonormality_error", .num(orthonormalityError)),
        ])
    }
}
