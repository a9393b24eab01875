// Helpers of the SubstrateTests target: approximate comparisons that record one readable issue, and small
// deterministic inputs, in one namespace. Locations and `isClose` come from the shared TestSupport library.

import Foundation
import Linear
import Testing
import TestSupport

enum SubstrateSupport {
    /// Records an issue naming both values and the allowance when `actual` is not close to `expected`.
    @discardableResult
    static func expectClose(_ actual: Double, _ expected: Double, rtol: Double, atol: Double = 0,
                            _ comment: @autoclosure () -> String = "",
                            sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let ok = isClose(actual, expected, rtol: rtol, atol: atol)
        if !ok {
            Issue.record("\(actual) is not close to \(expected) (rtol \(rtol), atol \(atol), |diff| \(Swift.abs(actual - expected))). \(comment())",
                         sourceLocation: sourceLocation)
        }
        return ok
    }

    /// Element-wise `expectClose` of two equal-length arrays; one issue for the worst element.
    @discardableResult
    static func expectClose(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double = 0,
                            _ comment: @autoclosure () -> String = "",
                            sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard actual.count == expected.count else {
            Issue.record("\(actual.count) values, expected \(expected.count). \(comment())", sourceLocation: sourceLocation)
            return false
        }
        var worst = -1, worstExcess = -Double.infinity
        for i in actual.indices where !isClose(actual[i], expected[i], rtol: rtol, atol: atol) {
            let excess = Swift.abs(actual[i] - expected[i]) - (atol + rtol * Swift.abs(expected[i]))
            if !(excess <= worstExcess) { worstExcess = excess; worst = i }
        }
        guard worst >= 0 else { return true }
        Issue.record("element \(worst): \(actual[worst]) is not close to \(expected[worst]) (rtol \(rtol), atol \(atol)). \(comment())",
                     sourceLocation: sourceLocation)
        return false
    }

    /// A random orthogonal d×d matrix (Q of the QR of a Gaussian matrix).
    static func orthogonal(_ d: Int, seed: UInt64) throws -> Tensor<Double> {
        try Tensor<Double>.normal([d, d], seed: seed).qr().q
    }

    /// n rows of an r-dimensional Gaussian signal mapped into D dimensions with strength `signal`, plus unit noise.
    static func lowRank(n: Int, d: Int, r: Int, signal: Double, noise: Double = 1, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        let z = Tensor<Double>.normal([n, r], using: &g)
        let a = Tensor<Double>.normal([r, d], using: &g) * signal
        return try matmul(z, a) + Tensor<Double>.normal([n, d], std: noise, using: &g)
    }

    /// Points near a circle of radius `radius` in the first two coordinates, with `spread` Gaussian noise in the
    /// other d − 2 and `noise` on every coordinate: a curved, non-Gaussian set.
    static func ring(n: Int, d: Int, radius: Double = 2, spread: Double = 0.3, noise: Double = 0.1, seed: UInt64) throws -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        var rows: [Double] = []
        rows.reserveCapacity(n * d)
        for _ in 0..<n {
            let t = 2 * Double.pi * g.nextUniform()
            rows.append(radius * Foundation.cos(t) + noise * g.nextNormal())
            rows.append(radius * Foundation.sin(t) + noise * g.nextNormal())
            for _ in 2..<d { rows.append(spread * g.nextNormal() + noise * g.nextNormal()) }
        }
        return try Tensor(rows, shape: [n, d])
    }
}
