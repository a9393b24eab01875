import Foundation
import Linear

// Multi-model alignment A1 / A2 / A3 (docs/method.md §8): paired X [n, D₁] and Y [n, D₂] — the same n inputs through two
// models, D₁ ≠ D₂ allowed — compared by CKA (linear, debiased, RBF), SVCCA, orthogonal Procrustes (full space and
// the two cores), mutual k-NN overlap and linear predictivity. Every measure is its own public function; inputs may
// be Float or Double and are analysed in Double.

/// The rules of the alignment regimes (docs/method.md §8), with the defaults of docs/method.md.
public struct AlignmentThresholds: Sendable {
    /// A1 needs linear CKA ≥ `a1LinearCKA` …
    public var a1LinearCKA = 0.8
    /// … and core Procrustes similarity ≥ `a1CoreProcrustes`.
    public var a1CoreProcrustes = 0.8
    /// A3 when linear CKA < `a3LinearCKA`.
    public var a3LinearCKA = 0.4
    public init() {}
}

/// Settings of the measures, with the defaults of docs/method.md.
public struct AlignmentOptions: Sendable {
    /// Neighbours of the mutual k-NN overlap (k = 10; lowered to n − 1, with a warning, for tiny n).
    public var mutualNeighbors = 10
    /// RBF CKA bandwidth: k = exp(−d²/(2·t²·median(d²))) with t = `rbfThreshold` (0.5).
    public var rbfThreshold = 0.5
    /// SVCCA keeps the top PCs explaining this fraction of the variance (0.99).
    public var svccaVariance = 0.99
    /// Linear predictivity: fraction of rows the ridge map is fitted on (0.8); R² is measured on the rest.
    public var trainFraction = 0.8
    /// Ridge penalty λ of linear predictivity; nil → 1e-3·trace(X_cᵀX_c)/D₁ on the training rows.
    public var ridgeLambda: Double? = nil
    /// Largest core dimension c of the core Procrustes comparison (9).
    public var maxCoreDimension = 9
    /// RBF CKA holds two n×n matrices: above this many rows it runs on a seeded subset of rows (reported).
    public var kernelSamples = 4000
    /// The optional measures to compute (all by default). Linear CKA, Procrustes and core Procrustes are always
    /// computed: the regime rests on them. The cost of the others at n rows: mutual k-NN O(n²D) (the largest),
    /// RBF CKA O(m²D) on m = min(n, `kernelSamples`) rows, SVCCA, debiased CKA and predictivity O(nD²).
    public var measures: Set<AlignmentMeasure> = Set(AlignmentMeasure.allCases)
    public init() {}
}

/// An alignment measure that can be left out (`AlignmentOptions.measures`, `vst align --measures`), named by its
/// JSON key.
public enum AlignmentMeasure: String, Sendable, CaseIterable {
    case debiasedCKA = "debiased_cka"
    case rbfCKA = "rbf_cka"
    case svcca
    case mutualKNN = "mutual_knn"
    case predictivity = "linear_predictivity"
}

/// A1 aligned, A2 partly aligned, A3 unaligned.
public enum AlignmentRegime: String, Sendable, CaseIterable {
    case a1 = "A1", a2 = "A2", a3 = "A3"
}

/// SVCCA: CCA between the top principal components of each side.
public struct SVCCAResult: Sendable {
    /// Mean canonical correlation over the min(k_X, k_Y) canonical pairs.
    public var mean: Double
    /// Canonical correlations, descending, in [0, 1].
    public var correlations: [Double]
    /// Principal components kept on each side (99 % of the variance).
    public var componentsX: Int
    public var componentsY: Int
}

/// Orthogonal Procrustes between centred, Frobenius-normalised representations.
public struct ProcrustesResult: Sendable {
    /// ‖XᵀY‖_* ∈ [0, 1]: 1 when Y is a rotation (or reflection) of X up to scale and shift.
    public var similarity: Double
    /// √(2 − 2‖XᵀY‖_*) = min over orthogonal R of ‖XR − Y‖_F, in [0, √2].
    public var distance: Double
}

/// Orthogonal Procrustes between the top-c core coordinates of the two sides.
public struct CoreProcrustesResult: Sendable {
    /// c, the core dimension compared.
    public var dimension: Int
    public var similarity: Double
    public var distance: Double
    /// The c×c orthogonal R = UVᵀ (UΣVᵀ = Z_XᵀZ_Y) minimising ‖Z_X·R − Z_Y‖_F: it maps X's normalised core
    /// coordinates onto Y's. Core directions follow Projection's sign rule (largest-magnitude entry positive).
    public var rotation: Tensor<Double>
}

/// Linear predictivity: a ridge map X → Y fitted on some rows and scored on the others.
public struct PredictivityResult: Sendable {
    /// R² = 1 − SS_res/SS_tot, both summed over every output feature; SS_tot about the test rows' mean.
    /// 1 is perfect, 0 is no better than the mean, negative is worse.
    public var r2: Double
    /// The ridge penalty used.
    public var lambda: Double
    public var trainRows: Int
    public var testRows: Int
}

