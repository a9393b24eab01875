import Linear

// Shape operations: every one only moves values, so each backward rule is the adjoint move.

extension Variable {
    /// The same values under `newShape` (one extent may be −1). ∂ = g reshaped back.
    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let out = try value.reshaped(newShape)
        if out.shape == shape { return self }
        return Variable.make("reshape", out, [self]) { g in [try g.reshaped(self.shape)] }
    }

    /// The values as a vector.
    public func flattened() throws -> Variable { try reshaped([count]) }

    /// Inserts an axis of extent 1.
    public func unsqueezed(axis: Int) throws -> Variable {
        var s = shape
        s.insert(1, at: try Tensor<Scalar>.normalizeAxis(axis, rank: rank + 1, "unsqueezed"))
        return try reshaped(s)
    }

    /// Removes an axis of extent 1.
    public func squeezed(axis: Int) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "squeezed")
        guard shape[a] == 1 else { throw TensorError.invalidShape("squeezed: axis \(axis) of shape \(shape) has extent \(shape[a]), not 1") }
        var s = shape; s.remove(at: a)
        return try reshaped(s)
    }

    /// Reorders axes (numpy `transpose(axes)`, PyTorch `permute`). ∂ = g permuted by the inverse permutation.
    public func permuted(_ axes: [Int]) throws -> Variable {
        let out = try AutogradKernels.permute(value, axes)
        let ax = try axes.map { try Tensor<Scalar>.normalizeAxis($0, rank: rank, "permuted") }
        var inverse = [Int](repeating: 0, count: ax.count)
        for (i, a) in ax.enumerated() { inverse[a] = i }
        return Variable.make("permute", out, [self]) { g in [try g.permuted(inverse)] }
    }

    /// The transpose of a matrix (a copy; products take transpose flags instead, see `matmul`).
    public func transposed() throws -> Variable {
        guard rank == 2 else { throw TensorError.invalidShape("transposed: expected a 2-D variable, got shape \(shape); use permuted(_:)") }
        return try permuted([1, 0])
    }

    /// The entries `range` along `axis`. ∂ = g placed back into zeros.
    public func slice(_ range: Range<Int>, axis: Int = 0) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "slice")
        let out = try AutogradKernels.slice(value, range, axis: a)
        if out.shape == shape { return self }
        return Variable.make("slice", out, [self]) { g in [try g.unslice(range, axis: a, shape: self.shape)] }
    }

    /// The adjoint of `slice`: zeros of `shape` with this variable at `range` along `axis`. ∂ = the slice of g.
    public func unslice(_ range: Range<Int>, axis: Int, shape target: [Int]) throws -> Variable {
        Variable.make("unslice", try AutogradKernels.unslice(value, range, axis: axis, shape: target), [self]) { g in
            [try g.slice(range, axis: axis)]
        }
    }

    /// Splits into `parts` equal pieces along `axis` (PyTorch `chunk`).
    public func chunked(_ parts: Int, axis: Int = -1) throws -> [Variable] {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "chunked")
        guard parts > 0, shape[a] % parts == 0 else {
            throw TensorError.invalidShape("chunked: axis \(axis) of shape \(shape) does not split into \(parts) equal parts")
        }
        let n = shape[a] / parts
        return try (0..<parts).map { try slice(($0 * n)..<(($0 + 1) * n), axis: a) }
    }

    /// Joins variables along an existing axis (numpy `concatenate`). ∂ = the matching slices of g.
    public static func concatenate(_ xs: [Variable], axis: Int = 0) throws -> Variable {
        guard let first = xs.first else { throw TensorError.invalidShape("concatenate: no variables given") }
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: first.rank, "concatenate")
        let out = try AutogradKernels.concatenate(xs.map(\.value), axis: a)
        var offsets: [Int] = [0]
        for x in xs { offsets.append(offsets.last! + x.shape[a]) }
        return make("concatenate", out, xs) { g in
            try xs.indices.map { i in xs[i].needsGradient ? try g.slice(offsets[i]..<offsets[i + 1], axis: a) : nil }
        }
    }

    /// Joins equal-shaped variables along a new axis (numpy `stack`).
    public static func stack(_ xs: [Variable], axis: Int = 0) throws -> Variable {
        try concatenate(xs.map { try $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// Rows (first-axis entries) at `indices`, repeats allowed (embedding lookup). ∂ = g scatter-added into zeros.
    public func gather(rows indices: [Int]) throws -> Variable {
        let out = try AutogradKernels.gatherRows(value, indices)
        let rows = shape[0]
        return Variable.make("gather", out, [self]) { g in [try g.scatterAdd(rows: indices, count: rows)] }
    }

    /// The adjoint of `gather(rows:)`: zeros with `count` rows, row `indices[k]` += this variable's row k.
    public func scatterAdd(rows indices: [Int], count rows: Int) throws -> Variable {
        Variable.make("scatterAdd", AutogradKernels.scatterAddRows(value, indices, rows: rows), [self]) { g in
            [try g.gather(rows: indices)]
        }
    }

    /// x[i, indices[i]] for a matrix x [m, c] (the log-probability of each label). ∂ = g at those entries.
    public func pick(_ indices: [Int]) throws -> Variable {
        let c = rank == 2 ? shape[1] : 0
        return Variable.make("pick", try AutogradKernels.pick(value, indices), [self]) { g in [try g.unpick(indices, columns: c)] }
    }

    /// The adjoint of `pick`: zeros [m, c] with this vector's entries at (i, indices[i]).
    public func unpick(_ indices: [Int], columns: Int) throws -> Variable {
        guard rank == 1, shape[0] == indices.count else {
            throw TensorError.invalidShape("unpick: expected a vector of \(indices.count) values, got shape \(shape)")
        }
        return Variable.make("unpick", AutogradKernels.unpick(value, indices, columns: columns), [self]) { g in [try g.pick(indices)] }
    }
}
