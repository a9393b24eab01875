import RealModule

// Binary element-wise operations with numpy broadcasting.

extension Tensor {
    /// Applies `f` element-wise to `a` and `b` broadcast together.
    ///
    /// Fast paths: equal shapes and scalar operands run one flat loop; other shapes coalesce contiguous axes and
    /// run an inner loop whose strides are 0 or 1. The loops stay on the calling thread: a closure called from
    /// another thread's chunk is not inlined, which costs more than the second core gains (measured 13×).
    /// The arithmetic operators use the wide kernels of `arithmetic` instead.
    @inlinable @inline(__always)
    public static func zip(_ a: Tensor, _ b: Tensor, _ op: String, _ f: (Scalar, Scalar) -> Scalar) throws -> Tensor {
        if a.shape == b.shape {
            return Tensor(unsafeUninitializedShape: a.shape) { dst, n in
                let p = a.storage.pointer, q = b.storage.pointer
                for i in 0..<n { dst[i] = f(p[i], q[i]) }
            }
        }
        let outShape = try Broadcast.shape(a.shape, b.shape, op)
        if b.count == 1 && outShape == a.shape {
            let s = b.storage.pointer[0]
            return Tensor(unsafeUninitializedShape: outShape) { dst, n in
                let p = a.storage.pointer
                for i in 0..<n { dst[i] = f(p[i], s) }
            }
        }
        if a.count == 1 && outShape == b.shape {
            let s = a.storage.pointer[0]
            return Tensor(unsafeUninitializedShape: outShape) { dst, n in
                let q = b.storage.pointer
                for i in 0..<n { dst[i] = f(s, q[i]) }
            }
        }
        let (shape, st) = Broadcast.coalesce(shape: outShape,
                                             strides: [Broadcast.strides(a.shape, to: outShape), Broadcast.strides(b.shape, to: outShape)])
        return Tensor(unsafeUninitializedShape: outShape) { dst, n in
            if n == 0 { return }
            broadcastLoop(shape: shape, sa: st[0], sb: st[1], a.storage.pointer, b.storage.pointer, dst, f)
        }
    }

