// Tensor basics: construction, copy-on-write, element access, shape operations (reshape, permute, transpose,
// slice, gather, concatenate, stack, broadcast, squeeze), reductions along every axis against naive loops,
// finiteness checks and error messages.
//
// Shape operations must be exact (they only move values). Reductions are compared with naive Double loops at
// rtol 1e-5 (Float) / 1e-12 (Double) plus the same times the line's Σ|x| for the sums.

import Foundation
import Linear
import Testing
import TestSupport

/// 0, 1, 2, … as a tensor of the given shape (every element distinct, so misplaced values are caught).
private func iota<S: BLASScalar>(_ shape: [Int], _: S.Type = S.self) -> Tensor<S> {
    try! Tensor<S>((0..<shape.reduce(1, *)).map { S($0) }, shape: shape)
}

/// The element of a row-major `shape` at multi-index `idx`, from flat `values`.
private func element<T>(_ values: [T], _ shape: [Int], _ idx: [Int]) -> T {
    var flat = 0
    for (i, d) in zip(idx, shape) { flat = flat * d + i }
    return values[flat]
}

/// Naive reduction of `x` along `axis`: for every output position, `f` of the line of values (in Double).
private func naiveReduce<S: BLASScalar>(_ x: Tensor<S>, axis: Int, _ f: ([Double]) -> Double) -> (shape: [Int], values: [Double]) {
    var outShape = x.shape
    outShape.remove(at: axis)
    let v = x.scalars.map { Double($0) }
    let out = allIndices(outShape).map { o -> Double in
        let line = (0..<x.shape[axis]).map { j -> Double in
            var idx = o
            idx.insert(j, at: axis)
            return element(v, x.shape, idx)
        }
        return f(line)
    }
    return (outShape, out)
}

private func naiveVariance(_ l: [Double], ddof: Int) -> Double {
    let m = l.reduce(0, +) / Double(l.count)
    return l.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(l.count - ddof)
}

private func naiveLogSumExp(_ l: [Double]) -> Double {
    let m = l.max()!
    return m + Foundation.log(l.map { Foundation.exp($0 - m) }.reduce(0, +))
}

@Suite("Tensor")
struct TensorTests {
    // MARK: Construction

