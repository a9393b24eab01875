// Golden tests: every case of data/golden/linear_golden.json (written by data/golden/make_golden.py with
// numpy/scipy) is recomputed with Linear in Float and in Double and compared with the float64 reference.
//
// Inputs in the file are float32-representable, so both precisions see exactly the same input and the
// differences measure Linear's arithmetic only.
//
// Comparison: an element passes when |actual − reference| ≤ rtol·|reference| + atol, where atol is a tolerance
// times a magnitude the error of that operation is naturally bounded by (the case's "scale", set by the
// generator and described per op below). Tolerances, by precision:
//
//                                         Double     Float     (ε: 2.2e-16 Double, 1.2e-7 Float)
//   products, reductions, unary (`basic`)  1e-12      1e-5     error bounds are ≲ k·ε with k ≤ 300
//   factorisations & solves (`linalg`)      1e-12      1e-5     times the case's condition number where the
//                                                              forward error depends on it (qr, solve, inverse…)
//   singular/eigen-vectors (`vectors`)      1e-12      1e-5     divided by the smallest relative gap between
//                                                              neighbouring values (vector error ∝ 1/gap)
//   max, min, argmax, argmin, abs, relu     exact      exact
//
// The "scale" (the magnitude in atol) per op: products max(|A|·|B|); sum max Σ|x| of a line; mean and std
// max|x|; var max|x|²; logsumexp and logSoftmax max|x| + 1; svd σ₁; eigh max|λ|; qr max|R| (for R; 1 for Q);
// cholesky max|L|; solve, inverse, sqrtPSD, inverseSqrtPSD max|result|; lstsq max|x| (× cond² for tall A,
// × cond otherwise); slogdet and logdet Σ|log σᵢ| + 1. Softmax, norm and the unary functions are relative
// (gelu, sin and cos with atol = tol·1, because they cancel near their zeros).
//
// Measured with OpenBLAS 0.3.21 (Cooperlake kernels): the worst error is ≤ 0.13 of the allowance in Float (syevr eigenvalues)
// and ≤ 0.004 in Double, so these leave a margin for other BLAS kernels while a wrong result fails by orders
// of magnitude. Set GOLDEN_REPORT=1 to print, for every comparison, the worst error as a fraction of what is allowed.

import Foundation
import Linear
import Testing
import TestSupport

// MARK: - The file

/// One array from the golden file: a row-major list of values and its shape ([] for a scalar).
struct GoldenArray: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]

    private enum Keys: String, CodingKey { case shape, data }

    init(shape: [Int], data: [Double]) { self.shape = shape; self.data = data }

    /// A reference array built from a tensor (e.g. a slice of another reference).
    init<S: BLASScalar>(_ t: Tensor<S>) { self.init(shape: t.shape, data: t.scalars.map { Double($0) }) }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        shape = try c.decode([Int].self, forKey: .shape)
        var list = try c.nestedUnkeyedContainer(forKey: .data)
        var values: [Double] = []
        while !list.isAtEnd {
            if let v = try? list.decode(Double.self) {
                values.append(v)
            } else {
                switch try list.decode(String.self) {
                case "inf": values.append(.infinity)
                case "-inf": values.append(-.infinity)
                case "nan": values.append(.nan)
                case let s: throw DecodingError.dataCorruptedError(in: list, debugDescription: "unknown value \(s)")
                }
            }
        }
        data = values
    }

    var count: Int { shape.reduce(1, *) }

    func tensor<S: BLASScalar>(_: S.Type) throws -> Tensor<S> {
        try Tensor<S>(data.map { S($0) }, shape: shape)
    }

    /// The value of a one-element array.
    var scalar: Double {
        precondition(data.count == 1, "GoldenArray.scalar: \(data.count) values")
        return data[0]
    }
}

struct GoldenCase: Decodable, Sendable, CustomStringConvertible {
    let op: String
    let name: String
    let params: [String: Double]
    let arrays: [String: GoldenArray]
    let bits: [String]?

    var description: String { "\(op) «\(name)»" }

