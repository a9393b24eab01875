import Foundation
import Linear

/// Spectrum statistics of one set of states X ∈ ℝ^{n×D} (docs/method.md §3).
///
/// With X_c the column-centred data, λ₁ ≥ … are the eigenvalues of C = X_cᵀX_c/(n−1) and σᵢ = √((n−1)λᵢ) the
/// singular values of X_c (there are min(n, D) of them).
public struct SpectrumStatistics: Sendable, JSONReportable {
    public var n: Int
    public var d: Int
    /// λ, descending (min(n, D) values).
    public var eigenvalues: [Double]
    /// σ = √((n−1)λ), descending.
    public var singularValues: [Double]
    /// PR = (Σλ)² / Σλ² ∈ [1, D].
    public var participationRatio: Double
    /// Signal rank k* = #{σᵢ > τ} (Gavish–Donoho, or the count above the rounding floor for noise-free data).
    public var signalRank: Int
    /// The hard threshold: τ = ω(β)·median(σ), or the rounding floor when the median lies at it.
    public var threshold: Double
    /// β = min(n, D)/max(n, D).
    public var beta: Double
    /// ω(β) ≈ 0.56β³ − 0.95β² + 1.82β + 1.43.
    public var omega: Double
    /// ρ = Σ_{i≤k*} λᵢ / Σλ (0 when k* = 0).
    public var signalEnergy: Double
    /// E_k = Σ_{i≤k} λᵢ / Σλ for k = 3, 6, 9.
    public var coreEnergy: [Int: Double]
    /// TwoNN intrinsic dimension (nil when not computed or undefined).
    public var twoNNDimension: Double?
    /// The rounding floor f of `Spectrum.roundingFloor`: singular values at or below it are exact zeros blurred by
    /// floating-point rounding (0 when not computed).
    public var roundingFloor: Double = 0
    /// Bootstrap interval [lower, upper] of the TwoNN dimension (nil when not computed).
    public var twoNNInterval: [Double]? = nil
    /// Rows the TwoNN neighbour search used (a seeded subsample of a large set; nil when not computed).
    public var twoNNRows: Int? = nil

    public var json: JSON {
        .object([
            ("n", .int(n)), ("d", .int(d)),
            ("eigenvalues", .nums(eigenvalues)),
            ("participation_ratio", .num(participationRatio)),
            ("signal_rank", .int(signalRank)),
            ("threshold", .num(threshold)),
            ("signal_energy", .num(signalEnergy)),
            ("core_energy", Spectrum.coreEnergyJSON(coreEnergy)),
            ("twonn_dimension", .num(twoNNDimension)),
            ("rounding_floor", .num(roundingFloor)),
            ("twonn_interval", TwoNN.json(interval: twoNNInterval)),
            ("twonn_rows", TwoNN.json(rows: twoNNRows)),
        ])
    }
}

/// The formulas of docs/method.md §3, each usable on its own.
public enum Spectrum {
    /// Column means and the centred copy X − 1μᵀ.
    public static func centered(_ x: Tensor<Double>) throws -> (xc: Tensor<Double>, mean: Tensor<Double>) {
        guard x.rank == 2 else { throw AnalysisError.shape(term: "spectrum", problem: "expected an n×D matrix of states, got shape \(x.shape)") }
        let mu = try x.mean(axis: 0)
        return (try x - mu, mu)
    }

    /// Singular values of the centred data, descending, by the cheapest exact route: the covariance
    /// eigenvalues (one syrk + syevd) when n ≥ 2D, the Gram-matrix eigenvalues when D ≥ 2n, a thin SVD otherwise.
    public static func singularValues(centered xc: Tensor<Double>) throws -> [Double] {
        let n = xc.shape[0], d = xc.shape[1]
        if n == 0 || d == 0 { return [] }
        if n >= 2 * d {
            let w = try xc.gram().eigvalsh().scalars
            return w.reversed().map { Swift.max($0, 0).squareRoot() }
        }
        if d >= 2 * n {
            let w = try xc.transposed().gram().eigvalsh().scalars
            return w.reversed().map { Swift.max($0, 0).squareRoot() }
        }
        return try xc.singularValues().scalars
    }

    /// PR = (Σλ)² / Σλ²; 0 for an all-zero spectrum.
    public static func participationRatio(_ lambda: [Double]) -> Double {
        let s = lambda.reduce(0, +), s2 = lambda.reduce(0) { $0 + $1 * $1 }
        return s2 > 0 ? s * s / s2 : 0
    }

    /// ω(β) of Gavish & Donoho (2014) for unknown noise: 0.56β³ − 0.95β² + 1.82β + 1.43.
    public static func omega(_ beta: Double) -> Double { 0.56 * beta * beta * beta - 0.95 * beta * beta + 1.82 * beta + 1.43 }

    /// Gavish–Donoho optimal hard threshold with unknown noise: τ = ω(β)·median(σ), k* = #{σᵢ > τ}.
    public static func gavishDonoho(singularValues sigma: [Double], n: Int, d: Int) -> (rank: Int, threshold: Double, beta: Double, omega: Double) {
        gavishDonoho(singularValues: sigma, n: n, d: d, roundingFloor: 0)
    }

