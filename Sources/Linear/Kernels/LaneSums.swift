// Sums and dot products of contiguous runs with eight independent accumulators (one SIMD8 register), in the
// tensor's own precision: vectorisable, and about as accurate as pairwise summation over 8 lanes. The row
// reductions of the softmax here and of Neural's normalisation and softmax kernels.

extension Tensor {
    /// Σ p[0..<n], eight lanes then the tail in order.
    @inlinable @inline(__always)
    package static func laneSum(_ p: UnsafePointer<Scalar>, _ n: Int) -> Scalar {
        var acc = SIMD8<Scalar>(repeating: 0)
        var j = 0
        while j &+ 8 <= n {
            acc += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Scalar>.self)
            j &+= 8
        }
        var s = acc.sum()
        while j < n { s += p[j]; j &+= 1 }
        return s
    }

    /// Σ p[j]·q[j] for j < n, accumulated like `laneSum`.
    @inlinable @inline(__always)
    package static func laneDot(_ p: UnsafePointer<Scalar>, _ q: UnsafePointer<Scalar>, _ n: Int) -> Scalar {
        var acc = SIMD8<Scalar>(repeating: 0)
        var j = 0
        while j &+ 8 <= n {
            acc += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Scalar>.self) * UnsafeRawPointer(q + j).loadUnaligned(as: SIMD8<Scalar>.self)
            j &+= 8
        }
        var s = acc.sum()
        while j < n { s += p[j] * q[j]; j &+= 1 }
        return s
    }
}
