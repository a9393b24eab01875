
/// x·Wᵀ + b [m, n] for x [m, k], W [n, k] and b [n] (nil: no bias): a dense layer's forward product, as one gemm
/// whose output starts as the broadcast bias (β = 1), so the bias costs no separate pass. 2mnk flops.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func affine<S: BLASScalar>(_ x: Tensor<S>, weight w: Tensor<S>, bias b: Tensor<S>?) throws -> Tensor<S> {
    guard x.rank == 2, w.rank == 2, x.shape[1] == w.shape[1] else {
        throw TensorError.shapeMismatch(operation: "linear (x [m, k] · weight [n, k]ᵀ)", lhs: x.shape, rhs: w.shape)
    }
    let m = x.shape[0], k = x.shape[1], n = w.shape[0]
    if let b, b.shape != [n] {
        throw TensorError.shapeMismatch(operation: "linear (bias must be [out])", lhs: w.shape, rhs: b.shape)
    }
    return Tensor(unsafeUninitializedShape: [m, n]) { c, count in
        if count == 0 { return }
        if let b {
            b.withUnsafeBufferPointer { pb in for i in 0..<m { (c + i &* n).update(from: pb.baseAddress!, count: n) } }
        }
        if k == 0 { if b == nil { for i in 0..<count { c[i] = 0 } }; return }
        x.withUnsafeBufferPointer { px in
            w.withUnsafeBufferPointer { pw in
                S.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: px.baseAddress!, lda: k,
                       b: pw.baseAddress!, ldb: k, beta: b == nil ? 0 : 1, c: c, ldc: n)
            }
        }
    }
}