    @Test("construction from scalars, rows, repeating values; invalid shapes throw")
    func construction() throws {
        let t = try Tensor<Double>([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(t.shape == [2, 3] && t.rank == 2 && t.count == 6 && t.strides == [3, 1])
        #expect(t[1, 2] == 6 && t[0, 1] == 2 && t[-1, -1] == 6 && t[index: [1, 0]] == 4)
        #expect(try Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6]]) == t)
        #expect(Tensor<Float>([1, 2]).shape == [2])
        let s = Tensor<Double>(scalar: 4)
        #expect(s.shape == [] && s.rank == 0 && s.count == 1 && s.scalar == 4)
        #expect(Tensor<Double>([]).shape == [0] && Tensor<Double>([]).count == 0)
        #expect(try Tensor<Double>([], shape: [2, 0, 3]).count == 0)
        #expect(Tensor<Float>.full([2, 2], 7).scalars == [7, 7, 7, 7])
        #expect(Tensor<Float>.zeros([3]).scalars == [0, 0, 0] && Tensor<Float>.ones([2]).scalars == [1, 1])
        #expect(Tensor<Double>.zeros(like: t).shape == [2, 3])
        #expect(Tensor<Double>.eye(2).scalars == [1, 0, 0, 1])
        #expect(Tensor<Double>.eye(2, columns: 3).scalars == [1, 0, 0, 0, 1, 0])
        #expect(Tensor<Double>.eye(3, columns: 2).scalars == [1, 0, 0, 1, 0, 0])

        #expect(throws: TensorError.self) { try Tensor<Double>([1, 2, 3], shape: [2, 2]) }
        #expect(throws: TensorError.self) { try Tensor<Double>([], shape: [-1]) }
        #expect { try Tensor<Double>(rows: [[1, 2], [3]]) } throws: {
            ($0 as? TensorError)?.description.contains("row 1 has 1 elements") == true
        }
    }

    @Test("arange and linspace")
    func ranges() throws {
        #expect(Tensor<Double>.arange(4).scalars == [0, 1, 2, 3])
        #expect(try Tensor<Double>.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(try Tensor<Double>.arange(5, 1, step: -2).scalars == [5, 3])
        #expect(try Tensor<Double>.arange(3, 1).count == 0)
        #expect(throws: TensorError.self) { try Tensor<Double>.arange(0, 1, step: 0) }
        #expect(try Tensor<Double>.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(try Tensor<Float>.linspace(2, 3, count: 1).scalars == [2])
        #expect(try Tensor<Float>.linspace(0, 1, count: 0).count == 0)
        let l = try Tensor<Float>.linspace(-1, 0.3, count: 14)
        #expect(l[13] == 0.3, "the end point is exact")
        #expect(throws: TensorError.self) { try Tensor<Double>.linspace(0, 1, count: -1) }
    }

    @Test("cast between Float and Double")
    func cast() throws {
        let d = try Tensor<Double>([0.1, -2.5, 1e10], shape: [3])
        let f: Tensor<Float> = d.cast()
        #expect(f.scalars == [Float(0.1), -2.5, 1e10])
        #expect(f.cast(to: Double.self).scalars == [Double(Float(0.1)), -2.5, 1e10])
        #expect(d.cast(to: Double.self) == d)
    }

    @Test("equality compares shape and every element; NaN is never equal")
    func equality() throws {
        let a = try Tensor<Double>([1, 2, 3, 4], shape: [2, 2])
        #expect(a == (try Tensor<Double>([1, 2, 3, 4], shape: [2, 2])))
        #expect(a != (try Tensor<Double>([1, 2, 3, 4], shape: [4])))
        #expect(a != (try Tensor<Double>([1, 2, 3, 5], shape: [2, 2])))
        let n = Tensor<Double>([1, .nan])
        let m = n
        #expect(n != m, "a NaN-holding tensor is not equal to itself, even sharing storage")
    }

    // MARK: Copy-on-write

    @Test("copies share storage until written; writing a copy leaves the original intact")
    func copyOnWrite() throws {
        let a = iota([3, 4], Double.self)
        var b = a
        #expect(b.sharesStorage(with: a))
        b[1, 1] = -1
        #expect(!b.sharesStorage(with: a))
        #expect(a[1, 1] == 5 && b[1, 1] == -1)
        #expect(a == iota([3, 4], Double.self))

        var c = a
        try c += Tensor<Double>.ones([4])
        #expect(a == iota([3, 4], Double.self) && c[0, 0] == 1)
        var d = a
        d *= 2
        #expect(a[2, 3] == 11 && d[2, 3] == 22)
        var e = a
        e.mapInPlace { $0 * 0 }
        #expect(a[2, 3] == 11 && e.max() == 0)
        var f = a
        f.withUnsafeMutableBufferPointer { $0[0] = 100 }
        #expect(a[0, 0] == 0 && f[0, 0] == 100)
        var g = a
        try g.addScaled(a, 2)
        #expect(a[1, 0] == 4 && g[1, 0] == 12)
        #expect(throws: TensorError.self) { try g.addScaled(Tensor<Double>.ones([4]), 1) }

        // A uniquely owned tensor is written in place (no copy).
        var u = iota([5], Float.self)
        let before = u.withUnsafeBufferPointer { $0.baseAddress }
        u[2] = 9
        #expect(u.withUnsafeBufferPointer { $0.baseAddress } == before)

        // Views made by reshaping share storage too, and are just as safe to write.
        var r = try a.reshaped([12])
        #expect(r.sharesStorage(with: a))
        r[0] = 42
        #expect(a[0, 0] == 0 && r[0] == 42)
        #expect(try a.squeezed().sharesStorage(with: a) && (try a.unsqueezed(axis: 0).sharesStorage(with: a)))
        #expect(a.flattened().sharesStorage(with: a))
    }

    // MARK: Shape operations

    @Test("reshaped infers one −1 extent and rejects impossible shapes")
    func reshape() throws {
        let a = iota([2, 3, 4], Float.self)
        #expect(try a.reshaped([6, -1]).shape == [6, 4])
        #expect(try a.reshaped([-1]).shape == [24])
        #expect(try a.reshaped([2, -1, 3]).shape == [2, 4, 3])
        #expect(try a.reshaped([4, 6]).scalars == a.scalars)
        #expect(try Tensor<Float>(scalar: 1).reshaped([1, 1, -1]).shape == [1, 1, 1])
        #expect(throws: TensorError.self) { try a.reshaped([-1, -1]) }
        #expect(throws: TensorError.self) { try a.reshaped([5, -1]) }
        #expect(throws: TensorError.self) { try a.reshaped([5, 5]) }
        #expect(throws: TensorError.self) { try a.reshaped([-2, 12]) }
        #expect { try a.reshaped([7, 3]) } throws: { e in
            guard let e = e as? TensorError else { return false }
            return e.description.contains("[2, 3, 4]") && e.description.contains("[7, 3]")
        }
    }