/// Everything §8 measures between two paired representations, with the regime and the rule behind it.
public struct AlignmentReport: Sendable, JSONReportable {
    public var n: Int
    public var dX: Int
    public var dY: Int
    public var linearCKA: Double
    /// May be slightly negative for unrelated representations (an unbiased estimate of a quantity near 0).
    /// This and the other optional measures are nil when left out of `AlignmentOptions.measures`.
    public var debiasedCKA: Double?
    public var rbfCKA: Double?
    public var svcca: SVCCAResult?
    public var procrustes: ProcrustesResult
    public var core: CoreProcrustesResult
    /// Gavish–Donoho signal ranks k*_X, k*_Y that set c = min(k*_X, k*_Y, 9) (at least 1).
    public var signalRankX: Int
    public var signalRankY: Int
    public var mutualKNN: Double?
    /// The k actually used by the mutual k-NN overlap.
    public var mutualNeighbors: Int?
    public var predictivity: PredictivityResult?
    public var regime: AlignmentRegime
    public var reasons: [String]
    public var warnings: [String]
    public var thresholds: AlignmentThresholds

    public var json: JSON {
        .object([
            ("linear_cka", .num(linearCKA)),
            ("debiased_cka", .num(debiasedCKA)),
            ("rbf_cka", .num(rbfCKA)),
            ("svcca", .num(svcca?.mean)),
            ("procrustes_similarity", .num(procrustes.similarity)),
            ("procrustes_distance", .num(procrustes.distance)),
            ("core_procrustes_similarity", .num(core.similarity)),
            ("mutual_knn", .num(mutualKNN)),
            ("linear_predictivity_r2", .num(predictivity?.r2)),
            ("regime", .string(regime.rawValue)),
            ("reasons", .array(reasons.map { .string($0) })),
            ("n", .int(n)), ("d_x", .int(dX)), ("d_y", .int(dY)),
            ("core_dimension", .int(core.dimension)),
            ("core_procrustes_distance", .num(core.distance)),
            ("core_rotation", .array((0..<core.dimension).map { i in
                .nums((0..<core.dimension).map { j in core.rotation[i, j] })
            })),
            ("signal_rank_x", .int(signalRankX)), ("signal_rank_y", .int(signalRankY)),
            ("svcca_components", svcca.map { .object([("x", .int($0.componentsX)), ("y", .int($0.componentsY))]) } ?? .null),
            ("mutual_knn_k", mutualNeighbors.map { .int($0) } ?? .null),
            ("ridge_lambda", .num(predictivity?.lambda)),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }
}

/// The measures of docs/method.md §8, each usable on its own, and `compare`, which runs them all and classifies.
public enum Alignment {
    // MARK: Input checks

    /// Both inputs as Double n×D matrices with the same n ≥ `minRows`, finite; throws naming both shapes otherwise.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    static func paired<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, _ op: String, minRows: Int) throws
        -> (Tensor<Double>, Tensor<Double>) {
        try pairedShapes(x, y, op, minRows: minRows)
        let xd: Tensor<Double> = x.cast(), yd: Tensor<Double> = y.cast()
        try xd.checkFinite("\(op): X"); try yd.checkFinite("\(op): Y")
        return (xd, yd)
    }

    static func zeroVariance(_ op: String, _ side: String) -> AnalysisError {
        AnalysisError.undefined(term: op, reason: "\(side) has zero variance (every row is the same after centring), so the measure is undefined")
    }

    // MARK: CKA

    /// The feature-space quantities both linear CKAs need (Kornblith et al. 2019, `feature_space_linear_cka`).
    struct LinearTerms {
        var n: Int
        /// ‖Y_cᵀX_c‖_F², ‖X_cᵀX_c‖_F, ‖Y_cᵀY_c‖_F.
        var crossSquared: Double, normX: Double, normY: Double
        /// Squared row norms of X_c, Y_c and their sums (‖X_c‖_F², ‖Y_c‖_F²).
        var rowsX: [Double], rowsY: [Double], totalX: Double, totalY: Double

        init(centeredX xc: Tensor<Double>, centeredY yc: Tensor<Double>) throws {
            n = xc.shape[0]
            let cross = try matmul(xc, yc, transposeA: true)          // D₁ × D₂
            let cn = cross.norm()
            crossSquared = cn * cn
            normX = try xc.gram().norm()
            normY = try yc.gram().norm()
            rowsX = try xc.square().sum(axis: 1).scalars
            rowsY = try yc.square().sum(axis: 1).scalars
            totalX = rowsX.reduce(0, +)
            totalY = rowsY.reduce(0, +)
        }

        /// The unbiased HSIC estimator (Song et al. 2012) up to the factor n(n − 3), in feature space
        /// (Kornblith et al.'s `_debiased_dot_product_similarity_helper`).
        static func debiased(_ xty: Double, _ rx: [Double], _ ry: [Double], _ sx: Double, _ sy: Double, n: Int) -> Double {
            let nn = Double(n)
            var dotRows = 0.0
            for i in 0..<rx.count { dotRows += rx[i] * ry[i] }
            return xty - nn / (nn - 2) * dotRows + sx * sy / ((nn - 1) * (nn - 2))
        }

        func linear(_ op: String) throws -> Double {
            guard normX > 0 else { throw Alignment.zeroVariance(op, "X") }
            guard normY > 0 else { throw Alignment.zeroVariance(op, "Y") }
            return crossSquared / (normX * normY)
        }

        func debiasedCKA(_ op: String) throws -> Double {
            let hxy = Self.debiased(crossSquared, rowsX, rowsY, totalX, totalY, n: n)
            let hxx = Self.debiased(normX * normX, rowsX, rowsX, totalX, totalX, n: n)
            let hyy = Self.debiased(normY * normY, rowsY, rowsY, totalY, totalY, n: n)
            // The self-terms equal ‖K̃‖_F² of the U-centred Gram matrices, ≥ 0; ≤ 0 only for (near-)constant input.
            guard hxx > 0 else { throw Alignment.zeroVariance(op, "X") }
            guard hyy > 0 else { throw Alignment.zeroVariance(op, "Y") }
            return hxy / (hxx.squareRoot() * hyy.squareRoot())
        }
    }

    /// Linear CKA = ‖Y_cᵀX_c‖_F² / (‖X_cᵀX_c‖_F ‖Y_cᵀY_c‖_F), in feature space: O(n(D₁ + D₂)²), no n×n matrix.
    /// In [0, 1]; invariant to orthogonal transforms and isotropic scaling of either side. Needs n ≥ 2.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func linearCKA<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>) throws -> Double {
        try pairedShapes(x, y, "linearCKA", minRows: 2)
        let n = x.shape[0], d1 = x.shape[1], d2 = y.shape[1], dd = d1 + d2
        // Column means in Double, one read of each input; a non-finite sum means a NaN or infinity (or overflow).
        let (xSums, xTotal) = try RowBlockKernels.columnSums(x), (ySums, yTotal) = try RowBlockKernels.columnSums(y)
        let sums = xSums + ySums, totals = (xTotal, yTotal)
        if !totals.0.isFinite { try x.checkFinite("linearCKA: X") }
        if !totals.1.isFinite { try y.checkFinite("linearCKA: Y") }
        let mean = sums.map { $0 / Double(n) }
        // G = [X_c Y_c]ᵀ[X_c Y_c] [D₁ + D₂]² (upper triangle) by `RowBlockKernels.centeredJointGram`: blocks of rows of
        // both inputs centred side by side into one cache-sized buffer and folded in by one syrk each (the same
        // n(D₁ + D₂)² flops as XᵀY, XᵀX and YᵀY separately, without centred copies or the row norms only the
        // debiased CKA needs).
        let gram = try RowBlockKernels.centeredJointGram(x, y, mean: mean)
        // ‖X_cᵀX_c‖_F², ‖Y_cᵀY_c‖_F² and ‖Y_cᵀX_c‖_F² from the upper triangle (off-diagonal terms of the two
        // symmetric blocks twice).
        var xx = 0.0, yy = 0.0, xy = 0.0
        gram.withUnsafeBufferPointer { g in
            for i in 0..<dd {
                for j in i..<dd {
                    let v = g[i * dd + j] * g[i * dd + j]
                    if j < d1 { xx += i == j ? v : 2 * v } else if i >= d1 { yy += i == j ? v : 2 * v } else { xy += v }
                }
            }
        }
        let normX = xx.squareRoot(), normY = yy.squareRoot()
        guard normX > 0 else { throw zeroVariance("linearCKA", "X") }
        guard normY > 0 else { throw zeroVariance("linearCKA", "Y") }
        return xy / (normX * normY)
    }

    /// The shape checks of `paired`, without converting or copying the inputs.
    static func pairedShapes<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, _ op: String, minRows: Int) throws {
        guard x.rank == 2, y.rank == 2 else {
            throw AnalysisError.shape(term: op, problem: "X and Y must be n×D matrices, got shapes \(x.shape) and \(y.shape)")
        }
        guard x.shape[0] == y.shape[0] else {
            throw AnalysisError.incompatible(term: op, problem: "X and Y must hold the same n paired rows; their row counts differ (shapes \(x.shape) and \(y.shape))")
        }
        let n = x.shape[0]
        guard n >= minRows else {
            throw AnalysisError.tooFewRows(term: op, needed: minRows, got: n, detail: "needs at least \(minRows) paired rows, got n = \(n) (shapes \(x.shape) and \(y.shape))")
        }
        guard x.shape[1] >= 1, y.shape[1] >= 1 else {
            throw AnalysisError.shape(term: op, problem: "X and Y need at least one feature each, got shapes \(x.shape) and \(y.shape)")
        }
    }

