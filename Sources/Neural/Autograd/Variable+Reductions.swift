import Linear

// Sums, means, extremes, broadcasting and the softmax family.

extension Variable {
    /// Σ of all elements (rank 0). ∂ = g broadcast to x's shape.
    public func sum() -> Variable {
        Variable.make("sum", AutogradKernels.sumAll(value), [self]) { g in [try g.broadcast(to: self.shape)] }
    }

    /// Mean of all elements (rank 0).
    public func mean() -> Variable { sum() * (1 / Scalar(Swift.max(1, count))) }

    /// Σ along `axis` (negative counts from the end). ∂ = g broadcast back along `axis`.
    public func sum(axis: Int, keepDims: Bool = false) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "sum")
        var kept = shape; kept[a] = 1
        return Variable.make("sum(axis:)", try AutogradKernels.sum(value, axis: a, keepDims: keepDims), [self]) { g in
            [try g.reshaped(kept).broadcast(to: self.shape)]
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepDims: Bool = false) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "mean")
        return try sum(axis: a, keepDims: keepDims) * (1 / Scalar(Swift.max(1, shape[a])))
    }

    /// Biased (ddof 0) or unbiased variance along `axis`: Σ(x − x̄)²/(n − ddof).
    public func variance(axis: Int, ddof: Int = 0, keepDims: Bool = false) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "variance")
        let centred = try self - mean(axis: a, keepDims: true)
        return try centred.square().sum(axis: a, keepDims: keepDims) * (1 / Scalar(shape[a] - ddof))
    }

    /// Maximum along `axis`. ∂ = g at the maximum (shared equally between ties), 0 elsewhere.
    public func max(axis: Int, keepDims: Bool = false) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "max")
        let m = try AutogradKernels.max(value, axis: a, keepDims: true)
        let out = keepDims ? m : try m.reshaped(Array(shape.enumerated().filter { $0.offset != a }.map(\.element)))
        return Variable.make("max(axis:)", out, [self]) { g in
            let mask = try AutogradKernels.argmaxMask(self.value, m, axis: a)
            return [try g.reshaped(m.shape).broadcast(to: self.shape) * mask]
        }
    }

    /// Sums this variable down to `shape`, the inverse of broadcasting (leading axes and axes where `shape`
    /// has extent 1 are summed). ∂ = g broadcast back.
    public func sum(toShape target: [Int]) throws -> Variable {
        if shape == target { return self }
        return Variable.make("sumTo", try AutogradKernels.sumTo(value, target), [self]) { g in [try g.broadcast(to: self.shape)] }
    }

    /// This variable repeated to `target` by numpy broadcasting. ∂ = g summed back to this shape.
    public func broadcast(to target: [Int]) throws -> Variable {
        if shape == target { return self }
        return Variable.make("broadcast", try AutogradKernels.broadcast(value, to: target), [self]) { g in [try g.sum(toShape: self.shape)] }
    }

    /// log Σ exp(x) along `axis`, stable. ∂ = g·softmax(x).
    public func logsumexp(axis: Int = -1, keepDims: Bool = false) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "logsumexp")
        var kept = shape; kept[a] = 1
        return Variable.make("logsumexp", try AutogradKernels.logsumexp(value, axis: a, keepDims: keepDims), [self]) { g in
            [try g.reshaped(kept) * self.softmax(axis: a)]
        }
    }

    /// exp(x)/Σexp(x) along `axis` (default: last). ∂ = y⊙(g − Σ g⊙y).
    public func softmax(axis: Int = -1) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "softmax")
        let y = try AutogradKernels.softmax(value, axis: a)
        return Variable.make("softmax", y, [self]) { g in
            if GradMode.isEnabled {
                let s = try self.softmax(axis: a)
                return [try s * (g - (g * s).sum(axis: a, keepDims: true))]
            }
            return [Variable(try AutogradKernels.softmaxBackward(y, g.value, axis: a))]
        }
    }

    /// x − logsumexp(x) along `axis` (default: last). ∂ = g − softmax(x)·Σg.
    public func logSoftmax(axis: Int = -1) throws -> Variable {
        let a = try Tensor<Scalar>.normalizeAxis(axis, rank: rank, "logSoftmax")
        let y = try AutogradKernels.logSoftmax(value, axis: a)
        return Variable.make("logSoftmax", y, [self]) { g in
            if GradMode.isEnabled {
                return [try g - self.softmax(axis: a) * g.sum(axis: a, keepDims: true)]
            }
            return [Variable(try AutogradKernels.logSoftmaxBackward(y, g.value, axis: a))]
        }
    }

    /// Σx² (rank 0).
    public func sumOfSquares() -> Variable { square().sum() }

    /// ‖x‖₂ of all elements (rank 0), with ∂ = g·x/‖x‖ (a tiny ε keeps it finite at 0).
    public func norm(epsilon: Scalar = 0) -> Variable {
        (square().sum() + epsilon).sqrt()
    }

    /// ‖x‖₂ along `axis`: √(Σx² + ε).
    public func norm(axis: Int, keepDims: Bool = false, epsilon: Scalar = 0) throws -> Variable {
        (try square().sum(axis: axis, keepDims: keepDims) + epsilon).sqrt()
    }
}
