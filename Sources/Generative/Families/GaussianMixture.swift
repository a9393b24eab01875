import Foundation
import Linear

/// A Gaussian mixture p(z) = Σ_k π_k·N(z; μ_k, Σ_k) in d dimensions with full covariances, fitted by
/// expectation–maximisation (Dempster, Laird & Rubin 1977; Bishop 2006, §9.2.2):
///
///     E-step:  r_ik = π_k N(z_i; μ_k, Σ_k) / Σ_j π_j N(z_i; μ_j, Σ_j)                 (in log space)
///     M-step:  N_k = Σ_i r_ik,  π_k = N_k / n,  μ_k = Σ_i r_ik z_i / N_k,
///              Σ_k = Σ_i r_ik (z_i − μ_k)(z_i − μ_k)ᵀ / N_k + ε·I,
///
/// with ε = `ridge`·tr(Cov z)/d + 10⁻¹² (a small ridge keeps every Σ_k positive definite when a component collapses onto
/// a few points). Each iteration does not decrease the mean log-likelihood (1/n)·Σ_i log p(z_i) up to the ridge.
/// The means start at k-means++ seeds (Arthur & Vassilvitskii 2007: the first a uniformly chosen row, each next
/// one a row chosen with probability ∝ its squared distance to the nearest seed so far), the first M-step from
/// the hard assignment of every row to its nearest seed.
///
/// The VAE fits one to its encoded training data after training (ex-post density estimation, Ghosh et al. 2020,
/// "From Variational to Deterministic Autoencoders", §4) and samples its latents from it.
/// Cost per iteration: O(n·K·d²) for n rows, K components (the Mahalanobis distances and the scatter matrices are
/// BLAS products).
public struct GaussianMixture: Sendable, Equatable {
    /// Mixing weights π_k (K, summing to 1).
    public let weights: [Double]
    /// Means μ_k (K rows of d).
    public let means: [[Double]]
    /// Covariances Σ_k (K matrices, d·d row-major, symmetric positive definite).
    public let covariances: [[Double]]
    /// Lower Cholesky factors L_k of Σ_k = L_k·L_kᵀ (d·d row-major).
    let factors: [[Double]]

    public var components: Int { weights.count }
    public var dimension: Int { means.first?.count ?? 0 }