    @inlinable @inline(__always)
    static func broadcastLoop(shape: [Int], sa: [Int], sb: [Int], _ p: UnsafePointer<Scalar>, _ q: UnsafePointer<Scalar>,
                              _ dst: UnsafeMutablePointer<Scalar>, _ f: (Scalar, Scalar) -> Scalar) {
        let r = shape.count
        let inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1]
        let n = shape.reduce(1, *)
        var index = [Int](repeating: 0, count: r)
        var oa = 0, ob = 0, out = 0
        while out < n {
            let pa = p + oa, qb = q + ob, d = dst + out
            if ia == 1 && ib == 1 { for j in 0..<inner { d[j] = f(pa[j], qb[j]) } }
            else if ia == 0 && ib == 1 { let s = pa[0]; for j in 0..<inner { d[j] = f(s, qb[j]) } }
            else if ia == 1 && ib == 0 { let s = qb[0]; for j in 0..<inner { d[j] = f(pa[j], s) } }
            else { for j in 0..<inner { d[j] = f(pa[j &* ia], qb[j &* ib]) } }
            out &+= inner
            var ax = r - 2
            while ax >= 0 {
                index[ax] &+= 1; oa &+= sa[ax]; ob &+= sb[ax]
                if index[ax] < shape[ax] { break }
                oa &-= sa[ax] &* shape[ax]; ob &-= sb[ax] &* shape[ax]; index[ax] = 0
                ax -= 1
            }
        }
    }

    /// Applies `f` to every element (one vectorisable loop on the calling thread).
    @inlinable @inline(__always)
    public func map(_ f: (Scalar) -> Scalar) -> Tensor {
        Tensor(unsafeUninitializedShape: shape) { dst, n in
            let p = storage.pointer
            for i in 0..<n { dst[i] = f(p[i]) }
        }
    }

    /// Applies `f` to every element in place.
    @inlinable @inline(__always)
    public mutating func mapInPlace(_ f: (Scalar) -> Scalar) {
        makeUnique()
        let p = storage.pointer
        for i in 0..<count { p[i] = f(p[i]) }
    }

    /// `self ← f(self, other)` with `other` broadcast to this tensor's shape.
    @inlinable @inline(__always)
    mutating func zipInPlace(_ other: Tensor, _ op: String, _ f: (Scalar, Scalar) -> Scalar) throws {
        let out = try Broadcast.shape(shape, other.shape, op)
        guard out == shape else { throw TensorError.shapeMismatch(operation: op + " (in place: result must keep the left shape)", lhs: shape, rhs: other.shape) }
        makeUnique()
        let p = storage.pointer
        if other.shape == shape {
            let q = other.storage.pointer
            for i in 0..<count { p[i] = f(p[i], q[i]) }
        } else if other.count == 1 {
            let s = other.storage.pointer[0]
            for i in 0..<count { p[i] = f(p[i], s) }
        } else {
            let (sh, st) = Broadcast.coalesce(shape: shape, strides: [strides, Broadcast.strides(other.shape, to: shape)])
            Tensor.broadcastLoop(shape: sh, sa: st[0], sb: st[1], UnsafePointer(p), other.storage.pointer, p, f)
        }
    }

    // MARK: Wide arithmetic

    /// `a ∘ b` with broadcasting, through the wide kernels (`vbinary`, split across threads when large) when the
    /// CPU has them and the shapes allow a flat or row-wise loop; `f` is the same operation for everything else.
    @inlinable
    public static func arithmetic(_ a: Tensor, _ b: Tensor, _ op: ElementwiseOp, _ name: String, _ f: (Scalar, Scalar) -> Scalar) throws -> Tensor {
        guard wideArithmetic else { return try zip(a, b, name, f) }
        let out = a.shape == b.shape ? a.shape : try Broadcast.shape(a.shape, b.shape, name)
        let sa: Int, sb: Int
        if a.shape == b.shape { sa = 1; sb = 1 }
        else if b.count == 1 && out == a.shape { sa = 1; sb = 0 }
        else if a.count == 1 && out == b.shape { sa = 0; sb = 1 }
        else {
            // Row-wise broadcasting ([n, d] ∘ [d], [n, d] ∘ [n, 1]): one kernel call per coalesced inner row.
            let (shape, st) = Broadcast.coalesce(shape: out, strides: [Broadcast.strides(a.shape, to: out), Broadcast.strides(b.shape, to: out)])
            let inner = shape.last ?? 1
            guard shape.count == 2, inner >= 16, st[0][1] <= 1, st[1][1] <= 1, st[0][1] + st[1][1] > 0 else { return try zip(a, b, name, f) }
            return Tensor(unsafeUninitializedShape: out) { dst, _ in
                let pa = a.storage.pointer, pb = b.storage.pointer
                for r in 0..<shape[0] {
                    Scalar.vbinary(op, pa + r * st[0][0], st[0][1], pb + r * st[1][0], st[1][1], dst + r * inner, inner)
                }
            }
        }
        return Tensor(unsafeUninitializedShape: out) { dst, n in
            let pa = a.storage.pointer, pb = b.storage.pointer
            Parallel.forChunks(n) { r in
                Scalar.vbinary(op, pa + r.lowerBound * sa, sa, pb + r.lowerBound * sb, sb, dst + r.lowerBound, r.count)
            }
        }
    }

    /// `a ∘ s` (or `s ∘ a` when `scalarFirst`) through the wide kernels.
    @inlinable
    static func scalarArithmetic(_ a: Tensor, _ s: Scalar, _ op: ElementwiseOp, scalarFirst: Bool, _ f: (Scalar) -> Scalar) -> Tensor {
        guard wideArithmetic else { return a.map(f) }
        return Tensor(unsafeUninitializedShape: a.shape) { dst, n in
            let pa = a.storage.pointer
            withUnsafePointer(to: s) { ps in
                Parallel.forChunks(n) { r in
                    if scalarFirst { Scalar.vbinary(op, ps, 0, pa + r.lowerBound, 1, dst + r.lowerBound, r.count) }
                    else { Scalar.vbinary(op, pa + r.lowerBound, 1, ps, 0, dst + r.lowerBound, r.count) }
                }
            }
        }
    }

    /// `self ← self ∘ other` through the wide kernels when `other` has this shape or one element.
    @inlinable
    mutating func arithmeticInPlace(_ other: Tensor, _ op: ElementwiseOp, _ name: String, _ f: (Scalar, Scalar) -> Scalar) throws {
        guard wideArithmetic, other.shape == shape || other.count == 1 else { return try zipInPlace(other, name, f) }
        makeUnique()
        let p = storage.pointer, q = other.storage.pointer
        let sb = other.shape == shape ? 1 : 0
        Parallel.forChunks(count) { r in
            Scalar.vbinary(op, UnsafePointer(p + r.lowerBound), 1, q + r.lowerBound * sb, sb, p + r.lowerBound, r.count)
        }
    }

    /// `self ← self ∘ s` through the wide kernels.
    @inlinable
    mutating func scalarArithmeticInPlace(_ s: Scalar, _ op: ElementwiseOp, _ f: (Scalar) -> Scalar) {
        guard wideArithmetic else { return mapInPlace(f) }
        makeUnique()
        let p = storage.pointer
        withUnsafePointer(to: s) { ps in
            Parallel.forChunks(count) { r in Scalar.vbinary(op, UnsafePointer(p + r.lowerBound), 1, ps, 0, p + r.lowerBound, r.count) }
        }
    }

    // MARK: Operators

    @inlinable public static func + (a: Tensor, b: Tensor) throws -> Tensor { try arithmetic(a, b, .add, "add") { $0 + $1 } }
    @inlinable public static func - (a: Tensor, b: Tensor) throws -> Tensor { try arithmetic(a, b, .subtract, "subtract") { $0 - $1 } }
    @inlinable public static func * (a: Tensor, b: Tensor) throws -> Tensor { try arithmetic(a, b, .multiply, "multiply") { $0 * $1 } }
    @inlinable public static func / (a: Tensor, b: Tensor) throws -> Tensor { try arithmetic(a, b, .divide, "divide") { $0 / $1 } }

    @inlinable public static func + (a: Tensor, s: Scalar) -> Tensor { scalarArithmetic(a, s, .add, scalarFirst: false) { $0 + s } }
    @inlinable public static func - (a: Tensor, s: Scalar) -> Tensor { scalarArithmetic(a, s, .subtract, scalarFirst: false) { $0 - s } }
    @inlinable public static func * (a: Tensor, s: Scalar) -> Tensor { scalarArithmetic(a, s, .multiply, scalarFirst: false) { $0 * s } }
    @inlinable public static func / (a: Tensor, s: Scalar) -> Tensor { scalarArithmetic(a, s, .divide, scalarFirst: false) { $0 / s } }
    @inlinable public static func + (s: Scalar, a: Tensor) -> Tensor { scalarArithmetic(a, s, .add, scalarFirst: true) { s + $0 } }
    @inlinable public static func - (s: Scalar, a: Tensor) -> Tensor { scalarArithmetic(a, s, .subtract, scalarFirst: true) { s - $0 } }
    @inlinable public static func * (s: Scalar, a: Tensor) -> Tensor { scalarArithmetic(a, s, .multiply, scalarFirst: true) { s * $0 } }
    @inlinable public static func / (s: Scalar, a: Tensor) -> Tensor { scalarArithmetic(a, s, .divide, scalarFirst: true) { s / $0 } }
    @inlinable public static prefix func - (a: Tensor) -> Tensor { scalarArithmetic(a, -1, .multiply, scalarFirst: false) { -$0 } }

    @inlinable public static func += (a: inout Tensor, b: Tensor) throws { try a.arithmeticInPlace(b, .add, "add") { $0 + $1 } }
    @inlinable public static func -= (a: inout Tensor, b: Tensor) throws { try a.arithmeticInPlace(b, .subtract, "subtract") { $0 - $1 } }
    @inlinable public static func *= (a: inout Tensor, b: Tensor) throws { try a.arithmeticInPlace(b, .multiply, "multiply") { $0 * $1 } }
    @inlinable public static func /= (a: inout Tensor, b: Tensor) throws { try a.arithmeticInPlace(b, .divide, "divide") { $0 / $1 } }
    @inlinable public static func += (a: inout Tensor, s: Scalar) { a.scalarArithmeticInPlace(s, .add) { $0 + s } }
    @inlinable public static func -= (a: inout Tensor, s: Scalar) { a.scalarArithmeticInPlace(s, .subtract) { $0 - s } }
    @inlinable public static func *= (a: inout Tensor, s: Scalar) { a.scalarArithmeticInPlace(s, .multiply) { $0 * s } }
    @inlinable public static func /= (a: inout Tensor, s: Scalar) { a.scalarArithmeticInPlace(s, .divide) { $0 / s } }

    /// `self ← self + α·x` (BLAS axpy); shapes must be equal.
    @inlinable
    public mutating func addScaled(_ x: Tensor, _ alpha: Scalar) throws {
        guard x.shape == shape else { throw TensorError.shapeMismatch(operation: "addScaled", lhs: shape, rhs: x.shape) }
        makeUnique()
        Scalar.axpy(n: count, alpha: alpha, x: x.storage.pointer, incx: 1, y: storage.pointer, incy: 1)
    }

    // MARK: Binary functions

    /// Element-wise maximum (numpy `maximum`; NaN propagates).
    @inlinable public func maximum(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "maximum") { $0.isNaN || $0 >= $1 ? $0 : $1 } }
    /// Element-wise minimum (numpy `minimum`; NaN propagates).
    @inlinable public func minimum(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "minimum") { $0.isNaN || $0 <= $1 ? $0 : $1 } }
    @inlinable public func maximum(_ s: Scalar) -> Tensor { map { $0.isNaN || $0 >= s ? $0 : s } }
    @inlinable public func minimum(_ s: Scalar) -> Tensor { map { $0.isNaN || $0 <= s ? $0 : s } }
    /// xʸ element-wise.
    @inlinable public func pow(_ o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "pow") { Scalar.pow($0, $1) } }

    /// Picks `a` where `mask` is non-zero and `b` elsewhere; all three broadcast together (numpy `where`).
    @inlinable
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let sel = try zip(mask, a, "where") { m, _ in m != 0 ? 1 : 0 }
        let aa = try a.broadcast(to: sel.shape)
        let target = try Broadcast.shape(sel.shape, b.shape, "where")
        let m = try sel.broadcast(to: target), x = try aa.broadcast(to: target), y = try b.broadcast(to: target)
        return Tensor(unsafeUninitializedShape: target) { dst, n in
            let pm = m.storage.pointer, px = x.storage.pointer, py = y.storage.pointer
            for i in 0..<n { dst[i] = pm[i] != 0 ? px[i] : py[i] }
        }
    }

    // MARK: Comparisons (results are 1 where true, 0 where false, in the same scalar type)

    @inlinable public func isEqual(to o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "equal") { $0 == $1 ? 1 : 0 } }
    @inlinable public func isLess(than o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "less") { $0 < $1 ? 1 : 0 } }
    @inlinable public func isLessOrEqual(to o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "less_equal") { $0 <= $1 ? 1 : 0 } }
    @inlinable public func isGreater(than o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "greater") { $0 > $1 ? 1 : 0 } }
    @inlinable public func isGreaterOrEqual(to o: Tensor) throws -> Tensor { try Tensor.zip(self, o, "greater_equal") { $0 >= $1 ? 1 : 0 } }
    @inlinable public func isGreater(than s: Scalar) -> Tensor { map { $0 > s ? 1 : 0 } }
    @inlinable public func isLess(than s: Scalar) -> Tensor { map { $0 < s ? 1 : 0 } }
}