    /// Debiased linear CKA: CKA with the unbiased HSIC estimator (Song et al. 2012) in place of the biased one,
    /// computed in feature space by the formula of Kornblith et al.'s `feature_space_linear_cka(debiased=True)`
    /// (identical to `cka(gramX: XXᵀ, gramY: YYᵀ, debiased: true)`). Needs n ≥ 4. Near 0 for unrelated
    /// representations and it can be slightly negative: it is reported as is.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func debiasedCKA<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>) throws -> Double {
        let (xd, yd) = try paired(x, y, "debiasedCKA", minRows: 4)
        return try LinearTerms(centeredX: Spectrum.centered(xd).xc, centeredY: Spectrum.centered(yd).xc).debiasedCKA("debiasedCKA")
    }

    /// Centres a symmetric n×n Gram matrix (Kornblith et al.'s `center_gram`): HKH with H = I − 11ᵀ/n, or with
    /// `unbiased` the U-centring of Székely & Rizzo (2014) that gives the unbiased HSIC estimator (needs n ≥ 3;
    /// the diagonal is set to 0).
    public static func centerGram(_ k: consuming Tensor<Double>, unbiased: Bool = false) throws -> Tensor<Double> {
        guard k.rank == 2, k.shape[0] == k.shape[1] else {
            throw TensorError.invalidShape("centerGram: expected a square Gram matrix, got shape \(k.shape)")
        }
        let n = k.shape[0]
        if unbiased && n < 3 { throw AnalysisError.tooFewRows(term: "centerGram", needed: 3, got: n, detail: "unbiased centring needs n ≥ 3, got \(n)") }
        var g = consume k   // moved, not copied, when the caller passes a temporary
        var asymmetry = 0.0, scale = 0.0
        g.withUnsafeBufferPointer { p in
            // Tile by tile, so the transposed reads stay in cache (a row-by-column scan misses on every read at large n).
            let t = 64
            for i0 in stride(from: 0, to: n, by: t) {
                for j0 in stride(from: 0, through: i0, by: t) {
                    for i in i0..<Swift.min(n, i0 + t) {
                        for j in j0..<Swift.min(i, j0 + t) { asymmetry = Swift.max(asymmetry, Swift.abs(p[i * n + j] - p[j * n + i])) }
                    }
                }
            }
            for v in p { scale = Swift.max(scale, Swift.abs(v)) }
        }
        guard asymmetry <= 1e-8 * Swift.max(scale, 1e-300) else {
            throw AnalysisError.parameter(term: "centerGram", name: "K", problem: "the Gram matrix is not symmetric (max |K − Kᵀ| = \(asymmetry))")
        }
        g.withUnsafeMutableBufferPointer { p in
            var means = [Double](repeating: 0, count: n)
            if unbiased { for i in 0..<n { p[i * n + i] = 0 } }
            for i in 0..<n { let row = p.baseAddress! + i * n; for j in 0..<n { means[j] += row[j] } }
            if unbiased {
                for j in 0..<n { means[j] /= Double(n - 2) }
                let shift = means.reduce(0, +) / Double(2 * (n - 1))
                for j in 0..<n { means[j] -= shift }
            } else {
                for j in 0..<n { means[j] /= Double(n) }
                let shift = means.reduce(0, +) / Double(n) / 2
                for j in 0..<n { means[j] -= shift }
            }
            for i in 0..<n { for j in 0..<n { p[i * n + j] -= means[i] + means[j] } }
            if unbiased { for i in 0..<n { p[i * n + i] = 0 } }
        }
        return g
    }

    /// CKA of two n×n Gram matrices (Kornblith et al.'s `cka`): ⟨K̃_X, K̃_Y⟩_F / (‖K̃_X‖_F ‖K̃_Y‖_F) with K̃ the
    /// centred (or, with `debiased`, U-centred) Grams.
    public static func cka(gramX: consuming Tensor<Double>, gramY: consuming Tensor<Double>, debiased: Bool = false) throws -> Double {
        guard gramX.shape == gramY.shape else {
            throw TensorError.shapeMismatch(operation: "cka (the two Gram matrices must both be n×n)", lhs: gramX.shape, rhs: gramY.shape)
        }
        let kx = try centerGram(consume gramX, unbiased: debiased), ky = try centerGram(consume gramY, unbiased: debiased)
        let nx = kx.norm(), ny = ky.norm()
        guard nx > 0 else { throw zeroVariance("cka", "the first Gram matrix") }
        guard ny > 0 else { throw zeroVariance("cka", "the second Gram matrix") }
        return try dot(kx, ky) / (nx * ny)
    }

    /// The RBF Gram matrix of Kornblith et al.'s `gram_rbf`: exp(−d²ᵢⱼ/(2·t²·median(d²))) with the median over
    /// the full n×n squared-distance matrix (diagonal zeros included), t = `threshold`.
    public static func rbfGram(_ x: Tensor<Double>, threshold: Double = 0.5) throws -> Tensor<Double> {
        guard x.rank == 2 else { throw TensorError.invalidShape("rbfGram: expected an n×D matrix, got shape \(x.shape)") }
        guard threshold > 0, threshold.isFinite else { throw AnalysisError.parameter(term: "rbfGram", name: "threshold", problem: "threshold must be positive, got \(threshold)") }
        let xc = try Spectrum.centered(x).xc                      // distances are shift-invariant; centring helps rounding
        let d2 = try MMDKernels.squaredDistances(xc, xc)
        let med = fullMedian(squaredDistances: d2)
        guard med > 0 else {
            throw AnalysisError.undefined(term: "rbfGram", reason: "the median squared distance is 0 (at least half of the pairs coincide), so the bandwidth is undefined")
        }
        return MMDKernels.rbf(squaredDistances: d2, bandwidth2: threshold * threshold * med)
    }

    /// np.median of a symmetric n×n squared-distance matrix with zero diagonal, from its upper triangle: the
    /// sorted n² values are n zeros followed by every off-diagonal value twice. By selection (expected O(n²)), not
    /// by sorting the n(n − 1)/2 values.
    static func fullMedian(squaredDistances d2: Tensor<Double>) -> Double {
        let n = d2.shape[0]
        guard n >= 2 else { return 0 }
        var upper = [Double](repeating: 0, count: n * (n - 1) / 2)
        upper.withUnsafeMutableBufferPointer { u in
            d2.withUnsafeBufferPointer { p in
                var t = 0
                for i in 0..<n { for j in (i + 1)..<n { u[t] = p[i * n + j]; t += 1 } }
            }
        }
        // Position i of the sorted n² values: 0 for i < n, else the ((i − n)/2)-th smallest off-diagonal value.
        let total = n * n, hiPos = total / 2, loPos = total % 2 == 1 ? hiPos : hiPos - 1
        guard hiPos >= n else { return 0 }
        let hiIndex = (hiPos - n) / 2
        let hi = MMDKernels.select(&upper, k: hiIndex)
        guard loPos != hiPos else { return hi }
        let lo = loPos < n ? 0 : (loPos - n) / 2 == hiIndex ? hi : MMDKernels.largest(of: upper, before: hiIndex)
        return (lo + hi) / 2
    }

    /// RBF CKA (Kornblith et al. 2019): `cka` of the two `rbfGram`s (t = 0.5 by default), centred Grams.
    /// Holds two n×n matrices: O(n²) memory.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func rbfCKA<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, threshold: Double = 0.5,
                                                            debiased: Bool = false) throws -> Double {
        let (xd, yd) = try paired(x, y, "rbfCKA", minRows: debiased ? 4 : 2)
        return try cka(gramX: rbfGram(xd, threshold: threshold), gramY: rbfGram(yd, threshold: threshold), debiased: debiased)
    }

    // MARK: SVCCA

    /// Orthonormal basis [n, k] of the top-k principal-component scores of centred `xc`, k the fewest PCs
    /// explaining `variance` of the total (capped at 9·⌈D/9⌉ and at the rank).
    static func reducedBasis(_ xc: Tensor<Double>, variance: Double, _ side: String) throws -> (Tensor<Double>, Int) {
        let d = xc.shape[1]
        let svd = try xc.svd()
        let s = svd.s.scalars
        let lambda = s.map { $0 * $0 }
        let total = lambda.reduce(0, +)
        guard total > 0 else { throw zeroVariance("svcca", side) }
        var k = lambda.count, acc = 0.0
        for (i, l) in lambda.enumerated() { acc += l; if acc >= variance * total { k = i + 1; break } }
        k = Swift.min(k, 9 * ((d + 8) / 9), lambda.count)
        while k > 1 && s[k - 1] <= s[0] * 1e-12 { k -= 1 }          // never keep a null direction
        // The reduced representation U_k·S_k spans the same columns as U_k, which is already orthonormal: it is the
        // basis Q (no QR needed; canonical correlations do not depend on which orthonormal basis is used).
        return (try svd.u.slice(0..<k, axis: 1), k)
    }

    /// SVCCA (Raghu et al. 2017): keep each side's top PCs explaining `variance` (99 %) of its variance (at most
    /// 9·⌈D/9⌉), then CCA between the two reduced representations — the canonical correlations are the singular
    /// values of Q_XᵀQ_Y for orthonormal bases Q of the two (the left singular vectors U_k). Reports their mean.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func svcca<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, variance: Double = 0.99) throws -> SVCCAResult {
        let (xd, yd) = try paired(x, y, "svcca", minRows: 2)
        guard variance > 0, variance <= 1 else { throw AnalysisError.parameter(term: "svcca", name: "variance", problem: "variance fraction must be in (0, 1], got \(variance)") }
        return try svcca(centeredX: Spectrum.centered(xd).xc, centeredY: Spectrum.centered(yd).xc, variance: variance)
    }

    static func svcca(centeredX xc: Tensor<Double>, centeredY yc: Tensor<Double>, variance: Double) throws -> SVCCAResult {
        let (qx, kx) = try reducedBasis(xc, variance: variance, "X")
        let (qy, ky) = try reducedBasis(yc, variance: variance, "Y")
        let rho = try matmul(qx, qy, transposeA: true).singularValues().scalars.map { Swift.min(1, Swift.max(0, $0)) }
        return SVCCAResult(mean: rho.reduce(0, +) / Double(rho.count), correlations: rho, componentsX: kx, componentsY: ky)
    }

    // MARK: Procrustes

    /// Centred rows scaled to unit Frobenius norm.
    static func normalized(_ xc: Tensor<Double>, _ op: String, _ side: String) throws -> Tensor<Double> {
        let f = xc.norm()
        guard f > 0 else { throw zeroVariance(op, side) }
        return xc * (1 / f)
    }

    static func procrustes(normalizedX a: Tensor<Double>, normalizedY b: Tensor<Double>) throws -> ProcrustesResult {
        // Zero-padding the narrower side to the common width adds only zero singular values: ‖AᵀB‖_* is unchanged.
        let nuclear = try matmul(a, b, transposeA: true).singularValues().scalars.reduce(0, +)
        let s = Swift.min(1, Swift.max(0, nuclear))
        return ProcrustesResult(similarity: s, distance: Swift.max(0, 2 - 2 * s).squareRoot())
    }

    /// Orthogonal Procrustes on centred, Frobenius-normalised X and Y (the narrower side zero-padded to the common
    /// width): similarity ‖XᵀY‖_* ∈ [0, 1] and distance √(2 − 2‖XᵀY‖_*) = min_R ‖XR − Y‖_F over orthogonal R.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func procrustes<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>) throws -> ProcrustesResult {
        let (xd, yd) = try paired(x, y, "procrustes", minRows: 2)
        return try procrustes(normalizedX: normalized(Spectrum.centered(xd).xc, "procrustes", "X"),
                              normalizedY: normalized(Spectrum.centered(yd).xc, "procrustes", "Y"))
    }

    /// The top-c core coordinates X_c·V_c [n, c] with Projection's sign rule on V_c (largest-magnitude entry of
    /// each direction positive), so the reported rotation is reproducible.
    static func coreCoordinates(centered xc: Tensor<Double>, c: Int) throws -> Tensor<Double> {
        let v = try Subspace.topDirections(centered: xc, k: c).orientingColumnSigns()
        return try matmul(xc, v)
    }

    static func coreProcrustes(centeredX xc: Tensor<Double>, centeredY yc: Tensor<Double>, c: Int) throws -> CoreProcrustesResult {
        let zx = try normalized(coreCoordinates(centered: xc, c: c), "coreProcrustes", "X")
        let zy = try normalized(coreCoordinates(centered: yc, c: c), "coreProcrustes", "Y")
        let svd = try matmul(zx, zy, transposeA: true).svd()        // c × c
        let nuclear = svd.s.scalars.reduce(0, +)
        let s = Swift.min(1, Swift.max(0, nuclear))
        return CoreProcrustesResult(dimension: c, similarity: s, distance: Swift.max(0, 2 - 2 * s).squareRoot(),
                                    rotation: try matmul(svd.u, svd.vt))
    }

    /// The default core dimension c = min(k*_X, k*_Y, `maxCore`), at least 1 and at most min(n − 1, D₁, D₂).
    static func coreDimension(signalRankX kx: Int, signalRankY ky: Int, n: Int, dX: Int, dY: Int, maxCore: Int) -> Int {
        Swift.max(1, Swift.min(kx, ky, maxCore, n - 1, dX, dY))
    }

    /// Orthogonal Procrustes between the two cores: each side's top-c principal coordinates (centred, normalised),
    /// with the c×c rotation that aligns them. `dimension` nil → c = min(k*_X, k*_Y, 9), at least 1, with k* the
    /// Gavish–Donoho signal rank of each side (docs/method.md §3).
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func coreProcrustes<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, dimension: Int? = nil) throws -> CoreProcrustesResult {
        let (xd, yd) = try paired(x, y, "coreProcrustes", minRows: 2)
        let n = xd.shape[0], dx = xd.shape[1], dy = yd.shape[1]
        let c: Int
        if let dimension {
            guard dimension >= 1, dimension <= Swift.min(n - 1, dx, dy) else {
                throw AnalysisError.parameter(term: "coreProcrustes", name: "dimension", problem: "dimension \(dimension) must be in 1...\(Swift.min(n - 1, dx, dy)) (n − 1, D₁, D₂ = \(n - 1), \(dx), \(dy))")
            }
            c = dimension
        } else {
            let kx = try Spectrum.analyze(xd, twoNN: false).signalRank, ky = try Spectrum.analyze(yd, twoNN: false).signalRank
            c = coreDimension(signalRankX: kx, signalRankY: ky, n: n, dX: dx, dY: dy, maxCore: 9)
        }
        return try coreProcrustes(centeredX: Spectrum.centered(xd).xc, centeredY: Spectrum.centered(yd).xc, c: c)
    }

    // MARK: Mutual k-NN

    /// Mutual k-NN overlap (Huh et al. 2024): rows L2-normalised (not centred; a zero row stays zero), each row's
    /// k nearest other rows by inner product in X and in Y, and the mean over rows of |N_X(i) ∩ N_Y(i)| / k.
    /// In [0, 1]; needs n ≥ k + 1.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func mutualKNN<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, k: Int = 10) throws -> Double {
        try pairedShapes(x, y, "mutualKNN", minRows: 2)
        let n = x.shape[0]
        guard k >= 1, k <= n - 1 else {
            throw AnalysisError.parameter(term: "mutualKNN", name: "k", problem: "k = \(k) must be in 1...n − 1 = \(n - 1)")
        }
        try x.checkFinite("mutualKNN: X"); try y.checkFinite("mutualKNN: Y")
        // Each side in its own precision: float32 states are compared by float32 products (their inner products are
        // only float32-accurate anyway), float64 states by float64 ones.
        let nx = try Neighbors.selfJoin(rowNormalized(x), k: k, metric: .innerProduct, progress: nil).indices
        let ny = try Neighbors.selfJoin(rowNormalized(y), k: k, metric: .innerProduct, progress: nil).indices
        var total = 0.0
        for i in 0..<n {
            let a = nx[(i * k)..<((i + 1) * k)], b = Set(ny[(i * k)..<((i + 1) * k)])
            total += Double(a.filter { b.contains($0) }.count) / Double(k)
        }
        return total / Double(n)
    }

    static func rowNormalized<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        let norms = try x.norm(axis: 1, keepDims: true).map { $0 > 0 ? 1 / $0 : 0 }
        return try x * norms
    }

    // MARK: Linear predictivity

    /// The seeded split of docs/method.md §8: a random permutation of the rows, the last max(2, n − round(f·n)) rows of it
    /// held out for testing, the rest for fitting.
    public static func predictivitySplit(n: Int, trainFraction: Double = 0.8, seed: UInt64 = 0) throws -> (train: [Int], test: [Int]) {
        guard trainFraction > 0, trainFraction < 1 else {
            throw AnalysisError.parameter(term: "linearPredictivity", name: "trainFraction", problem: "trainFraction must be in (0, 1), got \(trainFraction)")
        }
        let nTest = Swift.max(2, n - Int((trainFraction * Double(n)).rounded()))
        guard n - nTest >= 2 else {
            throw AnalysisError.tooFewRows(term: "linearPredictivity", needed: 4, got: n, detail: "needs at least 4 rows (2 to fit, 2 to test), got n = \(n)")
        }
        var g = RandomGenerator(seed: seed)
        let perm = g.permutation(n)
        return (Array(perm[nTest...]).sorted(), Array(perm[0..<nTest]).sorted())
    }

    /// Linear predictivity of Y from X: a ridge map (with intercept) fitted on a seeded `trainFraction` (80 %) of
    /// the rows, R² on the rest (see `predictivitySplit`).
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func linearPredictivity<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, trainFraction: Double = 0.8,
                                                                        lambda: Double? = nil, seed: UInt64 = 0) throws -> PredictivityResult {
        let (xd, yd) = try paired(x, y, "linearPredictivity", minRows: 4)
        let split = try predictivitySplit(n: xd.shape[0], trainFraction: trainFraction, seed: seed)
        return try linearPredictivity(xd, yd, trainRows: split.train, testRows: split.test, lambda: lambda)
    }

    /// Linear predictivity on given rows. The fit centres X and Y by their training means and solves the ridge
    /// problem min ‖X_cW − Y_c‖_F² + λ‖W‖_F² — in the primal, (X_cᵀX_c + λI)W = X_cᵀY_c, when D₁ ≤ training rows,
    /// otherwise in the dual, W = X_cᵀ(X_cX_cᵀ + λI)⁻¹Y_c (the same W). Default λ = 1e-3·trace(X_cᵀX_c)/D₁: a
    /// penalty of 0.1 % of the mean feature energy, enough to keep the solve well posed when D₁ is near or above
    /// the number of training rows while barely shrinking a well-determined map. R² = 1 − SS_res/SS_tot summed
    /// over every output feature, SS_tot about the test rows' own mean (scikit-learn's "variance_weighted" R²).
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func linearPredictivity<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>, trainRows: [Int], testRows: [Int],
                                                                        lambda: Double? = nil) throws -> PredictivityResult {
        let (xd, yd) = try paired(x, y, "linearPredictivity", minRows: 4)
        let n = xd.shape[0], dx = xd.shape[1]
        guard trainRows.count >= 2, testRows.count >= 2, (trainRows + testRows).allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw AnalysisError.parameter(term: "linearPredictivity", name: "trainRows", problem: "needs at least 2 training and 2 test rows, all in 0..<\(n) (got \(trainRows.count) and \(testRows.count))")
        }
        if let lambda, !(lambda >= 0 && lambda.isFinite) {
            throw AnalysisError.parameter(term: "linearPredictivity", name: "lambda", problem: "λ must be finite and ≥ 0, got \(lambda)")
        }
        let xtr = try xd.gather(rows: trainRows), ytr = try yd.gather(rows: trainRows)
        let (xc, mx) = try Spectrum.centered(xtr)
        let (yc, my) = try Spectrum.centered(ytr)
        let energy = xc.square().sum()
        var lam = lambda ?? 1e-3 * energy / Double(dx)
        if lam <= 0 && energy == 0 { lam = 1 }                      // constant X: any λ > 0 gives W = 0
        let w: Tensor<Double>
        if dx <= trainRows.count {
            var a = try xc.gram()
            a.withUnsafeMutableBufferPointer { p in for i in 0..<dx { p[i * dx + i] += lam } }
            w = try solveSymmetric(a, matmul(xc, yc, transposeA: true))
        } else {
            let m = trainRows.count
            var g = try xc.transposed().gram()                     // X_cX_cᵀ, m × m
            g.withUnsafeMutableBufferPointer { p in for i in 0..<m { p[i * m + i] += lam } }
            w = try matmul(xc, solveSymmetric(g, yc), transposeA: true)
        }
        let pred = try matmul(xd.gather(rows: testRows) - mx, w) + my
        let yte = try yd.gather(rows: testRows)
        let ssRes = try (yte - pred).square().sum()
        let ssTot = try Spectrum.centered(yte).xc.square().sum()
        guard ssTot > 0 else {
            throw AnalysisError.undefined(term: "linearPredictivity", reason: "Y is constant on the test rows, so R² is undefined")
        }
        return PredictivityResult(r2: 1 - ssRes / ssTot, lambda: lam, trainRows: trainRows.count, testRows: testRows.count)
    }

    /// Solves A·X = B for symmetric A: Cholesky when A is positive definite, least squares otherwise (λ = 0).
    static func solveSymmetric(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Tensor<Double> {
        if let x = try? solvePositiveDefinite(a, b) { return x }
        return try lstsq(a, b).solution
    }

    // MARK: Regimes

    /// A1 when linear CKA ≥ 0.8 and core Procrustes similarity ≥ 0.8; A3 when linear CKA < 0.4; A2 otherwise
    /// (thresholds from `t`). Returns the regime and the rule that produced it.
    public static func classify(linearCKA cka: Double, coreProcrustesSimilarity core: Double,
                                thresholds t: AlignmentThresholds = AlignmentThresholds()) -> (regime: AlignmentRegime, reasons: [String]) {
        let f = { (v: Double) in String(format: "%.3f", v) }
        if cka >= t.a1LinearCKA && core >= t.a1CoreProcrustes {
            return (.a1, ["linear CKA = \(f(cka)) ≥ \(t.a1LinearCKA): the two representations share their geometry",
                          "core Procrustes similarity = \(f(core)) ≥ \(t.a1CoreProcrustes): the cores are rotations of each other"])
        }
        if !(cka >= t.a3LinearCKA) {
            return (.a3, ["linear CKA = \(f(cka)) < \(t.a3LinearCKA): the representations are not aligned"])
        }
        var reasons: [String] = []
        if cka < t.a1LinearCKA {
            reasons.append("\(t.a3LinearCKA) ≤ linear CKA = \(f(cka)) < \(t.a1LinearCKA): partly shared geometry")
        } else {
            reasons.append("linear CKA = \(f(cka)) ≥ \(t.a1LinearCKA)")
        }
        if !(core >= t.a1CoreProcrustes) {
            reasons.append("core Procrustes similarity = \(f(core)) < \(t.a1CoreProcrustes): the cores are not rotations of each other")
        }
        return (.a2, reasons)
    }

    // MARK: Everything

    /// All of §8 for paired X [n, D₁] and Y [n, D₂] (Float or Double; analysed in Double), classified A1/A2/A3.
    /// Needs n ≥ 4. The RBF CKA runs on a seeded subset of `options.kernelSamples` rows when n is larger; the
    /// linear-predictivity split is seeded by `seed`.
    @_specialize(where S == Float, T == Float)
    @_specialize(where S == Double, T == Double)
    @_specialize(where S == Float, T == Double)
    @_specialize(where S == Double, T == Float)
    public static func compare<S: BLASScalar, T: BLASScalar>(_ x: Tensor<S>, _ y: Tensor<T>,
                                                             thresholds: AlignmentThresholds = AlignmentThresholds(),
                                                             options o: AlignmentOptions = AlignmentOptions(),
                                                             seed: UInt64 = 0) throws -> AlignmentReport {
        let (xd, yd) = try paired(x, y, "alignment", minRows: 4)
        let n = xd.shape[0], dx = xd.shape[1], dy = yd.shape[1]
        let xc = try Spectrum.centered(xd).xc, yc = try Spectrum.centered(yd).xc
        var warnings: [String] = []

        let terms = try LinearTerms(centeredX: xc, centeredY: yc)
        let linear = try terms.linear("alignment")
        let debiased = o.measures.contains(.debiasedCKA) ? try terms.debiasedCKA("alignment") : nil

        var rbf: Double?
        if o.measures.contains(.rbfCKA) {
            var kx = xd, ky = yd
            if n > o.kernelSamples {
                var g = RandomGenerator(seed: seed &+ 0xA11C)
                let rows = try g.choice(n, count: o.kernelSamples).sorted()
                kx = try xd.gather(rows: rows); ky = try yd.gather(rows: rows)
                warnings.append("RBF CKA computed on a seeded subset of \(o.kernelSamples) of the \(n) rows (it holds n×n matrices)")
            }
            rbf = try cka(gramX: rbfGram(kx, threshold: o.rbfThreshold), gramY: rbfGram(ky, threshold: o.rbfThreshold))
        }

        let sv = o.measures.contains(.svcca) ? try svcca(centeredX: xc, centeredY: yc, variance: o.svccaVariance) : nil
        let pr = try procrustes(normalizedX: normalized(xc, "alignment", "X"), normalizedY: normalized(yc, "alignment", "Y"))

        let rankX = try Spectrum.analyze(xd, twoNN: false).signalRank
        let rankY = try Spectrum.analyze(yd, twoNN: false).signalRank
        let c = coreDimension(signalRankX: rankX, signalRankY: rankY, n: n, dX: dx, dY: dy, maxCore: o.maxCoreDimension)
        if Swift.min(rankX, rankY) == 0 {
            let sides = [rankX == 0 ? "X" : nil, rankY == 0 ? "Y" : nil].compactMap { $0 }.joined(separator: " and ")
            warnings.append("k* = 0 on \(sides): no signal above the noise, so the core comparison uses c = 1 (the top principal direction)")
        }
        let core = try coreProcrustes(centeredX: xc, centeredY: yc, c: c)

        var knn: Double?, k: Int?
        if o.measures.contains(.mutualKNN) {
            let kk = Swift.min(o.mutualNeighbors, n - 1)
            if kk < o.mutualNeighbors { warnings.append("mutual k-NN uses k = \(kk) (n = \(n) rows)") }
            knn = try mutualKNN(x, y, k: kk)
            k = kk
        }

        let pred = o.measures.contains(.predictivity)
            ? try linearPredictivity(xd, yd, trainFraction: o.trainFraction, lambda: o.ridgeLambda, seed: seed) : nil
        if n <= Swift.max(dx, dy) {
            warnings.append("n = \(n) ≤ max(D₁, D₂) = \(Swift.max(dx, dy)): linear CKA and Procrustes similarity are biased upwards at so few rows (debiased CKA corrects CKA)")
        }

        let (regime, reasons) = classify(linearCKA: linear, coreProcrustesSimilarity: core.similarity, thresholds: thresholds)
        return AlignmentReport(n: n, dX: dx, dY: dy, linearCKA: linear, debiasedCKA: debiased, rbfCKA: rbf, svcca: sv,
                               procrustes: pr, core: core, signalRankX: rankX, signalRankY: rankY, mutualKNN: knn,
                               mutualNeighbors: k, predictivity: pred, regime: regime, reasons: reasons,
                               warnings: warnings, thresholds: thresholds)
    }
}
