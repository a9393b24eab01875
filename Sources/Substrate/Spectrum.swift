import Foundation
import Linear

/// Spectrum statistics of one set of states X ∈ ℝ^{n×D} (spec §3).
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
    /// Gavish–Donoho signal rank k* = #{σᵢ > τ}.
    public var signalRank: Int
    /// The hard threshold τ = ω(β)·median(σ).
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
            ("twonn_interval", TwoNN.json(interval: twoNNInterval)),
            ("twonn_rows", TwoNN.json(rows: twoNNRows)),
        ])
    }
}

/// The formulas of spec §3, each usable on its own.
public enum Spectrum {
    /// Column means and the centred copy X − 1μᵀ.
    public static func centered(_ x: Tensor<Double>) throws -> (xc: Tensor<Double>, mean: Tensor<Double>) {
        guard x.rank == 2 else { throw TensorError.invalidShape("expected an n×D matrix of states, got shape \(x.shape)") }
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
        let beta = Double(Swift.min(n, d)) / Double(Swift.max(1, Swift.max(n, d)))
        let w = omega(beta)
        guard !sigma.isEmpty else { return (0, 0, beta, w) }
        let tau = w * median(sigma)
        return (sigma.filter { $0 > tau }.count, tau, beta, w)
    }

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
    public static func analyze(_ x: Tensor<Double>, twoNN: Bool = true, twoNNOptions: TwoNNOptions = TwoNNOptions()) throws -> SpectrumStatistics {
        try x.checkFinite("states")
        let (xc, _) = try centered(x)
        let n = x.shape[0], d = x.shape[1]
        guard n >= 2 else { throw TensorError.invalidShape("spectrum: need at least 2 states, got n = \(n)") }
        let sigma = try singularValues(centered: xc)
        let lambda = sigma.map { $0 * $0 / Double(n - 1) }
        let gd = gavishDonoho(singularValues: sigma, n: n, d: d)
        let twoNNEstimate = twoNN ? try TwoNN.estimate(x, options: twoNNOptions) : nil
        return SpectrumStatistics(
            n: n, d: d, eigenvalues: lambda, singularValues: sigma,
            participationRatio: participationRatio(lambda),
            signalRank: gd.rank, threshold: gd.threshold, beta: gd.beta, omega: gd.omega,
            signalEnergy: gd.rank == 0 ? 0 : energy(lambda, k: gd.rank),
            coreEnergy: coreEnergies(lambda),
            twoNNDimension: twoNNEstimate?.dimension, twoNNInterval: twoNNEstimate?.interval, twoNNRows: twoNNEstimate?.rows)
    }
}
