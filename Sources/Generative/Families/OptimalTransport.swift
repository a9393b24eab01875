import Foundation
import Linear

/// Minibatch optimal-transport pairing for OT-CFM (Tong et al. 2024): pair noise rows with data rows so that the
/// total squared Euclidean distance is (approximately) minimal.
public enum OTPairing: String, Sendable, CaseIterable {
    /// Independent pairing (plain conditional flow matching).
    case none
    /// The exact assignment (Hungarian / Jonker–Volgenant shortest augmenting paths, O(n³)); for batches ≲ 512.
    case exact
    /// Entropic OT by Sinkhorn iterations; each noise row takes the data row of largest plan weight among those
    /// not yet taken (greedy rounding to a permutation).
    case sinkhorn

    /// Parses `none`, `exact` (also `hungarian`) or `sinkhorn`.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "none", "independent": self = .none
        case "exact", "hungarian", "assignment": self = .exact
        case "sinkhorn": self = .sinkhorn
        default: throw ConfigurationError(field: "OTPairing.name", reason: "unknown OT pairing '\(name)': expected none, exact or sinkhorn")
        }
    }
}

public enum OptimalTransport {
    /// The squared distances C[i][j] = ‖aᵢ − bⱼ‖² between the rows of a [n, D] and b [m, D] (one gemm).
    public static func squaredDistances<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> [[Double]] {
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[1] else {
            throw TensorError.shapeMismatch(operation: "OT cost", lhs: a.shape, rhs: b.shape)
        }
        let g: Tensor<Double> = try matmul(a.cast(), b.cast(), transposeB: true)
        let n = a.shape[0], m = b.shape[0], d = a.shape[1]
        let av: [Double] = a.cast(to: Double.self).scalars, bv: [Double] = b.cast(to: Double.self).scalars
        let an = (0..<n).map { i in (0..<d).reduce(0.0) { $0 + av[i * d + $1] * av[i * d + $1] } }
        let bn = (0..<m).map { j in (0..<d).reduce(0.0) { $0 + bv[j * d + $1] * bv[j * d + $1] } }
        let gv = g.scalars
        return (0..<n).map { i in (0..<m).map { j in Swift.max(0, an[i] + bn[j] - 2 * gv[i * m + j]) } }
    }

    /// The minimum-cost assignment of a square cost matrix: `result[i]` is the column given to row i.
    /// Shortest augmenting paths with potentials (Jonker & Volgenant 1987), O(n³).
    public static func assignment(_ cost: [[Double]]) throws -> [Int] {
        let n = cost.count
        guard cost.allSatisfy({ $0.count == n }) else { throw TensorError.invalidShape("assignment: the cost matrix must be square") }
        if n == 0 { return [] }
        // 1-based arrays as in the classical formulation; p[j] = row matched to column j. Flat row-major cost.
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { c[i * n + j] = cost[i][j] } }
        var u = [Double](repeating: 0, count: n + 1), v = u
        var p = [Int](repeating: 0, count: n + 1), way = p
        var minv = [Double](repeating: .infinity, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        c.withUnsafeBufferPointer { c in
        u.withUnsafeMutableBufferPointer { u in
        v.withUnsafeMutableBufferPointer { v in
        p.withUnsafeMutableBufferPointer { p in
        way.withUnsafeMutableBufferPointer { way in
        minv.withUnsafeMutableBufferPointer { minv in
        used.withUnsafeMutableBufferPointer { used in
            for i in 1...n {
                p[0] = i
                var j0 = 0
                for j in 0...n { minv[j] = .infinity; used[j] = false }
                repeat {
                    used[j0] = true
                    let i0 = p[j0]
                    let row = (i0 - 1) * n - 1
                    let ui0 = u[i0]
                    var delta = Double.infinity, j1 = 0
                    for j in 1...n where !used[j] {
                        let cur = c[row + j] - ui0 - v[j]
                        if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                        if minv[j] < delta { delta = minv[j]; j1 = j }
                    }
                    for j in 0...n {
                        if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                    }
                    j0 = j1
                } while p[j0] != 0
                repeat {
                    let j1 = way[j0]
                    p[j0] = p[j1]
                    j0 = j1
                } while j0 != 0
            }
        }}}}}}}
        var result = [Int](repeating: 0, count: n)
        for j in 1...n { result[p[j] - 1] = j - 1 }
        return result
    }

    /// The entropic OT plan between uniform marginals: P = diag(u)·K·diag(v), K = exp(−C/(ε·mean C)), by
    /// `iterations` Sinkhorn updates (in the log domain for stability).
    public static func sinkhornPlan(_ cost: [[Double]], epsilon: Double = 0.05, iterations: Int = 100) throws -> [[Double]] {
        let n = cost.count
        guard n > 0, cost.allSatisfy({ $0.count == n }) else { throw TensorError.invalidShape("sinkhorn: the cost matrix must be square and non-empty") }
        guard epsilon > 0, iterations >= 1 else { throw ConfigurationError(field: "OptimalTransport.sinkhornPlan(epsilon:iterations:)", reason: "sinkhorn: need ε > 0 and iterations ≥ 1") }
        let meanCost = Swift.max(cost.joined().reduce(0, +) / Double(n * n), 1e-12)
        let e = epsilon * meanCost
        var f = [Double](repeating: 0, count: n), g = f
        let logMarginal = -Foundation.log(Double(n))
        func lse(_ xs: [Double]) -> Double { let m = xs.max()!; return m + Foundation.log(xs.reduce(0) { $0 + Foundation.exp($1 - m) }) }
        for _ in 0..<iterations {
            for i in 0..<n { f[i] = e * (logMarginal - lse((0..<n).map { (g[$0] - cost[i][$0]) / e })) }
            for j in 0..<n { g[j] = e * (logMarginal - lse((0..<n).map { (f[$0] - cost[$0][j]) / e })) }
        }
        return (0..<n).map { i in (0..<n).map { j in Foundation.exp((f[i] + g[j] - cost[i][j]) / e) } }
    }

    /// For each row of `noise`, the index of its data partner under `pairing` (a permutation of 0..<n).
    public static func pair<S: BLASScalar>(noise: Tensor<S>, data: Tensor<S>, pairing: OTPairing) throws -> [Int] {
        let n = noise.shape[0]
        guard data.shape[0] == n else { throw TensorError.shapeMismatch(operation: "OT pairing", lhs: noise.shape, rhs: data.shape) }
        switch pairing {
        case .none: return Array(0..<n)
        case .exact: return try assignment(squaredDistances(noise, data))
        case .sinkhorn:
            let plan = try sinkhornPlan(squaredDistances(noise, data))
            // Greedy rounding: largest entries first.
            var entries: [(Double, Int, Int)] = []
            entries.reserveCapacity(n * n)
            for i in 0..<n { for j in 0..<n { entries.append((plan[i][j], i, j)) } }
            entries.sort { $0.0 > $1.0 }
            var rowDone = [Bool](repeating: false, count: n), colDone = rowDone
            var out = [Int](repeating: -1, count: n)
            var left = n
            for (_, i, j) in entries where !rowDone[i] && !colDone[j] {
                out[i] = j; rowDone[i] = true; colDone[j] = true; left -= 1
                if left == 0 { break }
            }
            return out
        }
    }
}
