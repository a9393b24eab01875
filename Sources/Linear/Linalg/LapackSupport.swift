extension Tensor {
    /// Throws unless this is a square matrix; `op` names the caller.
    @inlinable
    func requireSquare(_ op: String) throws -> Int {
        guard rank == 2, shape[0] == shape[1] else {
            throw TensorError.invalidShape("\(op): expected a square matrix, got shape \(shape)")
        }
        return shape[0]
    }

    /// Throws unless this is a matrix.
    @inlinable
    func requireMatrix(_ op: String) throws {
        guard rank == 2 else { throw TensorError.invalidShape("\(op): expected a 2-D matrix, got shape \(shape)") }
    }

    /// A fresh buffer holding this m×n row-major matrix in column-major order (its transpose, row-major).
    @inlinable
    func columnMajorCopy() -> TensorStorage<Scalar> {
        let s = TensorStorage<Scalar>(uninitializedCount: count)
        Tensor.transposeKernel(storage.pointer, s.pointer, rows: shape[0], cols: shape[1])
        return s
    }

    /// A row-major tensor of shape [rows, cols] read from a column-major buffer with leading dimension `ld`.
    @inlinable
    static func fromColumnMajor(_ p: UnsafePointer<Scalar>, rows: Int, cols: Int, ld: Int) -> Tensor {
        Tensor(unsafeUninitializedShape: [rows, cols]) { dst, _ in
            for j in 0..<cols {
                let col = p + j * ld
                for i in 0..<rows { dst[i &* cols &+ j] = col[i] }
            }
        }
    }
}

/// Converts a non-zero LAPACK `info` into a thrown error with a readable message.
@inlinable
func lapackCheck(_ info: LapackInt, _ routine: String, _ positive: (Int) -> String) throws {
    if info == 0 { return }
    if info < 0 {
        throw TensorError.lapack(routine: routine, info: Int(info), message: "argument \(-info) had an illegal value (a bug in Linear; please report it)")
    }
    throw TensorError.lapack(routine: routine, info: Int(info), message: positive(Int(info)))
}
