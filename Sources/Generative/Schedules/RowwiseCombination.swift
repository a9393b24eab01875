import Linear

/// out[i, …] = a_i·u[i, …] + b_i·v[i, …]: a per-row linear combination of two tensors of one shape, the first
/// axis being the batch. `a` and `b` hold one coefficient per row, or one for all rows. One pass, no temporaries.
@_specialize(where S == Float)
@_specialize(where S == Double)
func rowwiseCombination<S: BLASScalar>(_ a: [Double], _ u: Tensor<S>, _ b: [Double], _ v: Tensor<S>, _ op: String) throws -> Tensor<S> {
    guard u.shape == v.shape else { throw TensorError.shapeMismatch(operation: op, lhs: u.shape, rhs: v.shape) }
    guard u.rank >= 1 else { throw TensorError.invalidShape("\(op): expected a batch (rank ≥ 1), got a scalar") }
    let rows = u.shape[0]
    guard a.count == b.count, a.count == rows || a.count == 1 else {
        throw TensorError.invalidShape("\(op): \(a.count) coefficients for \(rows) rows (give one per row, or one for all)")
    }
    let inner = rows == 0 ? 0 : u.count / rows
    return Tensor(unsafeUninitializedShape: u.shape) { dst, _ in
        u.withUnsafeBufferPointer { pu in
            v.withUnsafeBufferPointer { pv in
                let pu = pu.baseAddress, pv = pv.baseAddress
                for i in 0..<rows {
                    let k = a.count == 1 ? 0 : i
                    let ai = S(a[k]), bi = S(b[k])
                    let o = i &* inner
                    for j in 0..<inner { dst[o &+ j] = ai * pu![o &+ j] + bi * pv![o &+ j] }
                }
            }
        }
    }
}

/// out[i, …] = a_i·u[i, …]: a per-row scaling (one coefficient per row, or one for all).
@_specialize(where S == Float)
@_specialize(where S == Double)
func rowwiseScale<S: BLASScalar>(_ a: [Double], _ u: Tensor<S>, _ op: String) throws -> Tensor<S> {
    guard u.rank >= 1 else { throw TensorError.invalidShape("\(op): expected a batch (rank ≥ 1), got a scalar") }
    let rows = u.shape[0]
    guard a.count == rows || a.count == 1 else {
        throw TensorError.invalidShape("\(op): \(a.count) coefficients for \(rows) rows (give one per row, or one for all)")
    }
    let inner = rows == 0 ? 0 : u.count / rows
    return Tensor(unsafeUninitializedShape: u.shape) { dst, _ in
        u.withUnsafeBufferPointer { pu in
            let pu = pu.baseAddress
            for i in 0..<rows {
                let ai = S(a[a.count == 1 ? 0 : i])
                let o = i &* inner
                for j in 0..<inner { dst[o &+ j] = ai * pu![o &+ j] }
            }
        }
    }
}
