// numpy broadcasting: the shape rule, element values against hand-written loops, the in-place forms, and
// the errors. Element-wise arithmetic of exact inputs is compared exactly (+, −, × of small integers and
// quarter values are exact in both precisions).

import Foundation
import Linear
import Testing
import TestSupport

/// Small distinct values (k/4 − 3): exact in Float and Double under +, −, ×.
private func values<S: BLASScalar>(_ shape: [Int], offset: Int = 0, _: S.Type = S.self) -> Tensor<S> {
    try! Tensor<S>((0..<shape.reduce(1, *)).map { S(Double($0 + offset) / 4 - 3) }, shape: shape)
}

/// Reference broadcasting written independently of `Broadcast`: pad shapes on the left with 1s, check each
/// axis, and index every operand with index 0 on its stretched axes.
private func naiveBroadcast<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ f: (S, S) -> S) -> (shape: [Int], values: [S])? {
    let r = Swift.max(a.rank, b.rank)
    let pa = [Int](repeating: 1, count: r - a.rank) + a.shape
    let pb = [Int](repeating: 1, count: r - b.rank) + b.shape
    var out: [Int] = []
    for i in 0..<r {
        if pa[i] == pb[i] { out.append(pa[i]) } else if pa[i] == 1 { out.append(pb[i]) } else if pb[i] == 1 { out.append(pa[i]) } else { return nil }
    }
    let av = a.scalars, bv = b.scalars
    func flat(_ idx: [Int], _ shape: [Int]) -> Int {
        var f = 0
        for (i, d) in zip(idx, shape) { f = f * d + (d == 1 ? 0 : i) }
        return f
    }
    let vals = allIndices(out).map { idx in f(av[flat(idx, pa)], bv[flat(idx, pb)]) }
    return (out, vals)
}

