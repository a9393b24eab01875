import Linear

// Tensor-level kernels behind every differentiable operation.
//
// Neural's own code is generic over `BLASScalar` and is not `@inlinable`, so a caller in another module runs it
// unspecialised. That is cheap for per-operation bookkeeping but ruinous inside element loops (a generic call
// per element was measured 130× slower). Every loop over elements therefore lives here, in functions that are
// pre-specialised for `Float` and `Double` with `@_specialize`: an unspecialised caller pays one type check per
// call and then runs the concrete, vectorised code. BLAS calls dispatch per buffer through `BLASScalar` anyway.
//
// Nothing here records a graph; `Variable` operations call these and add the backward rules.

/// Shape-and-buffer kernels, pre-specialised for `Float` and `Double` (see the file comment).
enum AutogradKernels {
    // MARK: Buffer helpers

    // MARK: Creation

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func full<S: BLASScalar>(_ shape: [Int], _ value: S) -> Tensor<S> {
        Tensor(unsafeUninitializedShape: shape) { p, n in for i in 0..<n { p[i] = value } }
    }

    // MARK: Binary (numpy broadcasting)

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func add<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> { try a + b }
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sub<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> { try a - b }
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func mul<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> { try a * b }
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func div<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) throws -> Tensor<S> { try a / b }

    /// `a ← a + b` (same shape or `b` broadcast to `a`), in place when `a` owns its storage.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func addInPlace<S: BLASScalar>(_ a: inout Tensor<S>, _ b: Tensor<S>) throws { try a += b }

    /// `a ← α·a` in place.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func scaleInPlace<S: BLASScalar>(_ a: inout Tensor<S>, _ alpha: S) { a *= alpha }

    // MARK: Scalar operands

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func addScalar<S: BLASScalar>(_ a: Tensor<S>, _ s: S) -> Tensor<S> { a + s }
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func mulScalar<S: BLASScalar>(_ a: Tensor<S>, _ s: S) -> Tensor<S> { a * s }
    /// s − a
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func rsubScalar<S: BLASScalar>(_ s: S, _ a: Tensor<S>) -> Tensor<S> { s - a }
    /// s / a
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func rdivScalar<S: BLASScalar>(_ s: S, _ a: Tensor<S>) -> Tensor<S> { s / a }

    // MARK: Unary

    /// The element-wise functions with a kernel of their own.
    enum Unary { case neg, exp, log, sqrt, rsqrt, square, abs, sign, tanh, sigmoid, relu, silu, gelu, softplus, sin, cos, log1p, expm1, step }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func unary<S: BLASScalar>(_ f: Unary, _ x: Tensor<S>) -> Tensor<S> {
        switch f {
        case .neg: return -x
        case .exp: return x.exp()
        case .log: return x.log()
        case .sqrt: return x.sqrt()
        case .rsqrt: return x.rsqrt()
        case .square: return x.square()
        case .abs: return x.abs()
        case .sign: return x.sign()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .relu: return x.relu()
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .softplus: return x.softplus()
        case .sin: return x.sin()
        case .cos: return x.cos()
        case .log1p: return x.log1p()
        case .expm1: return x.expm1()
        case .step: return x.isGreater(than: 0)
        }
    }

    /// xᵖ element-wise.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func pow<S: BLASScalar>(_ x: Tensor<S>, _ p: S) -> Tensor<S> { x.pow(p) }

    /// 1 where low ≤ x ≤ high, else 0.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func insideMask<S: BLASScalar>(_ x: Tensor<S>, _ low: S, _ high: S) -> Tensor<S> {
        x.map { $0 >= low && $0 <= high ? 1 : 0 }
    }

    /// Clamps to [low, high].
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func clamp<S: BLASScalar>(_ x: Tensor<S>, _ low: S, _ high: S) -> Tensor<S> { x.clamp(min: low, max: high) }

    /// 1 where x < s, else 0.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func lessThan<S: BLASScalar>(_ x: Tensor<S>, _ s: S) -> Tensor<S> { x.isLess(than: s) }

    // MARK: Fused first-order backward kernels (g = upstream gradient)

    /// g·silu′(x) (Linear's `siluGradient`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func siluBackward<S: BLASScalar>(_ x: Tensor<S>, _ g: Tensor<S>) throws -> Tensor<S> { try x.siluGradient(g) }

    /// g·gelu′(x) for the tanh form of GELU (Linear's `geluGradient`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func geluBackward<S: BLASScalar>(_ x: Tensor<S>, _ g: Tensor<S>) throws -> Tensor<S> { try x.geluGradient(g) }

    /// g·(1 − y²) where y = tanh(x).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func tanhBackward<S: BLASScalar>(_ y: Tensor<S>, _ g: Tensor<S>) -> Tensor<S> {
        precondition(y.shape == g.shape)
        return (try? Tensor.zip(y, g, "tanhBackward") { y, g in g * (1 - y * y) })!
    }

    /// g·y(1 − y) where y = σ(x).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sigmoidBackward<S: BLASScalar>(_ y: Tensor<S>, _ g: Tensor<S>) -> Tensor<S> {
        precondition(y.shape == g.shape)
        return (try? Tensor.zip(y, g, "sigmoidBackward") { y, g in g * y * (1 - y) })!
    }

    // MARK: Reductions and broadcasting

    /// Σ of all elements as a rank-0 tensor.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sumAll<S: BLASScalar>(_ x: Tensor<S>) -> Tensor<S> { Tensor(scalar: x.sum()) }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sum<S: BLASScalar>(_ x: Tensor<S>, axis: Int, keepDims: Bool) throws -> Tensor<S> {
        try x.sum(axis: axis, keepDims: keepDims)
    }

    /// Sums `x` down to `shape` (the inverse of broadcasting `shape` up to `x.shape`): leading axes are summed
    /// away and axes where `shape` has extent 1 are summed with the extent kept.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func sumTo<S: BLASScalar>(_ x: Tensor<S>, _ shape: [Int]) throws -> Tensor<S> {
        if x.shape == shape { return x }
        let off = x.rank - shape.count
        guard off >= 0 else { throw TensorError.shapeMismatch(operation: "sumTo (target has more axes)", lhs: x.shape, rhs: shape) }
        var t = x
        if off > 0 {
            let lead = x.shape[0..<off].reduce(1, *)
            t = try t.reshaped([lead] + Array(x.shape[off...])).sum(axis: 0)
        }
        for (i, d) in shape.enumerated() where t.shape[i] != d {
            guard d == 1 else { throw TensorError.shapeMismatch(operation: "sumTo", lhs: x.shape, rhs: shape) }
            t = try t.sum(axis: i, keepDims: true)
        }
        return try t.reshaped(shape)
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func broadcast<S: BLASScalar>(_ x: Tensor<S>, to shape: [Int]) throws -> Tensor<S> { try x.broadcast(to: shape) }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func max<S: BLASScalar>(_ x: Tensor<S>, axis: Int, keepDims: Bool) throws -> Tensor<S> {
        try x.max(axis: axis, keepDims: keepDims)
    }

    /// For each line along `axis`: 1/k at the k positions equal to the line's maximum `m` (kept dims), else 0.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func argmaxMask<S: BLASScalar>(_ x: Tensor<S>, _ m: Tensor<S>, axis: Int) throws -> Tensor<S> {
        let hits = try x.isEqual(to: m)
        let counts = try hits.sum(axis: axis, keepDims: true)
        return try hits / counts
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func logsumexp<S: BLASScalar>(_ x: Tensor<S>, axis: Int, keepDims: Bool) throws -> Tensor<S> {
        try x.logsumexp(axis: axis, keepDims: keepDims)
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func softmax<S: BLASScalar>(_ x: Tensor<S>, axis: Int) throws -> Tensor<S> { try x.softmax(axis: axis) }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func logSoftmax<S: BLASScalar>(_ x: Tensor<S>, axis: Int) throws -> Tensor<S> { try x.logSoftmax(axis: axis) }

    /// Backward of y = softmax(x) along `axis`: y ⊙ (g − Σ g⊙y).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func softmaxBackward<S: BLASScalar>(_ y: Tensor<S>, _ g: Tensor<S>, axis: Int) throws -> Tensor<S> {
        let geo = try geometry(y.shape, axis)
        return Tensor(unsafeUninitializedShape: y.shape) { d, _ in
            y.withUnsafeBufferPointer { py in
                g.withUnsafeBufferPointer { pg in
                    let yp = py.baseAddress!, gp = pg.baseAddress!
                    for o in 0..<geo.outer {
                        for i in 0..<geo.inner {
                            let base = o &* geo.n &* geo.inner &+ i, s = geo.inner
                            var dotv: S = 0
                            if s == 1 { dotv = Tensor<S>.laneDot(yp + base, gp + base, geo.n) }
                            else { for j in 0..<geo.n { dotv += yp[base &+ j &* s] * gp[base &+ j &* s] } }
                            for j in 0..<geo.n { let k = base &+ j &* s; d[k] = yp[k] * (gp[k] - dotv) }
                        }
                    }
                }
            }
        }
    }

    /// Backward of y = logSoftmax(x) along `axis`: g − exp(y)·Σg.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func logSoftmaxBackward<S: BLASScalar>(_ y: Tensor<S>, _ g: Tensor<S>, axis: Int) throws -> Tensor<S> {
        let total = try g.sum(axis: axis, keepDims: true)
        let p = y.exp()
        return try g - p * total
    }

    /// (outer, n, inner) around `axis`.
    static func geometry(_ shape: [Int], _ axis: Int) throws -> (axis: Int, outer: Int, n: Int, inner: Int) {
        let a = try Tensor<Float>.normalizeAxis(axis, rank: shape.count, "reduction")
        return (a, shape[0..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    // MARK: Products

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func matmul<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ ta: Bool, _ tb: Bool) throws -> Tensor<S> {
        try Linear.matmul(a, b, transposeA: ta, transposeB: tb)
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func batchedMatmul<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ ta: Bool, _ tb: Bool) throws -> Tensor<S> {
        try Linear.batchedMatmul(a, b, transposeA: ta, transposeB: tb)
    }

    /// x·Wᵀ + b for x [m, k], W [n, k], b [n] (Linear's `affine`: one gemm whose output starts as the broadcast bias).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func linear<S: BLASScalar>(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?) throws -> Tensor<S> {
        try affine(x, weight: w, bias: b)
    }

    // MARK: Fused dense layer + activation

    /// The activations a dense layer can apply inside its own kernels (`linear(_:weight:bias:activation:)`).
    enum FusedActivation { case silu, gelu, relu }

    /// y = f(z), z = x·Wᵀ + b for x [m, k], W [n, k], b [n]: the gemm of `linear` writes z, then Linear's
    /// activation runs from z into y, so y is `f(linear(x, W, b))` bit for bit. Returns z (kept for the backward
    /// pass) and y.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func linearActivation<S: BLASScalar>(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?, _ f: FusedActivation) throws
        -> (z: Tensor<S>, y: Tensor<S>) {
        let z = try linear(x, w, b)
        let y: Tensor<S>
        switch f {
        case .silu: y = z.silu()
        case .gelu: y = z.gelu()
        case .relu: y = z.relu()
        }
        return (z, y)
    }

    /// The backward pass of y = f(z), gz = g·f′(z) in one pass over z and g (Linear's `siluGradient`,
    /// `geluGradient`, `reluGradient`, the kernels of the unfused rules too); and, when `bias`, the bias gradient
    /// Σ_rows gz accumulated in Double row after row, the order of `Tensor.sum(axis: 0)` (bit-identical to it).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func activationBackward<S: BLASScalar>(_ z: Tensor<S>, _ g: Tensor<S>, _ f: FusedActivation, bias: Bool) throws
        -> (gz: Tensor<S>, db: Tensor<S>?) {
        let gz: Tensor<S>
        switch f {
        case .silu: gz = try z.siluGradient(g)
        case .gelu: gz = try z.geluGradient(g)
        case .relu: gz = try z.reluGradient(g)
        }
        guard bias else { return (gz, nil) }
        return (gz, columnSums(gz))
    }

    /// Σ over the rows of a [rows, n] tensor (any rank: the last axis is kept), accumulated in Double row after
    /// row — the order and precision of `Tensor.sum(axis: 0)`, whose result it equals bit for bit.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func columnSums<S: BLASScalar>(_ x: Tensor<S>) -> Tensor<S> {
        let n = x.shape.last ?? 1, rows = x.count / Swift.max(1, n)
        return Tensor<S>(unsafeUninitializedShape: [n]) { d, _ in
            var accumulator = [Double](repeating: 0, count: Swift.max(1, n))
            x.withUnsafeBufferPointer { px in accumulator.withUnsafeMutableBufferPointer { ap in
                let acc = ap.baseAddress!
                for r in 0..<rows {
                    let src = px.baseAddress! + r &* n
                    for j in 0..<n { acc[j] += Double(src[j]) }
                }
                for j in 0..<n { d[j] = S(acc[j]) }
            } }
        }
    }

    // MARK: Shapes

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func permute<S: BLASScalar>(_ x: Tensor<S>, _ axes: [Int]) throws -> Tensor<S> { try x.permuted(axes) }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func slice<S: BLASScalar>(_ x: Tensor<S>, _ range: Range<Int>, axis: Int) throws -> Tensor<S> {
        try x.slice(range, axis: axis)
    }

    /// Zeros of `shape` with `x` written at `range` along `axis` (the adjoint of `slice`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func unslice<S: BLASScalar>(_ x: Tensor<S>, _ range: Range<Int>, axis: Int, shape: [Int]) throws -> Tensor<S> {
        let g = try geometry(shape, axis)
        guard x.shape.count == shape.count, x.shape[g.axis] == range.count else {
            throw TensorError.shapeMismatch(operation: "unslice", lhs: x.shape, rhs: shape)
        }
        return Tensor(unsafeUninitializedShape: shape) { d, total in
            for i in 0..<total { d[i] = 0 }
            x.withUnsafeBufferPointer { px in
                let block = range.count &* g.inner, full = g.n &* g.inner
                for o in 0..<g.outer {
                    (d + o &* full + range.lowerBound &* g.inner).update(from: px.baseAddress! + o &* block, count: block)
                }
            }
        }
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func concatenate<S: BLASScalar>(_ xs: [Tensor<S>], axis: Int) throws -> Tensor<S> {
        try Tensor.concatenate(xs, axis: axis)
    }

    @_specialize(where S == Float) @_specialize(where S == Double)
    static func gatherRows<S: BLASScalar>(_ x: Tensor<S>, _ indices: [Int]) throws -> Tensor<S> { try x.gather(rows: indices) }

    /// Zeros of [rows, inner…] with row `indices[k]` += x[k] (the adjoint of `gatherRows`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func scatterAddRows<S: BLASScalar>(_ x: Tensor<S>, _ indices: [Int], rows: Int) -> Tensor<S> {
        var shape = x.shape
        shape[0] = rows
        let inner = x.count / Swift.max(1, x.shape[0])
        return Tensor(unsafeUninitializedShape: shape) { d, total in
            for i in 0..<total { d[i] = 0 }
            x.withUnsafeBufferPointer { px in
                for (k, i) in indices.enumerated() {
                    let r = i < 0 ? i + rows : i
                    let dst = d + r &* inner, src = px.baseAddress! + k &* inner
                    for j in 0..<inner { dst[j] += src[j] }
                }
            }
        }
    }

    /// out[i] = x[i, idx[i]] for x [m, c].
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func pick<S: BLASScalar>(_ x: Tensor<S>, _ idx: [Int]) throws -> Tensor<S> {
        guard x.rank == 2, x.shape[0] == idx.count else {
            throw TensorError.invalidShape("pick: expected [m, c] values and m indices, got shape \(x.shape) and \(idx.count) indices")
        }
        let c = x.shape[1]
        for (i, j) in idx.enumerated() where j < 0 || j >= c {
            throw ConfigurationError(field: "Variable.pick(indices:)", reason: "index \(j) at row \(i) is out of range 0..<\(c)")
        }
        return Tensor(unsafeUninitializedShape: [idx.count]) { d, _ in
            x.withUnsafeBufferPointer { px in for (i, j) in idx.enumerated() { d[i] = px[i &* c &+ j] } }
        }
    }

    /// Zeros [m, c] with g[i] at (i, idx[i]) (the adjoint of `pick`).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func unpick<S: BLASScalar>(_ g: Tensor<S>, _ idx: [Int], columns c: Int) -> Tensor<S> {
        Tensor(unsafeUninitializedShape: [idx.count, c]) { d, total in
            for i in 0..<total { d[i] = 0 }
            g.withUnsafeBufferPointer { pg in for (i, j) in idx.enumerated() { d[i &* c &+ j] = pg[i] } }
        }
    }
}