    @Test("squeezed and unsqueezed")
    func squeeze() throws {
        let a = iota([1, 3, 1, 2], Double.self)
        #expect(try a.squeezed().shape == [3, 2])
        #expect(try a.squeezed(axis: 0).shape == [3, 1, 2])
        #expect(try a.squeezed(axis: -2).shape == [1, 3, 2])
        #expect(throws: TensorError.self) { try a.squeezed(axis: 1) }
        #expect(throws: TensorError.self) { try a.squeezed(axis: 4) }
        let v = iota([3], Double.self)
        #expect(try v.unsqueezed(axis: 0).shape == [1, 3])
        #expect(try v.unsqueezed(axis: 1).shape == [3, 1])
        #expect(try v.unsqueezed(axis: -1).shape == [3, 1])
        #expect(throws: TensorError.self) { try v.unsqueezed(axis: 3) }
        #expect(try v.unsqueezed(axis: 1).scalars == v.scalars)
        #expect(try Tensor<Double>(scalar: 2).unsqueezed(axis: 0).shape == [1])
    }

    @Test("transposed matches index swapping, across 32×32 tile boundaries", arguments: [[1, 1], [2, 3], [33, 70], [64, 1], [0, 5]])
    func transpose(_ shape: [Int]) throws {
        let a = iota(shape, Double.self)
        let t = try a.transposed()
        #expect(t.shape == [shape[1], shape[0]])
        for idx in allIndices(shape) { #expect(t[idx[1], idx[0]] == a[idx[0], idx[1]]) }
        #expect(try t.transposed() == a)
        #expect(try a.permuted([1, 0]) == t)
    }

    @Test("permuted matches numpy's transpose(axes) for every permutation of 3 axes", arguments: [
        [0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [-1, 0, 1],
    ])
    func permute(_ axes: [Int]) throws {
        let shape = [2, 3, 5]
        let a = iota(shape, Float.self)
        let p = try a.permuted(axes)
        let ax = axes.map { $0 < 0 ? $0 + 3 : $0 }
        #expect(p.shape == ax.map { shape[$0] })
        for out in allIndices(p.shape) {
            var src = [0, 0, 0]
            for (i, a) in ax.enumerated() { src[a] = out[i] }
            #expect(p[index: out] == a[index: src], "at \(out)")
        }
    }

    @Test("permuted on rank 4 (batched transpose path and general path) and invalid axes")
    func permuteRank4() throws {
        let a = iota([2, 3, 4, 5], Double.self)
        for axes in [[0, 1, 3, 2], [3, 2, 1, 0], [1, 0, 3, 2], [0, 3, 1, 2]] {
            let p = try a.permuted(axes)
            for out in allIndices(p.shape) {
                var src = [0, 0, 0, 0]
                for (i, ax) in axes.enumerated() { src[ax] = out[i] }
                #expect(p[index: out] == a[index: src])
            }
        }
        #expect(throws: TensorError.self) { try a.permuted([0, 1, 2]) }
        #expect(throws: TensorError.self) { try a.permuted([0, 1, 1, 2]) }
        #expect(throws: TensorError.self) { try a.permuted([0, 1, 2, 4]) }
        #expect(throws: TensorError.self) { try a.transposed() }
    }

    @Test("slice along each axis, row, and bounds", arguments: [0, 1, 2, -1])
    func slice(_ axis: Int) throws {
        let shape = [3, 4, 5]
        let a = iota(shape, Double.self)
        let ax = axis < 0 ? axis + 3 : axis
        let range = 1..<(shape[ax] - 1)
        let s = try a.slice(range, axis: axis)
        var expectedShape = shape
        expectedShape[ax] = range.count
        #expect(s.shape == expectedShape)
        for idx in allIndices(s.shape) {
            var src = idx
            src[ax] += range.lowerBound
            #expect(s[index: idx] == a[index: src])
        }
        #expect(try a.slice(0..<0, axis: axis).count == 0)
        #expect(try a.slice(0..<shape[ax], axis: axis) == a)
        #expect(throws: TensorError.self) { try a.slice(0..<(shape[ax] + 1), axis: axis) }
        #expect(throws: TensorError.self) { try a.slice(0..<1, axis: 3) }
    }

    @Test("row and gather(rows:) with repeats and negative indices")
    func gatherRows() throws {
        let a = iota([4, 3], Float.self)
        #expect(try a.row(2).scalars == [6, 7, 8] && (try a.row(2).shape) == [3])
        #expect(try a.row(-1).scalars == [9, 10, 11])
        #expect(throws: TensorError.self) { try a.row(4) }
        #expect(throws: TensorError.self) { try Tensor<Float>(scalar: 1).row(0) }
        let g = try a.gather(rows: [3, 0, 0, -3])
        #expect(g.shape == [4, 3])
        #expect(g.scalars == [9, 10, 11, 0, 1, 2, 0, 1, 2, 3, 4, 5])
        #expect(try a.gather(rows: []).shape == [0, 3])
        let b = iota([3, 2, 2], Float.self)
        #expect(try b.gather(rows: [2, 1]).scalars == [8, 9, 10, 11, 4, 5, 6, 7])
        #expect(throws: TensorError.self) { try a.gather(rows: [4]) }
        #expect(throws: TensorError.self) { try a.gather(rows: [-5]) }
    }

    @Test("concatenate along each axis matches index arithmetic", arguments: [0, 1, 2, -1, -3])
    func concatenate(_ axis: Int) throws {
        let ax = axis < 0 ? axis + 3 : axis
        var s1 = [2, 3, 4], s2 = [2, 3, 4], s3 = [2, 3, 4]
        s1[ax] = 1; s2[ax] = 2; s3[ax] = 3
        let parts = [iota(s1, Double.self), iota(s2, Double.self) + 100, iota(s3, Double.self) + 1000]
        let c = try Tensor.concatenate(parts, axis: axis)
        var expectedShape = s1
        expectedShape[ax] = 6
        #expect(c.shape == expectedShape)
        for idx in allIndices(c.shape) {
            var i = idx
            var part = 0
            while i[ax] >= parts[part].shape[ax] { i[ax] -= parts[part].shape[ax]; part += 1 }
            #expect(c[index: idx] == parts[part][index: i], "at \(idx)")
        }
        // Mismatched other extents: error names both shapes.
        var bad = [2, 3, 4]
        bad[(ax + 1) % 3] += 1
        #expect { try Tensor.concatenate([parts[0], Tensor<Double>.zeros(bad)], axis: axis) } throws: { e in
            guard let e = e as? TensorError, case .shapeMismatch = e else { return false }
            return e.description.contains("\(s1)") && e.description.contains("\(bad)")
        }
    }

    @Test("concatenate and stack errors")
    func concatenateErrors() throws {
        #expect(throws: TensorError.self) { try Tensor<Double>.concatenate([]) }
        #expect(throws: TensorError.self) { try Tensor<Double>.stack([]) }
        #expect(throws: TensorError.self) { try Tensor.concatenate([Tensor<Double>.zeros([2, 2]), Tensor<Double>.zeros([2])]) }
        #expect(throws: TensorError.shapeMismatch(operation: "stack", lhs: [2, 2], rhs: [2, 3])) {
            try Tensor.stack([Tensor<Double>.zeros([2, 2]), Tensor<Double>.zeros([2, 3])])
        }
        #expect(throws: TensorError.self) { try Tensor.concatenate([Tensor<Double>.zeros([2])], axis: 1) }
        // One tensor: a copy of it.
        let one = iota([2, 3], Double.self)
        #expect(try Tensor.concatenate([one], axis: 1) == one)
    }