    func array(_ key: String) throws -> GoldenArray {
        try #require(arrays[key], "golden case \(self) has no array \"\(key)\"")
    }
    func tensor<S: BLASScalar>(_ key: String, _: S.Type) throws -> Tensor<S> { try array(key).tensor(S.self) }
    func param(_ key: String) throws -> Double { try #require(params[key], "golden case \(self) has no parameter \"\(key)\"") }
    func intParam(_ key: String) throws -> Int { Int(try param(key)) }
    func flag(_ key: String) -> Bool { (params[key] ?? 0) != 0 }
    /// The reduction axis, or nil for "over all elements".
    var axis: Int? { params["axis"].map { Int($0) } }
    var scale: Double { params["scale"] ?? 0 }
    var cond: Double { params["cond"] ?? 1 }
}

struct GoldenFile: Decodable, Sendable {
    let generator: String
    let seed: Int
    let cases: [GoldenCase]
}

enum Golden {
    static let url = dataURL("golden/linear_golden.json")

    static let loaded: Result<GoldenFile, any Error> = Result {
        let data = try Data(contentsOf: url)
        return try JSONDecoder().decode(GoldenFile.self, from: data)
    }

    static func file() throws -> GoldenFile {
        switch loaded {
        case .success(let f): return f
        case .failure(let e):
            Issue.record("cannot load \(url.path) (regenerate with `python3 data/golden/make_golden.py`): \(e)")
            throw e
        }
    }

    static func cases(_ op: GoldenOp) throws -> [GoldenCase] {
        let all = try file().cases.filter { $0.op == op.rawValue }
        try #require(!all.isEmpty, "no golden cases for op \(op.rawValue)")
        return all
    }

    static let report = ProcessInfo.processInfo.environment["GOLDEN_REPORT"] != nil
}

/// Every op in the golden file; each is one parameterised test per precision.
enum GoldenOp: String, CaseIterable, Sendable {
    case matmul, batched_matmul, matvec, outer, gram, dot
    case sum, mean, `var`, std, max, min, argmax, argmin, logsumexp, norm, softmax, log_softmax
    case exp, log, log1p, expm1, tanh, sigmoid, silu, gelu, softplus, sqrt, rsqrt, square, abs, relu, sin, cos
    case svd, eigh, qr, cholesky, solve, solve_spd, lstsq, sqrtm, inv_sqrtm, slogdet, logdet, inverse
    case probe
}

// MARK: - Tolerances

struct GoldenTolerance {
    /// Products, reductions, element-wise functions.
    let basic: Double
    /// Factorisations, solves, matrix functions (multiplied by the case's condition number where relevant).
    let linalg: Double
    /// Singular vectors and eigenvectors, before division by the relative gap.
    let vectors: Double

