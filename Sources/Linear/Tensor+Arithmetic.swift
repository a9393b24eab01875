import RealModule

// Binary element-wise operations with numpy broadcasting.

extension Tensor {
    /// Applies `f` element-wise to `a` and `b` broadcast together.
    ///
    /// Fast paths: equal shapes and scalar operands run one flat loop (split across threads when large); other
    /// shapes coalesce contiguous axes and run an inner loop whose strides are 0 or 1.
    @inlinable @inline(__always)
    public static func zip(_ a: Tensor, _ b: Tensor, _ op: String, _ f: (Scalar, Scalar) -> Scalar) throws -> Tensor {
        if a.shape == b.shape {
            return Tensor(unsafeUninitializedShape: a.shape) { dst, n in
                let p = a.storage.pointer, q = b.storage.pointer
                Parallel.forChunks(n) { r in for i in r { dst[i] = f(p[i], q[i]) } }
            }
        }
        let outShape = try Broadcast.shape(a.shape, b.shape, op)
        if b.count == 1 && outShape == a.shape {
            let s = b.storage.pointer[0]
            return Tensor(unsafeUninitializedShape: outShape) { dst, n in
                let p = a.storage.pointer
                Parallel.forChunks(n) { r in for i in r { dst[i] = f(p[i], s) } }
            }
        }
        if a.count == 1 && outShape == b.shape {
            let s = a.storage.pointer[0]
            return Tensor(unsafeUninitializedShape: outShape) { dst, n in
                let q = b.storage.pointer
                Parallel.forChunks(n) { r in for i in r { dst[i] = f(s, q[i]) } }
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

    /// Applies `f` to every element (split across threads when large).
    @inlinable @inline(__always)
    public func map(_ f: (Scalar) -> Scalar) -> Tensor {
        Tensor(unsafeUninitializedShape: shape) { dst, n in
            let p = storage.pointer
            Parallel.forChunks(n) { r in for i in r { dst[i] = f(p[i]) } }
        }
    }

    /// Applies `f` to every element in place.
    @inlinable @inline(__always)
    public mutating func mapInPlace(_ f: (Scalar) -> Scalar) {
        makeUnique()
        let p = storage.pointer
        Parallel.forChunks(count) { r in for i in r { p[i] = f(p[i]) } }
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
            Parallel.forChunks(count) { r in for i in r { p[i] = f(p[i], q[i]) } }
        } else if other.count == 1 {
            let s = other.storage.pointer[0]
            Parallel.forChunks(count) { r in for i in r { p[i] = f(p[i], s) } }
        } else {
            let (sh, st) = Broadcast.coalesce(shape: shape, strides: [strides, Broadcast.strides(other.shape, to: shape)])
            Tensor.broadcastLoop(shape: sh, sa: st[0], sb: st[1], UnsafePointer(p), other.storage.pointer, p, f)
        }
    }

    // MARK: Operators

    @inlinable public static func + (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, "add") { $0 + $1 } }
    @inlinable public static func - (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, "subtract") { $0 - $1 } }
    @inlinable public static func * (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, "multiply") { $0 * $1 } }
    @inlinable public static func / (a: Tensor, b: Tensor) throws -> Tensor { try zip(a, b, "divide") { $0 / $1 } }

    @inlinable public static func + (a: Tensor, s: Scalar) -> Tensor { a.map { $0 + s } }
    @inlinable public static func - (a: Tensor, s: Scalar) -> Tensor { a.map { $0 - s } }
    @inlinable public static func * (a: Tensor, s: Scalar) -> Tensor { a.map { $0 * s } }
    @inlinable public static func / (a: Tensor, s: Scalar) -> Tensor { let r = 1 / s; return a.map { $0 * r } }
    @inlinable public static func + (s: Scalar, a: Tensor) -> Tensor { a.map { s + $0 } }
    @inlinable public static func - (s: Scalar, a: Tensor) -> Tensor { a.map { s - $0 } }
    @inlinable public static func * (s: Scalar, a: Tensor) -> Tensor { a.map { s * $0 } }
    @inlinable public static func / (s: Scalar, a: Tensor) -> Tensor { a.map { s / $0 } }
    @inlinable public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    @inlinable public static func += (a: inout Tensor, b: Tensor) throws { try a.zipInPlace(b, "add") { $0 + $1 } }
    @inlinable public static func -= (a: inout Tensor, b: Tensor) throws { try a.zipInPlace(b, "subtract") { $0 - $1 } }
    @inlinable public static func *= (a: inout Tensor, b: Tensor) throws { try a.zipInPlace(b, "multiply") { $0 * $1 } }
    @inlinable public static func /= (a: inout Tensor, b: Tensor) throws { try a.zipInPlace(b, "divide") { $0 / $1 } }
    @inlinable public static func += (a: inout Tensor, s: Scalar) { a.mapInPlace { $0 + s } }
    @inlinable public static func -= (a: inout Tensor, s: Scalar) { a.mapInPlace { $0 - s } }
    @inlinable public static func *= (a: inout Tensor, s: Scalar) { a.mapInPlace { $0 * s } }
    @inlinable public static func /= (a: inout Tensor, s: Scalar) { let r = 1 / s; a.mapInPlace { $0 * r } }

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