/// Pairs of shapes that broadcast (numpy agrees with every one of these).
private let compatiblePairs: [([Int], [Int])] = [
    ([3, 1], [1, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([], [2, 3]), ([2, 3], []), ([1], [2, 3]),
    ([5], [1]), ([2, 3], [2, 3]), ([1, 1], [1]), ([4, 1, 3], [1, 5, 1]), ([2, 1, 3, 1, 4], [1, 5, 1, 1, 4]),
    ([3, 1, 1], [3, 2, 2]), ([0, 3], [1, 3]), ([2, 0], [2, 1]), ([1, 2, 1, 3], [4, 1, 5, 1]), ([6, 1], [6, 7]),
]

struct ShapePair: Sendable, CustomTestStringConvertible {
    let a: [Int], b: [Int]
    var testDescription: String { "\(a) ⊕ \(b)" }
}

@Suite("Broadcasting")
struct BroadcastTests {
    @Test("Broadcast.shape follows numpy and names both shapes when they do not fit")
    func shapeRule() throws {
        #expect(try Broadcast.shape([3, 1], [1, 4], "op") == [3, 4])
        #expect(try Broadcast.shape([2, 3, 4], [4], "op") == [2, 3, 4])
        #expect(try Broadcast.shape([2, 1, 4], [3, 1], "op") == [2, 3, 4])
        #expect(try Broadcast.shape([], [], "op") == [])
        #expect(try Broadcast.shape([], [5], "op") == [5])
        #expect(try Broadcast.shape([0], [1], "op") == [0])
        #expect(try Broadcast.shape([1], [0], "op") == [0])
        #expect(try Broadcast.shape([8, 1, 6, 1], [7, 1, 5], "op") == [8, 7, 6, 5])
        #expect(throws: TensorError.shapeMismatch(operation: "add", lhs: [2, 3], rhs: [3, 2])) { try Broadcast.shape([2, 3], [3, 2], "add") }
        #expect(throws: TensorError.self) { try Broadcast.shape([3], [4], "op") }
        #expect(throws: TensorError.self) { try Broadcast.shape([0], [2], "op") }
        #expect(Broadcast.strides([3, 1], to: [2, 3, 4]) == [0, 1, 0])
        #expect(Broadcast.strides([2, 3], to: [2, 3]) == [3, 1])
        #expect(Broadcast.strides([], to: [2]) == [0])
    }

    @Test("[3,1] + [1,4] against a hand loop")
    func columnPlusRow() throws {
        let a = try Tensor<Double>([1, 2, 3], shape: [3, 1]), b = try Tensor<Double>([10, 20, 30, 40], shape: [1, 4])
        let c = try a + b
        #expect(c.shape == [3, 4])
        for i in 0..<3 { for j in 0..<4 { #expect(c[i, j] == a[i, 0] + b[0, j]) } }
        #expect(try b + a == c, "addition commutes under broadcasting")
    }

    @Test("[2,3,4] + [4] against a hand loop")
    func trailingVector() throws {
        let a = values([2, 3, 4], Float.self), b = try Tensor<Float>([100, 200, 300, 400], shape: [4])
        let c = try a + b, d = try b - a
        #expect(c.shape == [2, 3, 4] && d.shape == [2, 3, 4])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(c[i, j, k] == a[i, j, k] + b[k])
            #expect(d[i, j, k] == b[k] - a[i, j, k])
        } } }
    }

    @Test("[2,1,4] * [3,1] against a hand loop")
    func middleStretch() throws {
        let a = values([2, 1, 4], Double.self), b = try Tensor<Double>([2, -1, 0.5], shape: [3, 1])
        let c = try a * b
        #expect(c.shape == [2, 3, 4])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(c[i, j, k] == a[i, 0, k] * b[j, 0]) } } }
        let q = try a / b
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(q[i, j, k] == a[i, 0, k] / b[j, 0]) } } }
    }

    @Test("rank-0 and one-element operands broadcast against anything")
    func scalars() throws {
        let s = Tensor<Double>(scalar: 2), m = values([2, 3], Double.self)
        #expect(try (s * m).scalars == m.scalars.map { 2 * $0 })
        #expect(try (m - s).scalars == m.scalars.map { $0 - 2 })
        #expect(try (s - m).scalars == m.scalars.map { 2 - $0 })
        #expect(try (s / m).shape == [2, 3])
        #expect(try (s + s).shape == [] && (try (s + s).scalar) == 4)
        let one = Tensor<Double>([3])
        #expect(try (one + s).shape == [1])
        #expect(try (one * m).scalars == m.scalars.map { 3 * $0 })
        let oneOne = try Tensor<Double>([5], shape: [1, 1])
        #expect(try (oneOne + Tensor<Double>([1, 2, 3])).shape == [1, 3])
        #expect(try (Tensor<Double>([1, 2, 3]) + oneOne).scalars == [6, 7, 8])
        #expect(try (one + Tensor<Double>(scalar: 1)).scalars == [4])
        // Scalar operators and tensor-scalar broadcasting agree.
        #expect(try (m + s) == m + 2 && (try m * s) == m * 2)
    }

    @Test("every operator matches the reference broadcast", arguments: compatiblePairs.map { ShapePair(a: $0.0, b: $0.1) }, Precision.allCases)
    func allOperators(_ pair: ShapePair, _ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let a = values(pair.a, S.self), b = values(pair.b, offset: 5, S.self) + S(0.125)
            let ops: [(String, (Tensor<S>, Tensor<S>) throws -> Tensor<S>, (S, S) -> S)] = [
                ("+", { try $0 + $1 }, { $0 + $1 }),
                ("-", { try $0 - $1 }, { $0 - $1 }),
                ("*", { try $0 * $1 }, { $0 * $1 }),
                ("/", { try $0 / $1 }, { $0 / $1 }),
                ("maximum", { try $0.maximum($1) }, { Swift.max($0, $1) }),
                ("minimum", { try $0.minimum($1) }, { Swift.min($0, $1) }),
                ("less", { try $0.isLess(than: $1) }, { $0 < $1 ? 1 : 0 }),
                ("pow", { try $0.abs().pow($1) }, { S.pow(Swift.abs($0), $1) }),
            ]
            for (name, op, f) in ops {
                let got = try op(a, b)
                let aa = name == "pow" ? a.abs() : a
                let ref = try #require(naiveBroadcast(aa, b, f))
                #expect(got.shape == ref.shape, "\(name): shape \(got.shape), expected \(ref.shape)")
                #expect(got.scalars == ref.values, "\(name) of \(pair.a) and \(pair.b)")
            }
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }
    }

    @Test("incompatible shapes throw shapeMismatch naming both shapes", arguments: [
        ShapePair(a: [2, 3], b: [3, 2]), ShapePair(a: [3], b: [4]), ShapePair(a: [2, 3, 4], b: [3, 3]),
        ShapePair(a: [0], b: [2]), ShapePair(a: [5, 1], b: [4, 2]),
    ])
    func mismatches(_ pair: ShapePair) throws {
        let a = Tensor<Float>.zeros(pair.a), b = Tensor<Float>.ones(pair.b)
        let ops: [(String, () throws -> Tensor<Float>)] = [
            ("add", { try a + b }), ("subtract", { try a - b }), ("multiply", { try a * b }), ("divide", { try a / b }),
            ("maximum", { try a.maximum(b) }), ("pow", { try a.pow(b) }), ("equal", { try a.isEqual(to: b) }),
        ]
        for (name, op) in ops {
            #expect(throws: TensorError.shapeMismatch(operation: name, lhs: pair.a, rhs: pair.b)) { try op() }
            do { _ = try op() } catch let e as TensorError {
                #expect(e.description.contains("\(pair.a)") && e.description.contains("\(pair.b)"), "\(e.description)")
                #expect(e.description.hasPrefix(name))
            }
        }
        #expect(throws: TensorError.self) { try a.broadcast(to: pair.b) }
    }

    @Test("in-place operators broadcast the right operand and keep the left shape")
    func inPlace() throws {
        var a = values([2, 3], Double.self)
        let original = a
        let row = try Tensor<Double>([1, 2, 3], shape: [3]), col = try Tensor<Double>([10, 20], shape: [2, 1])
        try a += row
        for i in 0..<2 { for j in 0..<3 { #expect(a[i, j] == original[i, j] + row[j]) } }
        try a -= col
        for i in 0..<2 { for j in 0..<3 { #expect(a[i, j] == original[i, j] + row[j] - col[i, 0]) } }
        var m = values([2, 3], Double.self)
        try m *= col
        try m /= Tensor<Double>(scalar: 2)
        for i in 0..<2 { for j in 0..<3 { #expect(m[i, j] == original[i, j] * col[i, 0] / 2) } }
        var same = values([2, 3], Double.self)
        try same += values([2, 3], Double.self)
        #expect(same == values([2, 3], Double.self) * 2)
        // A right operand that would grow the result is rejected, naming both shapes, and leaves `a` unchanged.
        var v = row
        #expect(throws: TensorError.self) { try v += original }
        do { try v += original } catch let e as TensorError {
            #expect(e.description.contains("[3]") && e.description.contains("[2, 3]"))
        }
        #expect(v == row)
        #expect(throws: TensorError.self) { try v *= Tensor<Double>.ones([4]) }
        // Scalar in-place forms.
        var s = values([4], Float.self)
        s += 1; s -= 0.5; s *= 4; s /= 2
        #expect(s.scalars == values([4], Float.self).scalars.map { ($0 + 0.5) * 2 })
    }

    @Test("large operands (parallel element-wise path) match the serial reference")
    func large() throws {
        let n = 400
        let a = Tensor<Float>.normal([n, n], seed: 5), row = Tensor<Float>.normal([n], seed: 6)
        let c = try a * row
        let av = a.scalars, rv = row.scalars, cv = c.scalars
        var bad = 0
        for i in 0..<n { for j in 0..<n where cv[i * n + j] != av[i * n + j] * rv[j] { bad += 1 } }
        #expect(bad == 0)
        let d = try a + a
        #expect(d.scalars == av.map { $0 + $0 })
        let e = a * 3
        #expect(e.scalars == av.map { $0 * 3 })
        let t = a.tanh(), x = a.exp()
        #expect(t.shape == [n, n] && x.shape == [n, n])
        #expect(zip(t.scalars, av).allSatisfy { Swift.abs($0 - Foundation.tanhf($1)) <= 2e-7 })
        var f = a
        try f += row
        #expect(f.scalars == (try a + row).scalars)
    }

    @Test("where broadcasts mask, values and fallback")
    func whereBroadcast() throws {
        let mask = try Tensor<Double>([1, 0], shape: [2, 1]), a = try Tensor<Double>([1, 2, 3], shape: [1, 3])
        let b = try Tensor<Double>([-1, -2, -3, -4, -5, -6], shape: [2, 3])
        let w = try Tensor.where(mask, a, b)
        #expect(w.shape == [2, 3] && w.scalars == [1, 2, 3, -4, -5, -6])
        #expect(throws: TensorError.self) { try Tensor.where(mask, a, Tensor<Double>.zeros([3, 3])) }
    }
}
