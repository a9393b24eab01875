// The backward passes of the activations, g ⊙ f′(x), each in one pass over x and g with the vector kernels.

extension Tensor {
    /// g ⊙ silu′(x) for x = self, with silu(x) = x·σ(x) and silu′(x) = σ(x)(1 + x(1 − σ(x))) (Elfwing et al. 2018).
    /// σ is computed into the output buffer and overwritten in place: no temporary.
    @inlinable
    public func siluGradient(_ g: Tensor) throws -> Tensor {
        try activationGradient(g, "siluGradient") { x, gg, o, n in
            Scalar.vsigmoid(x, o, n)
            for i in 0..<n { let s = o[i]; o[i] = gg[i] * s * (1 + x[i] * (1 - s)) }
        }
    }

    /// g ⊙ gelu′(x) for x = self and the tanh form of GELU (Hendrycks & Gimpel 2016), gelu(x) = x·σ(u) with
    /// u = 2c(x + a x³), c = √(2/π), a = 0.044715: gelu′(x) = σ(u) + x·σ(u)(1 − σ(u))·2c(1 + 3a x²).
    @inlinable
    public func geluGradient(_ g: Tensor) throws -> Tensor {
        try activationGradient(g, "geluGradient") { x, gg, o, n in
            let c2 = Scalar(2 * 0.7978845608028654), a = Scalar(0.044715)
            for i in 0..<n { let v = x[i]; o[i] = c2 * (v + a * v * v * v) }
            Scalar.vsigmoid(o, o, n)
            for i in 0..<n { let v = x[i], s = o[i]; o[i] = gg[i] * (s + v * s * (1 - s) * c2 * (1 + 3 * a * v * v)) }
        }
    }

    /// g ⊙ [x > 0] for x = self (the ReLU's gradient, 0 at x = 0).
    @inlinable
    public func reluGradient(_ g: Tensor) throws -> Tensor {
        try activationGradient(g, "reluGradient") { x, gg, o, n in
            for i in 0..<n { o[i] = gg[i] * (x[i] > 0 ? 1 : 0) }
        }
    }

    /// Runs `body(x, g, out, count)` over equal-shaped x = self and g in parallel chunks (the chunks of the forward
    /// activations, `unaryKernel`).
    @inlinable @inline(__always)
    func activationGradient(_ g: Tensor, _ op: String,
                            _ body: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void) throws -> Tensor {
        guard shape == g.shape else { throw TensorError.shapeMismatch(operation: op, lhs: shape, rhs: g.shape) }
        let xp = storage.pointer, gp = g.storage.pointer
        return Tensor(unsafeUninitializedShape: shape) { out, count in
            Parallel.forChunks(count, minimum: Parallel.minimumParallelCount / 4) { r in
                body(xp + r.lowerBound, gp + r.lowerBound, out + r.lowerBound, r.count)
            }
        }
    }
}