    /// A mixture from its parameters.
    /// - Throws: `ConfigurationError` (field `GaussianMixture`) when the shapes disagree, a weight is negative or not
    ///   finite, the weights do not sum to 1 (within 1e-4), or a covariance is not symmetric positive definite.
    public init(weights: [Double], means: [[Double]], covariances: [[Double]]) throws {
        let k = weights.count, d = means.first?.count ?? 0
        func fail(_ r: String) -> ConfigurationError { ConfigurationError(field: "GaussianMixture", reason: r) }
        guard k >= 1, d >= 1, means.count == k, covariances.count == k,
              means.allSatisfy({ $0.count == d }), covariances.allSatisfy({ $0.count == d * d }) else {
            throw fail("need K ≥ 1 weights, K means of d ≥ 1 and K d×d covariances; got \(k) weights, \(means.map(\.count)) means, \(covariances.map(\.count)) covariance entries")
        }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(weights.reduce(0, +) - 1) < 1e-4 else {
            throw fail("weights must be finite, ≥ 0 and sum to 1; got \(weights)")
        }
        guard means.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw fail("a mean is not finite") }
        var ls: [[Double]] = []
        for (j, c) in covariances.enumerated() {
            for a in 0..<d { for b in 0..<a where abs(c[a * d + b] - c[b * d + a]) > 1e-6 * (abs(c[a * d + a]) + abs(c[b * d + b])) {
                throw fail("covariance \(j) is not symmetric")
            } }
            do { ls.append(try Tensor<Double>(c, shape: [d, d]).cholesky().scalars) } catch {
                throw fail("covariance \(j) is not positive definite (\(error))")
            }
        }
        self.weights = weights           // as given (not renormalised, so that a mixture read back from a file is the one written)
        self.means = means; self.covariances = covariances; factors = ls
    }

    public static func == (a: GaussianMixture, b: GaussianMixture) -> Bool {
        a.weights == b.weights && a.means == b.means && a.covariances == b.covariances
    }

    /// Free parameters: (K − 1) + K·d + K·d(d + 1)/2.
    public var parameterCount: Int { let d = dimension, k = components; return (k - 1) + k * d + k * d * (d + 1) / 2 }

    // MARK: Density

    /// log N(z_i; μ_k, Σ_k) for every row and component, [n·K] row-major: −½(d·log 2π + log|Σ_k| + ‖L_k⁻¹(z_i − μ_k)‖²).
    func componentLogDensities(_ z: Tensor<Double>) throws -> [Double] {
        let n = z.shape[0], d = dimension, k = components
        var out = [Double](repeating: 0, count: n * k)
        for j in 0..<k {
            let l = try Tensor<Double>(factors[j], shape: [d, d])
            let linv = try l.inverse()
            let centred = try z - Tensor<Double>(means[j], shape: [1, d])
            let y = try matmul(centred, linv, transposeB: true)          // rows L⁻¹(z_i − μ_k)
            let m = try y.square().sum(axis: 1).scalars
            var logDet = 0.0
            for a in 0..<d { logDet += 2 * log(factors[j][a * d + a]) }
            let c = -0.5 * (Double(d) * log(2 * Double.pi) + logDet)
            for i in 0..<n { out[i * k + j] = c - 0.5 * m[i] }
        }
        return out
    }

    /// log p(z_i) = log Σ_k π_k N(z_i; μ_k, Σ_k) per row of z [n, d].
    public func logDensity(_ z: Tensor<Double>) throws -> [Double] {
        guard z.rank == 2, z.shape[1] == dimension else { throw TensorError.invalidShape("GaussianMixture.logDensity: expected [n, \(dimension)], got \(z.shape)") }
        let lp = try componentLogDensities(z)
        return Self.logSumExpRows(lp, weights: weights, rows: z.shape[0]).logP
    }

    /// Per row log Σ_k π_k·exp(lp_ik), and the responsibilities r_ik (row-major).
    static func logSumExpRows(_ lp: [Double], weights: [Double], rows n: Int) -> (logP: [Double], r: [Double]) {
        let k = weights.count
        let logW = weights.map { $0 > 0 ? log($0) : -Double.infinity }
        var logP = [Double](repeating: 0, count: n), r = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            var m = -Double.infinity
            for j in 0..<k { m = Swift.max(m, lp[i * k + j] + logW[j]) }
            var s = 0.0
            for j in 0..<k { let e = exp(lp[i * k + j] + logW[j] - m); r[i * k + j] = e; s += e }
            for j in 0..<k { r[i * k + j] /= s }
            logP[i] = m + log(s)
        }
        return (logP, r)
    }

    // MARK: Sampling

    /// Samples z_i = μ_k + L_k·ε_i with component k the first whose cumulative weight exceeds u_i, from uniforms
    /// `u` [n] in [0, 1) and standard normals `eps` [n, d]; row i depends only on (u_i, ε_i).
    public func sample<S: BLASScalar>(uniforms u: [Double], normals eps: Tensor<S>) throws -> Tensor<S> {
        let n = u.count, d = dimension
        guard eps.rank == 2, eps.shape == [n, d] else { throw TensorError.invalidShape("GaussianMixture.sample: expected normals [\(n), \(d)], got \(eps.shape)") }
        var cumulative = [Double](), s = 0.0
        for w in weights { s += w; cumulative.append(s) }
        let e = eps.scalars
        var out = [S](repeating: 0, count: n * d)
        for i in 0..<n {
            let k = cumulative.firstIndex(where: { u[i] < $0 }) ?? (components - 1)
            let l = factors[k]
            for a in 0..<d {
                var v = means[k][a]
                for b in 0...a { v += l[a * d + b] * Double(e[i * d + b]) }
                out[i * d + a] = S(v)
            }
        }
        return try Tensor(out, shape: [n, d])
    }

    // MARK: Fitting

    /// The result of `fit`: the mixture, the mean log-likelihood (1/n)·Σ log p(z_i) after each E-step (the first
    /// is the initialisation's), and the Bayesian information criterion −2·Σ_i log p(z_i) + p·log n (Schwarz 1978).
    public struct Fit: Sendable {
        public var mixture: GaussianMixture
        public var logLikelihoods: [Double]
        public var converged: Bool
        public var bic: Double
        public var iterations: Int { logLikelihoods.count - 1 }
    }

    /// Fits K components to the rows of z [n, d] by EM from k-means++ seeds drawn with `seed`; stops when the mean
    /// log-likelihood rises by less than `tolerance` in an iteration, or after `maxIterations`.
    /// - Throws: `ConfigurationError` (field `GaussianMixture.fit`) for K < 1, n < K, d < 1, a non-positive ridge or
    ///   non-finite data.
    public static func fit(_ z: Tensor<Double>, components k: Int, seed: UInt64, ridge: Double = 1e-6,
                           maxIterations: Int = 500, tolerance: Double = 1e-6) throws -> Fit {
        func fail(_ r: String) -> ConfigurationError { ConfigurationError(field: "GaussianMixture.fit", reason: r) }
        guard z.rank == 2, z.shape[1] >= 1 else { throw fail("expected rows [n, d ≥ 1], got \(z.shape)") }
        let n = z.shape[0], d = z.shape[1]
        guard k >= 1, n >= k else { throw fail("need 1 ≤ K ≤ n rows, got K = \(k), n = \(n)") }
        guard ridge > 0, ridge.isFinite, maxIterations >= 1, tolerance >= 0 else { throw fail("need ridge > 0, maxIterations ≥ 1, tolerance ≥ 0") }
        guard z.allFinite else { throw fail("the rows are not all finite") }
        let x = z.scalars
        // ε = ridge · mean variance of the coordinates (scale-free).
        var totalVariance = 0.0
        let colMean = try z.mean(axis: 0).scalars
        for i in 0..<n { for a in 0..<d { let c = x[i * d + a] - colMean[a]; totalVariance += c * c } }
        // (+ 1e-12: identical rows, e.g. a VAE whose posterior collapsed to one point, still give a valid mixture)
        let eps = ridge * totalVariance / Double(n * d) + 1e-12

        // k-means++ seeds and the hard assignment to the nearest one.
        var g = RandomGenerator(seed: seed)
        var seeds = [g.nextInt(below: n)]
        var nearest = [Double](repeating: .infinity, count: n)
        func dist2(_ i: Int, _ c: Int) -> Double {
            var s = 0.0
            for a in 0..<d { let t = x[i * d + a] - x[c * d + a]; s += t * t }
            return s
        }
        while seeds.count < k {
            let last = seeds.last!
            var total = 0.0
            for i in 0..<n { nearest[i] = Swift.min(nearest[i], dist2(i, last)); total += nearest[i] }
            var next = g.nextInt(below: n)
            if total > 0 {
                var target = g.nextUniform() * total, i = 0
                while i < n - 1 && target >= nearest[i] { target -= nearest[i]; i += 1 }
                next = i
            }
            seeds.append(next)
        }
        var r = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            var best = 0, bd = Double.infinity
            for (j, c) in seeds.enumerated() { let t = dist2(i, c); if t < bd { bd = t; best = j } }
            r[i * k + best] = 1
        }

        var mixture = try mStep(z, responsibilities: r, components: k, ridge: eps)
        var history: [Double] = []
        var converged = false
        for it in 0...maxIterations {
            let (logP, resp) = logSumExpRows(try mixture.componentLogDensities(z), weights: mixture.weights, rows: n)
            let ll = logP.reduce(0, +) / Double(n)
            guard ll.isFinite else { throw fail("the log-likelihood became non-finite at iteration \(it)") }
            if let prev = history.last, ll - prev < tolerance { history.append(ll); converged = true; break }
            history.append(ll)
            if it == maxIterations { break }
            mixture = try mStep(z, responsibilities: resp, components: k, ridge: eps)
        }
        let bic = -2 * Double(n) * history.last! + Double(mixture.parameterCount) * log(Double(n))
        return Fit(mixture: mixture, logLikelihoods: history, converged: converged, bic: bic)
    }

    /// The M-step from responsibilities r [n·K] (row-major): π_k, μ_k = Zᵀr_k/N_k, Σ_k = (r_k ⊙ Z_c)ᵀZ_c/N_k + ε·I.
    /// A component with no weight (N_k below 1e-10·n) restarts as the whole data's Gaussian with weight 0 … the
    /// smallest positive, renormalised.
    static func mStep(_ z: Tensor<Double>, responsibilities r: [Double], components k: Int, ridge eps: Double) throws -> GaussianMixture {
        let n = z.shape[0], d = z.shape[1]
        let rt = try Tensor<Double>(r, shape: [n, k])
        let nk = try rt.sum(axis: 0).scalars
        let sums = try matmul(rt, z, transposeA: true).scalars                  // [K, d]: Σ_i r_ik z_i
        var weights = [Double](), means = [[Double]](), covs = [[Double]]()
        let floor = 1e-10 * Double(n)
        for j in 0..<k {
            let nj = Swift.max(nk[j], floor)
            let mu = (0..<d).map { sums[j * d + $0] / nj }
            var rj = [Double](repeating: 0, count: n)
            for i in 0..<n { rj[i] = r[i * k + j] / nj }
            let centred = try z - Tensor<Double>(mu, shape: [1, d])
            let weighted = try centred * Tensor<Double>(rj, shape: [n, 1])
            var c = try matmul(weighted, centred, transposeA: true).scalars
            for a in 0..<d {
                c[a * d + a] += eps
                for b in 0..<a { let s = 0.5 * (c[a * d + b] + c[b * d + a]); c[a * d + b] = s; c[b * d + a] = s }
            }
            weights.append(nj / Double(n)); means.append(mu); covs.append(c)
        }
        let total = weights.reduce(0, +)
        return try GaussianMixture(weights: weights.map { $0 / total }, means: means, covariances: covs)
    }

    /// Fits K = 1 … `maxComponents` (each from `seed`) and keeps the one with the smallest BIC.
    public static func fitSelectingByBIC(_ z: Tensor<Double>, maxComponents: Int, seed: UInt64, ridge: Double = 1e-6) throws -> Fit {
        var best: Fit? = nil
        for k in 1...Swift.max(1, Swift.min(maxComponents, z.shape[0])) {
            let f = try fit(z, components: k, seed: seed, ridge: ridge)
            if best == nil || f.bic < best!.bic { best = f }
        }
        return best!
    }
}