    @Test("stack along each axis, including the new last axis", arguments: [0, 1, 2, -1])
    func stack(_ axis: Int) throws {
        let parts = (0..<4).map { iota([2, 3], Float.self) + Float(100 * $0) }
        let s = try Tensor.stack(parts, axis: axis)
        let ax = axis < 0 ? axis + 3 : axis
        var expectedShape = [2, 3]
        expectedShape.insert(4, at: ax)
        #expect(s.shape == expectedShape)
        for idx in allIndices(s.shape) {
            var i = idx
            let k = i.remove(at: ax)
            #expect(s[index: idx] == parts[k][index: i])
        }
    }

    @Test("broadcast(to:) materialises numpy broadcasting")
    func broadcastTo() throws {
        let a = iota([3, 1], Double.self)
        let b = try a.broadcast(to: [2, 3, 4])
        #expect(b.shape == [2, 3, 4])
        for idx in allIndices(b.shape) { #expect(b[index: idx] == a[idx[1], 0]) }
        let s = try Tensor<Double>(scalar: 5).broadcast(to: [2, 2])
        #expect(s.scalars == [5, 5, 5, 5])
        #expect(try a.broadcast(to: [3, 1]).sharesStorage(with: a), "same shape: no copy")
        #expect(try a.broadcast(to: [3, 0]).shape == [3, 0])
        #expect(throws: TensorError.self) { try a.broadcast(to: [2, 4]) }
        #expect(throws: TensorError.self) { try a.broadcast(to: [3]) }
        #expect(throws: TensorError.self) { try iota([3, 4], Double.self).broadcast(to: [3, 1]) }
    }

    // MARK: Reductions

    @Test("reductions along every axis agree with naive loops", arguments: [[3, 4, 5], [2, 1, 3], [7], [1, 1]], Precision.allCases)
    func reductionsAlongAxes(_ shape: [Int], _ p: Precision) throws {
        switch p {
        case .float: try reductions(shape, Float.self)
        case .double: try reductions(shape, Double.self)
        }
    }

    private func reductions<S: BLASScalar>(_ shape: [Int], _: S.Type) throws {
        let x: Tensor<S> = randomTensor(shape, seed: UInt64(shape.reduce(7, *))) * 3 + 1
        let r = tolerance(S.self, float: 1e-5, double: 1e-12)
        let scale = Double(x.maxAbs())
        for axis in Array(0..<shape.count) + [-1] {
            let ax = axis < 0 ? axis + shape.count : axis
            let n = shape[ax]
            /// Checks `op(keepDims)` against the naive loop `f`, and that keepDims only changes the shape.
            func check(_ op: (Bool) throws -> Tensor<S>, _ f: ([Double]) -> Double, atol: Double, _ what: String) throws {
                let (s, v) = naiveReduce(x, axis: ax, f)
                let t = try op(false), kept = try op(true)
                assertClose(t, v, shape: s, rtol: r, atol: atol, "\(what) axis \(axis)")
                var keptShape = shape
                keptShape[ax] = 1
                #expect(kept.shape == keptShape && kept.scalars == t.scalars, "\(what) axis \(axis) keepDims")
            }
            try check({ try x.sum(axis: axis, keepDims: $0) }, { $0.reduce(0, +) }, atol: r * scale * Double(n), "sum")
            try check({ try x.mean(axis: axis, keepDims: $0) }, { $0.reduce(0, +) / Double($0.count) }, atol: r * scale, "mean")
            for ddof in [0, 1] where n > ddof {
                try check({ try x.variance(axis: axis, ddof: ddof, keepDims: $0) }, { naiveVariance($0, ddof: ddof) },
                          atol: r * scale * scale, "variance ddof \(ddof)")
                try check({ try x.std(axis: axis, ddof: ddof, keepDims: $0) }, { naiveVariance($0, ddof: ddof).squareRoot() },
                          atol: r * scale, "std ddof \(ddof)")
            }
            try check({ try x.max(axis: axis, keepDims: $0) }, { $0.max()! }, atol: 0, "max")
            try check({ try x.min(axis: axis, keepDims: $0) }, { $0.min()! }, atol: 0, "min")
            try check({ try x.logsumexp(axis: axis, keepDims: $0) }, naiveLogSumExp, atol: r * scale, "logsumexp")
            try check({ try x.norm(axis: axis, keepDims: $0) }, { $0.map { $0 * $0 }.reduce(0, +).squareRoot() }, atol: 0, "norm")
            let (_, am) = naiveReduce(x, axis: ax) { l in Double(l.firstIndex(of: l.max()!)!) }
            #expect(try x.argmax(axis: axis) == am.map { Int($0) })
            let (_, an) = naiveReduce(x, axis: ax) { l in Double(l.firstIndex(of: l.min()!)!) }
            #expect(try x.argmin(axis: axis) == an.map { Int($0) })

            // softmax / logSoftmax: every line, element by element.
            let sm = try x.softmax(axis: axis), lsm = try x.logSoftmax(axis: axis)
            #expect(sm.shape == shape && lsm.shape == shape)
            let v = x.scalars.map { Double($0) }
            for idx in allIndices(shape) {
                var line: [Double] = []
                for j in 0..<n { var i = idx; i[ax] = j; line.append(element(v, shape, i)) }
                let lse = naiveLogSumExp(line)
                let xi = element(v, shape, idx)
                assertClose(Double(sm[index: idx]), Foundation.exp(xi - lse), rtol: 10 * r, atol: 0, "softmax at \(idx)")
                assertClose(Double(lsm[index: idx]), xi - lse, rtol: r, atol: r * scale, "logSoftmax at \(idx)")
            }
            // Lines of softmax sum to 1.
            assertClose(try sm.sum(axis: axis), [Double](repeating: 1, count: x.count / n), shape: naiveReduce(x, axis: ax, { _ in 0 }).shape,
                        rtol: 10 * r, atol: 0, "softmax sums")
        }
        // Whole-tensor reductions.
        let v = x.scalars.map { Double($0) }
        assertClose(Double(x.sum()), v.reduce(0, +), rtol: r, atol: r * scale * Double(v.count))
        assertClose(Double(x.mean()), v.reduce(0, +) / Double(v.count), rtol: r, atol: r * scale)
        assertClose(Double(x.variance()), naiveVariance(v, ddof: 0), rtol: r, atol: r * scale * scale)
        if v.count > 1 { assertClose(Double(x.std(ddof: 1)), naiveVariance(v, ddof: 1).squareRoot(), rtol: r, atol: r * scale) }
        #expect(Double(x.max()) == v.max()! && Double(x.min()) == v.min()!)
        #expect(x.argmax() == v.firstIndex(of: v.max()!)! && x.argmin() == v.firstIndex(of: v.min()!)!)
        assertClose(Double(x.logsumexp()), naiveLogSumExp(v), rtol: r, atol: r * scale)
        assertClose(Double(x.norm()), v.map { $0 * $0 }.reduce(0, +).squareRoot(), rtol: r)
        assertClose(Double(x.maxAbs()), v.map(Swift.abs).max()!, rtol: 0)
        assertClose(Double(x.l1Norm()), v.map(Swift.abs).reduce(0, +), rtol: r)
    }

    @Test("reductions: invalid axes throw, empty axes, NaN propagation, ties pick the first, ±∞ in logsumexp")
    func reductionEdgeCases() throws {
        let x = iota([2, 3], Double.self)
        for axis in [2, -3] {
            #expect(throws: TensorError.self) { try x.sum(axis: axis) }
            #expect(throws: TensorError.self) { try x.max(axis: axis) }
            #expect(throws: TensorError.self) { try x.argmax(axis: axis) }
            #expect(throws: TensorError.self) { try x.softmax(axis: axis) }
            #expect(throws: TensorError.self) { try x.variance(axis: axis) }
        }
        let empty = Tensor<Double>.zeros([2, 0])
        #expect(try empty.sum(axis: 1).scalars == [0, 0], "sum over an empty axis is 0")
        #expect(try empty.sum(axis: 0).shape == [0])
        #expect(throws: TensorError.self) { try empty.max(axis: 1) }
        #expect(throws: TensorError.self) { try empty.argmin(axis: 1) }

        let n = try Tensor<Double>([1, .nan, 3, 0, 5, -1], shape: [2, 3])
        #expect(n.max().isNaN && n.min().isNaN)
        let mx = try n.max(axis: 1), mn = try n.min(axis: 0)
        #expect(mx[0].isNaN && mx[1] == 5)
        #expect(mn[0] == 0 && mn[1].isNaN && mn[2] == -1)
        let nan0 = Tensor<Float>([.nan, 1, 2])
        #expect(nan0.max().isNaN && nan0.min().isNaN, "NaN in the first position propagates too")

        let ties = try Tensor<Float>([2, 5, 5, 1, 1, 0], shape: [2, 3])
        #expect(try ties.argmax(axis: 1) == [1, 0] && ties.argmax() == 1)
        #expect(try ties.argmin(axis: 1) == [0, 2] && ties.argmin() == 5)

        let inf = Tensor<Double>([-.infinity, -.infinity])
        #expect(inf.logsumexp() == -.infinity)
        #expect(Tensor<Double>([1, .infinity]).logsumexp() == .infinity)
        // Large values do not overflow.
        let big = Tensor<Float>([1000, 1000])
        assertClose(Double(big.logsumexp()), 1000 + Foundation.log(2.0), rtol: 1e-6)
        #expect(try big.softmax().scalars == [0.5, 0.5])
        // min() of a fresh temporary (regression: it once read the storage of a freed temporary).
        for _ in 0..<50 {
            #expect((iota([64], Double.self) + 3).min() == 3)
        }
    }

    // MARK: Element-wise helpers

    @Test("element-wise helpers: clamp, pow, sign, where, comparisons, maximum/minimum")
    func elementwise() throws {
        let x = try Tensor<Double>([-2, -0.5, 0, 0.5, 2, .nan], shape: [6])
        let c = x.clamp(min: -1, max: 1).scalars
        #expect(Array(c[0..<5]) == [-1, -0.5, 0, 0.5, 1] && c[5].isNaN)
        #expect(Array(x.clamp(min: 0).scalars[0..<5]) == [0, 0, 0, 0.5, 2])
        #expect(Array(x.sign().scalars[0..<5]) == [-1, -1, 0, 1, 1] && x.sign()[5].isNaN)
        let p = Tensor<Double>([1, 4, 9])
        #expect(p.pow(0.5).scalars == [1, 2, 3] && p.pow(2).scalars == [1, 16, 81] && p.pow(1) == p)
        #expect(p.pow(-1).scalars == [1, 0.25, 1.0 / 9] && p.pow(0) == Tensor<Double>.ones([3]))
        assertClose(p.pow(1.5), [1, 8, 27], shape: [3], rtol: 1e-15)
        #expect(try p.pow(Tensor<Double>([2, 0.5, 0])).scalars == [1, 2, 1])
        #expect((1 / p).scalars == [1, 0.25, 1.0 / 9] && (10 - p).scalars == [9, 6, 1] && (-p).scalars == [-1, -4, -9])
        #expect((p / 2).scalars == [0.5, 2, 4.5] && (2 * p).scalars == [2, 8, 18] && (p - 1).scalars == [0, 3, 8])

        let a = Tensor<Float>([1, 5, 3]), b = Tensor<Float>([2, 5, 1])
        #expect(try a.isEqual(to: b).scalars == [0, 1, 0])
        #expect(try a.isLess(than: b).scalars == [1, 0, 0])
        #expect(try a.isLessOrEqual(to: b).scalars == [1, 1, 0])
        #expect(try a.isGreater(than: b).scalars == [0, 0, 1])
        #expect(try a.isGreaterOrEqual(to: b).scalars == [0, 1, 1])
        #expect(a.isGreater(than: 2).scalars == [0, 1, 1] && a.isLess(than: 2).scalars == [1, 0, 0])
        #expect(try a.maximum(b).scalars == [2, 5, 3] && (try a.minimum(b).scalars) == [1, 5, 1])
        #expect(a.maximum(2).scalars == [2, 5, 3] && a.minimum(2).scalars == [1, 2, 2])
        let withNaN = try Tensor<Float>([.nan, 1]).maximum(Tensor<Float>([0, .nan]))
        #expect(withNaN[0].isNaN && withNaN[1].isNaN, "maximum propagates NaN from either side")
        #expect(try Tensor.where(a.isGreater(than: 2), a, b).scalars == [2, 5, 3])
        // where broadcasts all three: mask [3,1], a [1,2], b scalar.
        let w = try Tensor.where(Tensor<Float>([1, 0, 1], shape: [3, 1]), Tensor<Float>([7, 8], shape: [1, 2]), Tensor<Float>(scalar: -1))
        #expect(w.shape == [3, 2] && w.scalars == [7, 8, -1, -1, 7, 8])
        #expect(x.isFinite().scalars == [1, 1, 1, 1, 1, 0] && !x.allFinite && p.allFinite)
    }

    // MARK: Finiteness

    @Test("checkFinite reports the count and the first index of NaN/Inf")
    func checkFinite() throws {
        var t = Tensor<Double>.zeros([3, 4])
        try t.checkFinite()
        t[1, 2] = .nan
        t[2, 0] = .infinity
        t[2, 3] = -.infinity
        do {
            try t.checkFinite("weights")
            Issue.record("checkFinite did not throw")
        } catch let e as TensorError {
            #expect(e == .nonFinite(count: 3, firstIndex: [1, 2], context: "weights"))
            #expect(e.description.contains("weights") && e.description.contains("3 non-finite values") && e.description.contains("[1, 2]"))
        }
        #expect(throws: TensorError.nonFinite(count: 1, firstIndex: [], context: "tensor")) { try Tensor<Float>(scalar: .nan).checkFinite() }
        #expect(throws: TensorError.nonFinite(count: 1, firstIndex: [0, 1, 0], context: "x")) {
            try Tensor<Float>([0, 0, .infinity, 0], shape: [1, 2, 2]).checkFinite("x")
        }
        #expect { try Tensor<Float>([.nan]).checkFinite() } throws: { ($0 as? TensorError)?.description.contains("1 non-finite value (") == true }
    }