    /// Gavish–Donoho with a rounding floor f (see `roundingFloor`): singular values σᵢ ≤ f are exact zeros of the
    /// signal, visible only through floating-point rounding. When median(σ) > f the rule is Gavish & Donoho's
    /// unchanged, τ = ω(β)·median(σ). When median(σ) ≤ f, at least half of the spectrum is rounding error: the
    /// data hold no noise for the median to measure (an exactly low-rank signal, e.g. a linear bottleneck) and
    /// ω(β)·median(σ) would be a multiple of the rounding error, counting rounding as signal. Then τ = f and k* is
    /// the count above the floor, the numerical rank.
    public static func gavishDonoho(singularValues sigma: [Double], n: Int, d: Int,
                                    roundingFloor floor: Double) -> (rank: Int, threshold: Double, beta: Double, omega: Double) {
        let beta = Double(Swift.min(n, d)) / Double(Swift.max(1, Swift.max(n, d)))
        let w = omega(beta)
        guard !sigma.isEmpty else { return (0, 0, beta, w) }
        let m = median(sigma)
        let tau = m <= floor ? floor : w * m
        return (sigma.filter { $0 > tau }.count, tau, beta, w)
    }

    /// Unit roundoff u = 2⁻²⁴ of float32 data.
    public static let floatUnitRoundoff = Double(Float.ulpOfOne) / 2
    /// Unit roundoff u = 2⁻⁵³ of float64 data (and of the Double arithmetic of every analysis).
    public static let doubleUnitRoundoff = Double.ulpOfOne / 2

    /// The unit roundoff of the precision `x` was stored in: float32's 2⁻²⁴ when every entry is a float32 value
    /// (data read from a float32 file and widened, or computed in float32), else float64's 2⁻⁵³.
    public static func storageUnitRoundoff(_ x: Tensor<Double>) -> Double {
        let single = x.withUnsafeBufferPointer { p in p.allSatisfy { Double(Float($0)) == $0 } }
        return single ? floatUnitRoundoff : doubleUnitRoundoff
    }

    /// The rounding floor f: an upper bound on the computed singular value of a direction in which the centred
    /// data X_c [n, D] are exactly zero, so that every σᵢ ≤ f is rounding error rather than signal or noise.
    ///
    /// With u_in the unit roundoff of the data's storage precision (2⁻²⁴ float32, 2⁻⁵³ float64), u = 2⁻⁵³ that of
    /// the Double arithmetic and m = max(n, D):
    ///
    /// f = (u_in + (n + 2)u)·‖X‖_F + g·‖X_c‖_F, g = 2mu for a thin SVD, g = √(2mu) for the eigenvalues of a Gram
    /// matrix,
    ///
    /// derived by three bounds (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, §3 and §20;
    /// Weyl's inequality |σᵢ(A + E) − σᵢ(A)| ≤ ‖E‖₂ turns each backward error into a bound on σ):
    /// 1. storage: each stored entry is x(1 + δ), |δ| ≤ u_in, so the stored matrix is X + E with
    ///    ‖E‖₂ ≤ ‖E‖_F ≤ u_in‖X‖_F; centring, an orthogonal projection, does not increase it;
    /// 2. centring in Double: the computed column means carry an error δμ with |δμⱼ| ≤ γ_n·Σᵢ|xᵢⱼ|/n (summation),
    ///    so the rank-one error 1δμᵀ has norm √n‖δμ‖ ≤ nu‖X‖_F (Cauchy–Schwarz), and each subtraction adds at most
    ///    u·(|x| + |μ|), ≤ 2u‖X‖_F in all;
    /// 3. the singular values: a Householder SVD (or QR then SVD) is backward stable with error below
    ///    p(n, D)·u·‖X_c‖₂, bounded generously by 2mu·‖X_c‖_F; the eigenvalues of the syrk-formed Gram matrix
    ///    X_cᵀX_c (or X_cX_cᵀ) are within γ_n‖X_c‖_F² + p(D)u‖X_c‖₂² ≤ 2mu‖X_c‖_F² of the exact ones, so the root
    ///    of a zero eigenvalue is at most √(2mu)·‖X_c‖_F: the squaring loses half the digits.
    ///
    /// The norms are the data's own, so f scales with the data. Noise of any realistic level lies far above f:
    /// for n = 2000, D = 128 in float64 via the Gram matrix, f ≈ 7·10⁻⁷‖X_c‖_F + 4·10⁻¹³‖X‖_F; float32 storage adds
    /// 6·10⁻⁸‖X‖_F. Constant states (X_c = 0 up to the rounding of the mean) get k* = 0.
    public static func roundingFloor(frobenius: Double, centredFrobenius: Double, n: Int, d: Int, storageUnitRoundoff uIn: Double,
                                     gram: Bool) -> Double {
        let u = doubleUnitRoundoff, m = Double(Swift.max(n, d))
        let g = gram ? (2 * m * u).squareRoot() : 2 * m * u
        return (uIn + (Double(n) + 2) * u) * frobenius + g * centredFrobenius
    }