    static func of<S: BLASScalar>(_: S.Type) -> GoldenTolerance {
        S.self == Float.self
            ? GoldenTolerance(basic: 1e-5, linalg: 1e-5, vectors: 1e-5)
            : GoldenTolerance(basic: 1e-12, linalg: 1e-12, vectors: 1e-12)
    }
}

// MARK: - Comparison

/// Compares element-wise: |a − r| ≤ rtol·|r| + atol. Non-finite references must be matched exactly.
/// Records one issue naming the case, the quantity, the worst element and its error relative to the allowance.
@discardableResult
func goldenCheck<S: BLASScalar>(_ actual: Tensor<S>, _ expected: [Double], shape: [Int], rtol: Double, atol: Double,
                                _ what: String, _ c: GoldenCase,
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    let label = "\(c) [\(S.self)] \(what)"
    guard actual.shape == shape else {
        Issue.record("\(label): shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
        return false
    }
    let a = actual.scalars
    var worstRatio = 0.0, worst = -1
    for i in 0..<a.count {
        let x = Double(a[i]), r = expected[i]
        let ratio: Double
        if !r.isFinite || !x.isFinite {
            ratio = (x == r || (x.isNaN && r.isNaN)) ? 0 : .infinity
        } else {
            let allowed = rtol * Swift.abs(r) + atol
            let diff = Swift.abs(x - r)
            ratio = diff == 0 ? 0 : (allowed == 0 ? .infinity : diff / allowed)
        }
        if ratio > worstRatio || worst < 0 { worstRatio = ratio; worst = i }
    }
    if Golden.report {
        print(String(format: "GOLDEN %-60@ worst/allowed = %.3g", label as NSString, worstRatio))
    }
    guard worstRatio > 1 else { return true }
    Issue.record("""
        \(label): worst element \(unravel(worst, shape)) is \(Double(a[worst])), reference \(expected[worst]) \
        (|diff| \(Swift.abs(Double(a[worst]) - expected[worst])), allowed rtol \(rtol)·|ref| + atol \(atol); \
        \(String(format: "%.3g", worstRatio))× over)
        """, sourceLocation: sourceLocation)
    return false
}

@discardableResult
func goldenCheck<S: BLASScalar>(_ actual: Tensor<S>, _ expected: GoldenArray, rtol: Double, atol: Double,
                                _ what: String, _ c: GoldenCase,
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    goldenCheck(actual, expected.data, shape: expected.shape, rtol: rtol, atol: atol, what, c, sourceLocation: sourceLocation)
}

@discardableResult
func goldenCheck<S: BLASScalar>(_ actual: S, _ expected: Double, rtol: Double, atol: Double, _ what: String, _ c: GoldenCase,
                                sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    goldenCheck(Tensor<S>(scalar: actual), [expected], shape: [], rtol: rtol, atol: atol, what, c, sourceLocation: sourceLocation)
}

/// Multiplies column j of `m` by `signs[j]`.
func scaleColumns<S: BLASScalar>(_ m: Tensor<S>, _ signs: [S]) throws -> Tensor<S> {
    try m * Tensor<S>(signs, shape: [1, signs.count])
}

/// Multiplies row i of `m` by `signs[i]`.
func scaleRows<S: BLASScalar>(_ m: Tensor<S>, _ signs: [S]) throws -> Tensor<S> {
    try m * Tensor<S>(signs, shape: [signs.count, 1])
}

/// For each column j, ±1 so that column j of `m` points the same way as column j of `ref` (sign of their dot product).
func alignmentSigns<S: BLASScalar>(_ m: Tensor<S>, _ ref: GoldenArray) -> [S] {
    let rows = m.shape[0], cols = m.shape[1]
    let a = m.scalars
    return (0..<cols).map { j in
        var d = 0.0
        for i in 0..<rows { d += Double(a[i * cols + j]) * ref.data[i * cols + j] }
        return d < 0 ? -1 : 1
    }
}

// MARK: - Tests

@Suite("Golden values from numpy/scipy")
struct GoldenTests {
    @Test("golden file loads, parses float64 exactly and has cases for every op")
    func fileIsComplete() throws {
        let file = try Golden.file()
        #expect(file.generator == "data/golden/make_golden.py")
        let ops = Set(file.cases.map(\.op))
        let known = Set(GoldenOp.allCases.map(\.rawValue))
        #expect(ops.subtracting(known).isEmpty, "ops in the file that no test checks: \(ops.subtracting(known).sorted())")
        #expect(known.subtracting(ops).isEmpty, "ops with no golden case: \(known.subtracting(ops).sorted())")
        #expect(file.cases.count > 300)
        // Every case's arrays are consistent with their shapes.
        for c in file.cases {
            for (k, a) in c.arrays { #expect(a.data.count == a.count, "\(c) array \(k): \(a.data.count) values for shape \(a.shape)") }
        }
    }

    @Test("golden", arguments: GoldenOp.allCases, Precision.allCases)
    func golden(_ op: GoldenOp, _ precision: Precision) throws {
        let cases = try Golden.cases(op)
        for c in cases {
            switch precision {
            case .float: try GoldenRunner<Float>(c: c).run(op)
            case .double: try GoldenRunner<Double>(c: c).run(op)
            }
        }
    }
}

/// Recomputes one golden case in precision `S` and compares.
struct GoldenRunner<S: BLASScalar> {
    let c: GoldenCase
    var tol: GoldenTolerance { .of(S.self) }

    func t(_ key: String) throws -> Tensor<S> { try c.tensor(key, S.self) }

    func run(_ op: GoldenOp) throws {
        switch op {
        case .matmul: try matmulCase()
        case .batched_matmul: try batchedCase()
        case .matvec:
            let out = try matvec(t("a"), t("x"), transposeA: c.flag("transposeA"))
            goldenCheck(out, try c.array("out"), rtol: 0, atol: tol.basic * c.scale, "A·x", c)
        case .outer:
            let out = try outer(t("x"), t("y") as Tensor<S>)
            goldenCheck(out, try c.array("out"), rtol: tol.basic, atol: 0, "x·yᵀ", c)
        case .gram:
            let x = try t("x")
            goldenCheck(try x.gram(), try c.array("out"), rtol: 0, atol: tol.basic * c.scale, "XᵀX", c)
            goldenCheck(try x.gram(alpha: 2), try c.array("out").data.map { 2 * $0 }, shape: try c.array("out").shape,
                        rtol: 0, atol: 2 * tol.basic * c.scale, "2·XᵀX", c)
        case .dot:
            goldenCheck(try dot(t("x"), t("y") as Tensor<S>), try c.array("out").scalar, rtol: 0, atol: tol.basic * c.scale, "x·y", c)
        case .sum, .mean, .var, .std, .max, .min, .argmax, .argmin, .logsumexp, .norm, .softmax, .log_softmax:
            try reductionCase(op)
        case .exp, .log, .log1p, .expm1, .tanh, .sigmoid, .silu, .gelu, .softplus, .sqrt, .rsqrt, .square, .abs, .relu, .sin, .cos:
            try unaryCase(op)
        case .svd: try svdCase()
        case .eigh: try eighCase()
        case .qr: try qrCase()
        case .cholesky:
            let l = try t("a").cholesky()
            goldenCheck(l, try c.array("l"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "L", c)
        case .solve:
            let x = try solve(t("a"), t("b"))
            goldenCheck(x, try c.array("x"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "x = A⁻¹b", c)
        case .solve_spd:
            let a = try t("a"), b = try t("b")
            goldenCheck(try solvePositiveDefinite(a, b), try c.array("x"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "solvePositiveDefinite", c)
            goldenCheck(try choleskySolve(a.cholesky(), b), try c.array("x"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "choleskySolve", c)
        case .lstsq: try lstsqCase()
        case .sqrtm:
            goldenCheck(try t("a").sqrtPSD(), try c.array("out"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "sqrtPSD", c)
        case .inv_sqrtm:
            goldenCheck(try t("a").inverseSqrtPSD(), try c.array("out"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "inverseSqrtPSD", c)
        case .slogdet:
            let (sign, logAbs) = try t("a").slogdet()
            #expect(Double(sign) == (try c.array("sign").scalar), "\(c) [\(S.self)]: sign \(sign)")
            goldenCheck(logAbs, try c.array("logabsdet").scalar, rtol: 0, atol: tol.linalg * c.cond * c.scale, "log|det|", c)
        case .logdet:
            goldenCheck(try t("a").logdet(), try c.array("out").scalar, rtol: 0, atol: tol.linalg * c.scale, "logdet", c)
        case .inverse:
            goldenCheck(try t("a").inverse(), try c.array("out"), rtol: 0, atol: tol.linalg * c.cond * c.scale, "A⁻¹", c)
        case .probe:
            // Exact float64 parsing: the decoded bits must equal the bits numpy wrote.
            let values = try c.array("values").data
            let bits = try #require(c.bits)
            #expect(values.count == bits.count)
            for (v, b) in zip(values, bits) {
                #expect(String(v.bitPattern, radix: 16).leftPadded(16) == b, "parsed \(v) has bits \(String(v.bitPattern, radix: 16)), file says \(b)")
            }
        }
    }

    // MARK: products

    func matmulCase() throws {
        let a = try t("a"), b = try t("b")
        let ta = c.flag("transposeA"), tb = c.flag("transposeB")
        let out = try matmul(a, b, transposeA: ta, transposeB: tb)
        // |fl(AB) − AB| ≤ k·ε·(|A||B|): atol = basic · max(|A||B|).
        goldenCheck(out, try c.array("out"), rtol: 0, atol: tol.basic * c.scale, "op(A)·op(B)", c)
        if !ta && !tb { #expect(try a.matmul(b) == out, "\(c): Tensor.matmul differs from matmul") }
    }

    func batchedCase() throws {
        let a = try t("a"), b = try t("b")
        let ta = c.flag("transposeA"), tb = c.flag("transposeB")
        let out = try batchedMatmul(a, b, transposeA: ta, transposeB: tb)
        goldenCheck(out, try c.array("out"), rtol: 0, atol: tol.basic * c.scale, "batched op(A)·op(B)", c)
        // `matmul` forwards 3-D operands to the batched product.
        #expect(try matmul(a, b, transposeA: ta, transposeB: tb) == out, "\(c): matmul of 3-D operands differs")
    }

    // MARK: reductions

    func reductionCase(_ op: GoldenOp) throws {
        let x = try t("x")
        let ref = try c.array("out")
        let ddof = Int(c.params["ddof"] ?? 0)
        let basic = tol.basic
        if let axis = c.axis {
            // Along an axis: with and without keepDims (same values, the axis kept with extent 1).
            var keptShape = x.shape
            keptShape[axis < 0 ? axis + x.rank : axis] = 1
            for keep in [false, true] {
                let shape = keep ? keptShape : ref.shape
                func check(_ r: Tensor<S>, rtol: Double, atol: Double) {
                    goldenCheck(r, ref.data, shape: shape, rtol: rtol, atol: atol, "axis \(axis) keepDims \(keep)", c)
                }
                switch op {
                case .sum: check(try x.sum(axis: axis, keepDims: keep), rtol: 0, atol: basic * c.scale)
                case .mean: check(try x.mean(axis: axis, keepDims: keep), rtol: 0, atol: basic * c.scale)
                case .var: check(try x.variance(axis: axis, ddof: ddof, keepDims: keep), rtol: 0, atol: basic * c.scale)
                case .std: check(try x.std(axis: axis, ddof: ddof, keepDims: keep), rtol: 0, atol: basic * c.scale)
                case .max: check(try x.max(axis: axis, keepDims: keep), rtol: 0, atol: 0)
                case .min: check(try x.min(axis: axis, keepDims: keep), rtol: 0, atol: 0)
                case .logsumexp: check(try x.logsumexp(axis: axis, keepDims: keep), rtol: 0, atol: basic * c.scale)
                case .norm: check(try x.norm(axis: axis, keepDims: keep), rtol: basic, atol: 0)
                case .argmax, .argmin:
                    guard !keep else { continue }
                    let idx = op == .argmax ? try x.argmax(axis: axis) : try x.argmin(axis: axis)
                    #expect(idx == ref.data.map { Int($0) }, "\(c) [\(S.self)]: \(idx)")
                case .softmax:
                    guard !keep else { continue }
                    let s = try x.softmax(axis: axis)
                    goldenCheck(s, ref, rtol: basic, atol: 0, "softmax", c)
                    if axis == -1 { #expect(try x.softmax() == s, "softmax() defaults to the last axis") }
                case .log_softmax:
                    guard !keep else { continue }
                    let s = try x.logSoftmax(axis: axis)
                    goldenCheck(s, ref, rtol: 0, atol: basic * c.scale, "logSoftmax", c)
                    if axis == -1 { #expect(try x.logSoftmax() == s, "logSoftmax() defaults to the last axis") }
                default: Issue.record("unhandled reduction \(op)")
                }
            }
        } else {
            let r = ref.scalar
            switch op {
            case .sum: goldenCheck(x.sum(), r, rtol: 0, atol: basic * c.scale, "sum()", c)
            case .mean: goldenCheck(x.mean(), r, rtol: 0, atol: basic * c.scale, "mean()", c)
            case .var: goldenCheck(x.variance(ddof: ddof), r, rtol: 0, atol: basic * c.scale, "variance(ddof: \(ddof))", c)
            case .std: goldenCheck(x.std(ddof: ddof), r, rtol: 0, atol: basic * c.scale, "std(ddof: \(ddof))", c)
            case .max: #expect(Double(x.max()) == r, "\(c) [\(S.self)]")
            case .min: #expect(Double(x.min()) == r, "\(c) [\(S.self)]")
            case .argmax: #expect(x.argmax() == Int(r), "\(c) [\(S.self)]")
            case .argmin: #expect(x.argmin() == Int(r), "\(c) [\(S.self)]")
            case .logsumexp: goldenCheck(x.logsumexp(), r, rtol: 0, atol: basic * c.scale, "logsumexp()", c)
            case .norm: goldenCheck(x.norm(), r, rtol: basic, atol: 0, "norm()", c)
            default: Issue.record("unhandled whole-tensor reduction \(op)")
            }
        }
    }

    // MARK: unary

    func unaryCase(_ op: GoldenOp) throws {
        let x = try t("x")
        let y: Tensor<S>
        switch op {
        case .exp: y = x.exp()
        case .log: y = x.log()
        case .log1p: y = x.log1p()
        case .expm1: y = x.expm1()
        case .tanh: y = x.tanh()
        case .sigmoid: y = x.sigmoid()
        case .silu: y = x.silu()
        case .gelu: y = x.gelu()
        case .softplus: y = x.softplus()
        case .sqrt: y = x.sqrt()
        case .rsqrt: y = x.rsqrt()
        case .square: y = x.square()
        case .abs: y = x.abs()
        case .relu: y = x.relu()
        case .sin: y = x.sin()
        case .cos: y = x.cos()
        default: Issue.record("unhandled unary \(op)"); return
        }
        let exact = op == .abs || op == .relu
        goldenCheck(y, try c.array("out"), rtol: exact ? 0 : tol.basic, atol: exact ? 0 : tol.basic * c.scale, op.rawValue, c)
    }

    // MARK: linear algebra

    func svdCase() throws {
        let a = try t("a")
        let sRef = try c.array("s")
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        let sigma1 = c.scale
        let thin = try a.svd()
        let full = try a.svd(full: true)
        // Singular values: absolute error ≲ ε·σ₁.
        goldenCheck(thin.s, sRef, rtol: 0, atol: tol.linalg * sigma1, "S (thin)", c)
        goldenCheck(full.s, sRef, rtol: 0, atol: tol.linalg * sigma1, "S (full)", c)
        goldenCheck(try a.singularValues(), sRef, rtol: 0, atol: tol.linalg * sigma1, "singularValues()", c)
        #expect(thin.u.shape == [m, k] && thin.vt.shape == [k, n], "\(c): thin shapes \(thin.u.shape) \(thin.vt.shape)")
        #expect(full.u.shape == [m, m] && full.vt.shape == [n, n], "\(c): full shapes \(full.u.shape) \(full.vt.shape)")
        // Reconstruction U·diag(S)·Vᵀ = A, normwise against σ₁.
        let rebuilt = try matmul(scaleColumns(thin.u, thin.s.scalars), thin.vt)
        goldenCheck(rebuilt, try c.array("a"), rtol: 0, atol: tol.linalg * sigma1, "U·diag(S)·Vᵀ", c)
        guard c.flag("vectors") else { return }
        // Vectors, up to one sign per singular pair: align U's columns with the reference, flip V's rows alike.
        let uRef = try c.array("u"), vtRef = try c.array("vt")
        let vecTol = tol.vectors / (try c.param("gap"))
        for (label, f) in [("thin", thin), ("full", full)] {
            let u = try f.u.slice(0..<k, axis: 1), vt = try f.vt.slice(0..<k, axis: 0)
            let signs = alignmentSigns(u, uRef)
            goldenCheck(try scaleColumns(u, signs), uRef, rtol: 0, atol: vecTol, "U (\(label), signs aligned)", c)
            // The same signs must align V: a pair flips together, or U·S·Vᵀ would change.
            goldenCheck(try scaleRows(vt, signs), vtRef, rtol: 0, atol: vecTol, "Vᵀ (\(label), U's signs)", c)
        }
    }

    func eighCase() throws {
        let a = try t("a")
        let n = a.shape[0]
        let valuesRef = try c.array("values")
        let lmax = c.scale
        let e = try a.eigh()
        goldenCheck(e.values, valuesRef, rtol: 0, atol: tol.linalg * lmax, "eigenvalues (ascending)", c)
        goldenCheck(try a.eigvalsh(), valuesRef, rtol: 0, atol: tol.linalg * lmax, "eigvalsh()", c)
        // A·V = V·Λ, normwise against max|λ|.
        let av = try matmul(a, e.vectors), vl = try scaleColumns(e.vectors, e.values.scalars)
        goldenCheck(av, vl.scalars.map { Double($0) }, shape: vl.shape, rtol: 0, atol: tol.linalg * lmax, "A·V = V·Λ", c)
        // top-k: the k largest pairs, ascending, equal to the last k of the full decomposition.
        for k in Set([1, (n + 1) / 2, n]) {
            let top = try a.eigh(top: k)
            goldenCheck(top.values, Array(valuesRef.data[(n - k)...]), shape: [k], rtol: 0, atol: tol.linalg * lmax, "eigh(top: \(k)) values", c)
            #expect(top.vectors.shape == [n, k])
            if c.flag("vectors") {
                let vRef = try c.array("vectors")
                let refCols = GoldenArray(try vRef.tensor(Double.self).slice((n - k)..<n, axis: 1))
                let signs = alignmentSigns(top.vectors, refCols)
                goldenCheck(try scaleColumns(top.vectors, signs), refCols, rtol: 0,
                            atol: tol.vectors / (try c.param("gap")), "eigh(top: \(k)) vectors", c)
            }
        }
        guard c.flag("vectors") else { return }
        let vRef = try c.array("vectors")
        let signs = alignmentSigns(e.vectors, vRef)
        goldenCheck(try scaleColumns(e.vectors, signs), vRef, rtol: 0, atol: tol.vectors / (try c.param("gap")), "eigenvectors (signs aligned)", c)
    }

    func qrCase() throws {
        let a = try t("a")
        let qRef = try c.array("q"), rRef = try c.array("r")
        let (q, r) = try a.qr()
        let k = Swift.min(a.shape[0], a.shape[1])
        #expect(q.shape == qRef.shape && r.shape == rRef.shape, "\(c): shapes \(q.shape) \(r.shape)")
        // Unique once diag(R) > 0: D = sign(diag R) for both and compare Q·D with Q_ref·D_ref (and D·R likewise).
        let rs = r.scalars, n = a.shape[1]
        let d: [S] = (0..<k).map { i in
            let mine: Double = rs[i * n + i] < 0 ? -1 : 1
            let theirs: Double = rRef.data[i * n + i] < 0 ? -1 : 1
            return S(mine * theirs)
        }
        let errTol = tol.linalg * c.cond
        goldenCheck(try scaleColumns(q, d), qRef, rtol: 0, atol: errTol, "Q (column signs of R's diagonal)", c)
        goldenCheck(try scaleRows(r, d), rRef, rtol: 0, atol: errTol * c.scale, "R (row signs of its diagonal)", c)
    }

    func lstsqCase() throws {
        let a = try t("a"), b = try t("b")
        let res = try lstsq(a, b)
        let smax = try c.param("smax")
        #expect(res.rank == (try c.intParam("rank")), "\(c) [\(S.self)]: rank \(res.rank)")
        goldenCheck(res.singularValues, try c.array("s"), rtol: 0, atol: tol.linalg * smax, "singular values", c)
        // Least-squares sensitivity grows like cond² when the residual is non-zero: allow cond² for tall problems.
        let m = a.shape[0], n = a.shape[1]
        let amplification = m > n ? c.cond * c.cond : c.cond
        goldenCheck(res.solution, try c.array("x"), rtol: 0, atol: tol.linalg * amplification * c.scale, "solution", c)
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