    // MARK: Products

    @Test("matmul, matvec, dot, outer, gram agree with naive loops; shape mismatches name both shapes", arguments: Precision.allCases)
    func products(_ p: Precision) throws {
        func check<S: BLASScalar>(_: S.Type) throws {
            let r = tolerance(S.self, float: 1e-5, double: 1e-12)
            let a: Tensor<S> = randomMatrix(7, 5, seed: 1), b: Tensor<S> = randomMatrix(5, 3, seed: 2)
            let ab = try matmul(a, b)
            assertClose(ab, naiveMatmul(a, b), shape: [7, 3], rtol: r, atol: r * 10)
            #expect(try matmul(a.transposed(), b, transposeA: true) == ab)
            #expect(try matmul(a, b.transposed(), transposeB: true) == ab)
            #expect(try matmul(a.transposed(), b.transposed(), transposeA: true, transposeB: true) == ab)
            let x: Tensor<S> = randomTensor([5], seed: 3)
            try assertClose(matvec(a, x), naiveMatmul(a, x.reshaped([5, 1])), shape: [7], rtol: r, atol: r * 10)
            let y: Tensor<S> = randomTensor([7], seed: 4)
            try assertClose(matvec(a, y, transposeA: true), naiveMatmul(a.transposed(), y.reshaped([7, 1])), shape: [5], rtol: r, atol: r * 10)
            assertClose(Double(try dot(x, x)), x.scalars.map { Double($0) * Double($0) }.reduce(0, +), rtol: r)
            try assertClose(outer(y, x), naiveMatmul(y.reshaped([7, 1]), x.reshaped([1, 5])), shape: [7, 5], rtol: r)
            let g = try a.gram()
            try assertClose(g, naiveMatmul(a.transposed(), a), shape: [5, 5], rtol: r, atol: r * 10)
            #expect(g == (try g.transposed()), "gram is exactly symmetric")
            let rg = try a.rowGram()
            try assertClose(rg, naiveMatmul(a, a.transposed()), shape: [7, 7], rtol: r, atol: r * 10)
            #expect(rg == (try rg.transposed()), "rowGram is exactly symmetric")
            try assertClose(a.transposed().rowGram(), g, rtol: r, atol: r * 10)    // the rows of Aᵀ are the columns of A
            #expect(try Tensor<S>.zeros([3, 0]).rowGram() == Tensor<S>.zeros([3, 3]))
            // Empty inner dimension: zeros.
            #expect(try matmul(Tensor<S>.zeros([3, 0]), Tensor<S>.zeros([0, 2])) == Tensor<S>.zeros([3, 2]))
            #expect(try matvec(Tensor<S>.zeros([2, 0]), Tensor<S>.zeros([0])) == Tensor<S>.zeros([2]))
            #expect(try Tensor<S>.zeros([0, 3]).gram() == Tensor<S>.zeros([3, 3]))
        }
        switch p { case .float: try check(Float.self); case .double: try check(Double.self) }

        let a = Tensor<Double>.zeros([2, 3]), b = Tensor<Double>.zeros([4, 5])
        #expect(throws: TensorError.shapeMismatch(operation: "matmul", lhs: [2, 3], rhs: [4, 5])) { try matmul(a, b) }
        do { _ = try matmul(a, b); Issue.record("no error") } catch let e as TensorError {
            #expect(e.description == "matmul: shapes [2, 3] and [4, 5] are incompatible")
        }
        #expect(throws: TensorError.self) { try matmul(a, a, transposeB: false) }
        #expect(throws: TensorError.self) { try matmul(Tensor<Double>.zeros([3]), a) }
        #expect(throws: TensorError.self) { try batchedMatmul(Tensor<Double>.zeros([2, 2, 3]), Tensor<Double>.zeros([3, 3, 2])) }
        #expect(throws: TensorError.self) { try batchedMatmul(Tensor<Double>.zeros([2, 2, 3]), Tensor<Double>.zeros([2, 2, 2])) }
        #expect(throws: TensorError.self) { try matvec(a, Tensor<Double>.zeros([2])) }
        #expect(throws: TensorError.self) { try dot(Tensor<Double>.zeros([2]), Tensor<Double>.zeros([3])) }
        #expect(throws: TensorError.self) { try outer(a, Tensor<Double>.zeros([3])) }
        #expect(throws: TensorError.self) { try Tensor<Double>.zeros([3]).gram() }
    }

    @Test("description renders small tensors and summarises large ones")
    func description() throws {
        let t = try Tensor<Double>([1, 2.5, 3, 4], shape: [2, 2])
        #expect(t.description == "Tensor<float64>[2, 2]\n[[1.0, 2.5],\n [3.0, 4.0]]")
        #expect(Tensor<Float>(scalar: 2).description == "2.0")
        #expect(Tensor<Float>.arange(100).description.contains("..."))
    }
}