    /// Whether `singularValues(centered:)` takes the Gram-matrix route for an n×D matrix (n ≥ 2D or D ≥ 2n).
    public static func usesGram(n: Int, d: Int) -> Bool { n >= 2 * d || d >= 2 * n }

    /// Σ_{i≤k} λᵢ / Σλ (k clipped to the spectrum's length; 0 for an all-zero spectrum).
    public static func energy(_ lambda: [Double], k: Int) -> Double {
        let total = lambda.reduce(0, +)
        guard total > 0 else { return 0 }
        return lambda.prefix(Swift.max(0, k)).reduce(0, +) / total
    }

    /// Core energies E_3, E_6, E_9.
    public static func coreEnergies(_ lambda: [Double]) -> [Int: Double] {
        Dictionary(uniqueKeysWithValues: Ladder.cores.map { ($0, energy(lambda, k: $0)) })
    }

    /// `{"3": E_3, "6": E_6, "9": E_9}`.
    public static func coreEnergyJSON(_ e: [Int: Double]) -> JSON {
        .object(Ladder.cores.map { (String($0), .num(e[$0])) })
    }

    /// The median (mean of the two middle values for an even count).
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// All of §3 for one set of states. TwoNN runs on a seeded subsample of `twoNNOptions.rows` rows (O(N²D),
    /// see `TwoNN.estimate`) and can be switched off.
    ///
    /// `storageUnitRoundoff` is the unit roundoff of the precision the states were stored in (nil: detected by
    /// `storageUnitRoundoff(_:)`); it sets the rounding floor below which singular values are exact zeros (see
    /// `roundingFloor` and `gavishDonoho(singularValues:n:d:roundingFloor:)`), so exactly low-rank states get
    /// k* = their rank in float32 and float64 alike. Data of extreme magnitude (max|x| outside 2^±300) are analysed
    /// divided by a power of two (`BinaryScale`, exact): σ, τ and the floor are scaled back, the ratios (PR, ρ, E_k,
    /// k*) are those of unit-scale data, and λ may then overflow or underflow Double (its true value does).
    public static func analyze(_ x: Tensor<Double>, twoNN: Bool = true, twoNNOptions: TwoNNOptions = TwoNNOptions(),
                               storageUnitRoundoff uIn: Double? = nil) throws -> SpectrumStatistics {
        guard x.rank == 2 else { throw AnalysisError.shape(term: "spectrum", problem: "expected an n×D matrix of states, got shape \(x.shape)") }
        try AnalysisError.requireFinite(x, term: "states")
        let n = x.shape[0], d = x.shape[1]
        guard d >= 1 else { throw AnalysisError.shape(term: "spectrum", problem: "the states have no features (shape \(x.shape)); need D ≥ 1") }
        guard n >= 2 else { throw AnalysisError.tooFewRows(term: "spectrum", needed: 2, got: n, detail: "need at least 2 states, got n = \(n)") }
        let e = BinaryScale.exponent(of: x)
        let xs = e.map { BinaryScale.times(x, pow2: -$0) } ?? x
        let (xc, mu) = try centered(xs)
        let sigmaScaled = try singularValues(centered: xc)
        let lambdaScaled = sigmaScaled.map { $0 * $0 / Double(n - 1) }
        let centredSquares = sigmaScaled.reduce(0) { $0 + $1 * $1 }
        let meanSquares = mu.scalars.reduce(0) { $0 + $1 * $1 } * Double(n)
        let floor = roundingFloor(frobenius: (centredSquares + meanSquares).squareRoot(), centredFrobenius: centredSquares.squareRoot(),
                                  n: n, d: d, storageUnitRoundoff: uIn ?? storageUnitRoundoff(x), gram: usesGram(n: n, d: d))
        let gd = gavishDonoho(singularValues: sigmaScaled, n: n, d: d, roundingFloor: floor)
        let k = e ?? 0
        let twoNNEstimate = twoNN ? try TwoNN.estimate(x, options: twoNNOptions) : nil
        let sigma = BinaryScale.times(sigmaScaled, pow2: k)
        let lambda = BinaryScale.times(lambdaScaled, pow2: 2 * k)
        return SpectrumStatistics(
            n: n, d: d, eigenvalues: lambda, singularValues: sigma,
            participationRatio: participationRatio(lambdaScaled),
            signalRank: gd.rank, threshold: BinaryScale.times(gd.threshold, pow2: k), beta: gd.beta, omega: gd.omega,
            signalEnergy: gd.rank == 0 ? 0 : energy(lambdaScaled, k: gd.rank),
            coreEnergy: coreEnergies(lambdaScaled),
            twoNNDimension: twoNNEstimate?.dimension,
            roundingFloor: BinaryScale.times(floor, pow2: k), twoNNInterval: twoNNEstimate?.interval, twoNNRows: twoNNEstimate?.rows)
    }
}
