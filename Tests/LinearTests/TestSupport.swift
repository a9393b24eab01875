// Helpers of the LinearTests target: precisions, element-wise and normwise tensor checks, small deterministic
// inputs. Locations, scratch directories and `isClose` come from the shared TestSupport library.

import Foundation
import Linear
import Testing
import TestSupport

// MARK: - Scalar precision

/// The two element types every numeric test runs in, as a test argument.
enum Precision: String, CaseIterable, Sendable, CustomStringConvertible {
    case float = "Float"
    case double = "Double"
    var description: String { rawValue }
}

/// Machine epsilon of `S` as a Double (2⁻²³ for Float, 2⁻⁵² for Double).
func epsilon<S: BLASScalar>(_: S.Type) -> Double { Double(S.ulpOfOne) }

// MARK: - Approximate comparison

/// Checks `actual` against `expected` element-wise with `isClose`; records one issue describing the worst
/// element (index, both values, both shapes) when any element fails or the shapes differ.
@discardableResult
func assertClose<S: BLASScalar>(_ actual: Tensor<S>, _ expected: Tensor<S>, rtol: Double, atol: Double = 0,
                                _ comment: @autoclosure () -> String = "",
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    assertClose(actual, expected.scalars.map { Double($0) }, shape: expected.shape, rtol: rtol, atol: atol,
                comment(), sourceLocation: sourceLocation)
}

/// Checks a tensor against row-major `expected` values (in Double) of the given shape.
@discardableResult
func assertClose<S: BLASScalar>(_ actual: Tensor<S>, _ expected: [Double], shape: [Int], rtol: Double, atol: Double = 0,
                                _ comment: @autoclosure () -> String = "",
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    guard actual.shape == shape else {
        Issue.record("shape \(actual.shape) ≠ expected \(shape). \(comment())", sourceLocation: sourceLocation)
        return false
    }
    guard expected.count == actual.count else {
        Issue.record("expected array has \(expected.count) values for shape \(shape). \(comment())", sourceLocation: sourceLocation)
        return false
    }
    let a = actual.scalars
    var failures = 0, worst = -1, worstExcess = -Double.infinity
    for i in 0..<a.count {
        let x = Double(a[i]), y = expected[i]
        if !isClose(x, y, rtol: rtol, atol: atol) {
            failures += 1
            let excess = (x.isFinite && y.isFinite) ? Swift.abs(x - y) - (atol + rtol * Swift.abs(y)) : .infinity
            if excess > worstExcess { worstExcess = excess; worst = i }
        }
    }
    guard failures > 0 else { return true }
    let idx = unravel(worst, shape)
    Issue.record("""
        \(failures) of \(a.count) elements not close (rtol \(rtol), atol \(atol)); worst at \(idx): \
        actual \(Double(a[worst])), expected \(expected[worst]), |diff| \(Swift.abs(Double(a[worst]) - expected[worst])). \(comment())
        """, sourceLocation: sourceLocation)
    return false
}

/// Checks two scalars with `isClose`.
@discardableResult
func assertClose(_ actual: Double, _ expected: Double, rtol: Double, atol: Double = 0,
                 _ comment: @autoclosure () -> String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    let ok = isClose(actual, expected, rtol: rtol, atol: atol)
    if !ok {
        Issue.record("\(actual) not close to \(expected) (rtol \(rtol), atol \(atol), |diff| \(Swift.abs(actual - expected))). \(comment())",
                     sourceLocation: sourceLocation)
    }
    return ok
}

/// Checks ‖actual − expected‖_max ≤ tol·scale: a normwise comparison for results whose error is bounded
/// relative to the size of the whole problem (matrix products, factorisations), not element by element.
@discardableResult
func assertNormwiseClose<S: BLASScalar>(_ actual: Tensor<S>, _ expected: Tensor<S>, tol: Double, scale: Double,
                                        _ comment: @autoclosure () -> String = "",
                                        sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    guard actual.shape == expected.shape else {
        Issue.record("shape \(actual.shape) ≠ expected \(expected.shape). \(comment())", sourceLocation: sourceLocation)
        return false
    }
    let d = maxDifference(actual, expected)
    let ok = d <= tol * scale
    if !ok {
        Issue.record("max |diff| = \(d) exceeds \(tol) × \(scale) = \(tol * scale). \(comment())", sourceLocation: sourceLocation)
    }
    return ok
}

/// The multi-index of flat position `flat` in a row-major `shape`.
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: shape.count), rem = flat
    for ax in stride(from: shape.count - 1, through: 0, by: -1) where shape[ax] > 0 {
        idx[ax] = rem % shape[ax]; rem /= shape[ax]
    }
    return idx
}

/// Every multi-index of `shape` in row-major order.
func allIndices(_ shape: [Int]) -> [[Int]] {
    let n = shape.reduce(1, *)
    return (0..<n).map { unravel($0, shape) }
}

// MARK: - Inputs

/// A deterministic m×n matrix of standard normal entries.
func randomMatrix<S: BLASScalar>(_ m: Int, _ n: Int, seed: UInt64, as _: S.Type = S.self) -> Tensor<S> {
    Tensor<S>.normal([m, n], seed: seed)
}

/// A deterministic tensor of standard normal entries.
func randomTensor<S: BLASScalar>(_ shape: [Int], seed: UInt64, as _: S.Type = S.self) -> Tensor<S> {
    Tensor<S>.normal(shape, seed: seed)
}

/// Naive triple-loop product, in Double, for checking BLAS results.
func naiveMatmul<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> [Double] {
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let x = a.scalars, y = b.scalars
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var acc = 0.0
        for p in 0..<k { acc += Double(x[i * k + p]) * Double(y[p * n + j]) }
        out[i * n + j] = acc
    } }
    return out
}

/// Picks a tolerance by precision: `float` for `Float`, `double` for `Double`.
func tolerance<S: BLASScalar>(_: S.Type, float: Double, double: Double) -> Double {
    S.self == Float.self ? float : double
}

/// Records an issue unless `body` throws `TensorError.file` whose message contains every fragment
/// (and whose path is `path`, when given).
func expectFileError(_ fragments: [String], path: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Any) {
    do {
        _ = try body()
        Issue.record("expected TensorError.file containing \(fragments), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let TensorError.file(p, message) {
        for f in fragments where !message.contains(f) {
            Issue.record("error message \"\(message)\" does not contain \"\(f)\"", sourceLocation: sourceLocation)
        }
        if let path, p != path { Issue.record("error names \(p), expected \(path)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected TensorError.file, got \(error)", sourceLocation: sourceLocation)
    }
}
