import RealModule

/// Sum of `n` contiguous scalars: blocks of 512 summed with relaxed (vectorisable) adds, block sums accumulated
/// in Double. The error stays near Double's even for long Float vectors (numpy uses pairwise summation instead).
@inlinable
package func _sumKernel<Scalar: BLASScalar>(_ p: UnsafePointer<Scalar>, _ n: Int, stride: Int = 1) -> Double {
    var total = 0.0
    var i = 0
    if stride == 1 {
        while i < n {
            let end = Swift.min(n, i &+ 512)
            var acc: Scalar = 0
            for j in i..<end { acc = Relaxed.sum(acc, p[j]) }
            total += Double(acc)
            i = end
        }
    } else {
        for j in 0..<n { total += Double(p[j &* stride]) }
    }
    return total
}

extension Tensor {
    /// Splits the shape around `axis` into (outer, extent, inner) for a reduction along that axis.
    @inlinable
    func reductionGeometry(_ axis: Int, _ op: String) throws -> (axis: Int, outer: Int, n: Int, inner: Int) {
        let a = try Tensor.normalizeAxis(axis, rank: rank, op)
        return (a, shape[0..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    @inlinable
    func reducedShape(_ a: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[a] = 1 } else { s.remove(at: a) }
        return s
    }

    /// Reduces along `axis`: `body(base, stride, n)` returns the value for one line of `n` elements.
    @inlinable @inline(__always)
    func reduceLines(axis: Int, keepDims: Bool, _ op: String, _ body: (UnsafePointer<Scalar>, Int, Int) -> Scalar) throws -> Tensor {
        let g = try reductionGeometry(axis, op)
        if g.n == 0 && op != "sum" { throw TensorError.invalidShape("\(op): cannot reduce an empty axis \(axis) of shape \(shape)") }
        return Tensor(unsafeUninitializedShape: reducedShape(g.axis, keepDims: keepDims)) { dst, _ in
            let p = storage.pointer
            for o in 0..<g.outer {
                for i in 0..<g.inner { dst[o &* g.inner &+ i] = body(p + (o &* g.n &* g.inner &+ i), g.inner, g.n) }
            }
        }
    }

    // MARK: Sum and mean

    /// Σ of all elements.
    @inlinable public func sum() -> Scalar { Scalar(_sumKernel(storage.pointer, count)) }

    /// Σ along `axis`.
    @inlinable
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let g = try reductionGeometry(axis, "sum")
        if g.inner == 1 { return try reduceLines(axis: axis, keepDims: keepDims, "sum") { p, _, n in Scalar(_sumKernel(p, n)) } }
        // Lines are strided: accumulate whole rows (contiguous, vectorised) instead, in Double so a Float sum is
        // as accurate along every axis as the contiguous path.
        return Tensor(unsafeUninitializedShape: reducedShape(g.axis, keepDims: keepDims)) { dst, total in
            let p = storage.pointer
            let acc = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, g.inner))
            defer { acc.deallocate() }
            for o in 0..<g.outer {
                acc.initialize(repeating: 0, count: g.inner)
                for j in 0..<g.n {
                    let src = p + (o &* g.n &+ j) &* g.inner
                    for i in 0..<g.inner { acc[i] += Double(src[i]) }
                }
                let d = dst + o &* g.inner
                for i in 0..<g.inner { d[i] = Scalar(acc[i]) }
            }
            _ = total
        }
    }

    /// Arithmetic mean of all elements.
    @inlinable public func mean() -> Scalar { Scalar(_sumKernel(storage.pointer, count) / Double(count)) }

    /// Mean along `axis`.
    @inlinable
    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try Tensor.normalizeAxis(axis, rank: rank, "mean")
        return try sum(axis: axis, keepDims: keepDims) * (1 / Scalar(shape[a]))
    }

    /// Variance of all elements, Σ(x − x̄)² / (n − ddof) (two passes, for accuracy).
    @inlinable
    public func variance(ddof: Int = 0) -> Scalar {
        let m = _sumKernel(storage.pointer, count) / Double(count)
        let p = storage.pointer
        var acc = 0.0
        for i in 0..<count { let d = Double(p[i]) - m; acc += d * d }
        return Scalar(acc / Double(count - ddof))
    }

    /// Variance along `axis` with `ddof` delta degrees of freedom (numpy `var(axis, ddof)`).
    @inlinable
    public func variance(axis: Int, ddof: Int = 0, keepDims: Bool = false) throws -> Tensor {
        let mu = try mean(axis: axis, keepDims: true)
        let g = try reductionGeometry(axis, "variance")
        let centred = try self - mu
        return try centred.square().sum(axis: axis, keepDims: keepDims) * (1 / Scalar(g.n - ddof))
    }

    /// Standard deviation of all elements.
    @inlinable public func std(ddof: Int = 0) -> Scalar { variance(ddof: ddof).squareRoot() }
    /// Standard deviation along `axis`.
    @inlinable public func std(axis: Int, ddof: Int = 0, keepDims: Bool = false) throws -> Tensor {
        try variance(axis: axis, ddof: ddof, keepDims: keepDims).sqrt()
    }

    // MARK: Extremes

    /// Largest element (NaN if any element is NaN, as in numpy).
    @inlinable public func max() -> Scalar { Tensor.lineMax(storage.pointer, 1, count) }
    /// Smallest element (NaN if any element is NaN).
    @inlinable public func min() -> Scalar { Tensor.lineMin(storage.pointer, 1, count) }

    @inlinable @inline(__always)
    static func lineMax(_ p: UnsafePointer<Scalar>, _ stride: Int, _ n: Int) -> Scalar {
        precondition(n > 0, "max: empty tensor")
        var m = p[0]
        for j in 0..<n { let v = p[j &* stride]; if v > m || v.isNaN { m = v; if v.isNaN { return v } } }
        return m
    }

    @inlinable @inline(__always)
    static func lineMin(_ p: UnsafePointer<Scalar>, _ stride: Int, _ n: Int) -> Scalar {
        precondition(n > 0, "min: empty tensor")
        var m = p[0]
        for j in 0..<n { let v = p[j &* stride]; if v < m || v.isNaN { m = v; if v.isNaN { return v } } }
        return m
    }

    /// Maximum along `axis`.
    @inlinable public func max(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try reduceLines(axis: axis, keepDims: keepDims, "max") { Tensor.lineMax($0, $1, $2) }
    }
    /// Minimum along `axis`.
    @inlinable public func min(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try reduceLines(axis: axis, keepDims: keepDims, "min") { Tensor.lineMin($0, $1, $2) }
    }

    /// Flat index of the largest element (first occurrence; the first NaN if there is one, as numpy).
    @inlinable public func argmax() -> Int {
        precondition(count > 0, "argmax: empty tensor")
        let p = storage.pointer
        var best = 0
        if p[0].isNaN { return 0 }
        for i in 1..<Swift.max(count, 1) { if p[i].isNaN { return i }; if p[i] > p[best] { best = i } }
        return best
    }
    /// Flat index of the smallest element (first occurrence; the first NaN if there is one, as numpy).
    @inlinable public func argmin() -> Int {
        precondition(count > 0, "argmin: empty tensor")
        let p = storage.pointer
        var best = 0
        if p[0].isNaN { return 0 }
        for i in 1..<Swift.max(count, 1) { if p[i].isNaN { return i }; if p[i] < p[best] { best = i } }
        return best
    }

    /// Index of the largest element along `axis`, for each position of the other axes (row-major order);
    /// NaN counts as the extreme, as in numpy.
    @inlinable public func argmax(axis: Int) throws -> [Int] { try argExtreme(axis: axis, "argmax") { $0.isNaN && !$1.isNaN || $0 > $1 } }
    /// Index of the smallest element along `axis` (NaN counts as the extreme).
    @inlinable public func argmin(axis: Int) throws -> [Int] { try argExtreme(axis: axis, "argmin") { $0.isNaN && !$1.isNaN || $0 < $1 } }

    @inlinable
    func argExtreme(axis: Int, _ op: String, _ better: (Scalar, Scalar) -> Bool) throws -> [Int] {
        let g = try reductionGeometry(axis, op)
        guard g.n > 0 else { throw TensorError.invalidShape("\(op): axis \(axis) of shape \(shape) is empty") }
        var out = [Int](repeating: 0, count: g.outer * g.inner)
        let p = storage.pointer
        for o in 0..<g.outer {
            for i in 0..<g.inner {
                let base = p + o * g.n * g.inner + i
                var best = 0
                for j in 1..<g.n where better(base[j * g.inner], base[best * g.inner]) { best = j }
                out[o * g.inner + i] = best
            }
        }
        return out
    }

    // MARK: Softmax family

    /// log Σ exp(x) over all elements, computed as m + log Σ exp(x − m).
    @inlinable public func logsumexp() -> Scalar {
        let m = max()
        if !m.isFinite { return m }
        return m + Scalar.log(Scalar(Tensor.sumExpShifted(storage.pointer, 1, count, m)))
    }

    @inlinable @inline(__always)
    static func sumExpShifted(_ p: UnsafePointer<Scalar>, _ stride: Int, _ n: Int, _ m: Scalar) -> Double {
        var acc = 0.0
        for j in 0..<n { acc += Double(Scalar.exp(p[j &* stride] - m)) }
        return acc
    }

    /// log Σ exp(x) along `axis`, stable for large inputs.
    @inlinable public func logsumexp(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try reduceLines(axis: axis, keepDims: keepDims, "logsumexp") { p, s, n in
            let m = Tensor.lineMax(p, s, n)
            if !m.isFinite { return m }
            return m + Scalar.log(Scalar(Tensor.sumExpShifted(p, s, n, m)))
        }
    }

    /// exp(x − max x) / Σ exp(x − max x) along `axis` (default: last), each line summing to 1.
    ///
    /// Along the last axis (contiguous lines) each line is shifted by its maximum, exponentiated by the vector
    /// kernel `vexp` in place and scaled by the reciprocal of its eight-lane sum (`laneSum`); other axes use scalar
    /// exp on strided lines.
    @inlinable public func softmax(axis: Int = -1) throws -> Tensor {
        let g = try reductionGeometry(axis, "softmax")
        if g.inner == 1 && g.n > 0 {
            let p = storage.pointer
            return Tensor(unsafeUninitializedShape: shape) { d, _ in
                for o in 0..<g.outer {
                    let row = p + o &* g.n, out = d + o &* g.n
                    var m = -Scalar.infinity
                    for j in 0..<g.n where row[j] > m { m = row[j] }
                    if !m.isFinite { m = 0 }
                    for j in 0..<g.n { out[j] = row[j] - m }
                    Scalar.vexp(out, out, g.n)
                    let r = 1 / Tensor.laneSum(out, g.n)
                    for j in 0..<g.n { out[j] *= r }
                }
            }
        }
        return try lineTransform(axis: axis, "softmax") { p, d, s, n in
            let m = Tensor.lineMax(p, s, n)
            var total: Scalar = 0
            for j in 0..<n { let e = Scalar.exp(p[j &* s] - m); d[j &* s] = e; total += e }
            let r = 1 / total
            for j in 0..<n { d[j &* s] *= r }
        }
    }

    /// x − logsumexp(x) along `axis` (default: last).
    @inlinable public func logSoftmax(axis: Int = -1) throws -> Tensor {
        try lineTransform(axis: axis, "logSoftmax") { p, d, s, n in
            let m = Tensor.lineMax(p, s, n)
            let lse = m + Scalar.log(Scalar(Tensor.sumExpShifted(p, s, n, m)))
            for j in 0..<n { d[j &* s] = p[j &* s] - lse }
        }
    }

    /// Transforms each line along `axis`: `body(src, dst, stride, n)`.
    @inlinable @inline(__always)
    func lineTransform(axis: Int, _ op: String, _ body: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int, Int) -> Void) throws -> Tensor {
        let g = try reductionGeometry(axis, op)
        return Tensor(unsafeUninitializedShape: shape) { dst, _ in
            if g.n == 0 { return }
            let p = storage.pointer
            for o in 0..<g.outer {
                for i in 0..<g.inner {
                    let off = o &* g.n &* g.inner &+ i
                    body(p + off, dst + off, g.inner, g.n)
                }
            }
        }
    }

    // MARK: Norms

    /// Euclidean (L2) norm of all elements; for a matrix this is the Frobenius norm.
    @inlinable public func norm() -> Scalar { Scalar.nrm2(n: count, x: storage.pointer, incx: 1) }
    /// Largest absolute value (the max norm).
    @inlinable public func maxAbs() -> Scalar {
        let p = storage.pointer
        var m: Scalar = 0
        for i in 0..<count { let v = Swift.abs(p[i]); if v > m || v.isNaN { m = v } }
        return m
    }
    /// L1 norm Σ|x|.
    @inlinable public func l1Norm() -> Scalar {
        let p = storage.pointer
        var acc = 0.0
        for i in 0..<count { acc += Double(Swift.abs(p[i])) }
        return Scalar(acc)
    }
    /// L2 norm along `axis`.
    @inlinable public func norm(axis: Int, keepDims: Bool = false) throws -> Tensor {
        try reduceLines(axis: axis, keepDims: keepDims, "norm") { p, s, n in Scalar.nrm2(n: n, x: p, incx: s) }
    }
}
