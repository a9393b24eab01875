import RealModule

// Unary element-wise functions. Each runs one flat loop over the contiguous buffer (split across threads
// when large); the transcendental ones call the vector kernels of `VectorMath`.

extension Tensor {
    /// eˣ.
    @inlinable public func exp() -> Tensor { unaryKernel(Scalar.vexp) }
    /// x ← e^(c·x) element-wise, in place: one scaling pass, then the vector exp over the whole buffer, with no second
    /// buffer (an N×N kernel matrix stays one N×N allocation). The storage is copied first only if it is shared.
    public mutating func formExp(scaledBy c: Scalar = 1) {
        withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            for i in 0..<p.count { p[i] *= c }
            Scalar.vexp(UnsafePointer(base), base, p.count)
        }
    }
    /// ln x.
    @inlinable public func log() -> Tensor { unaryKernel(Scalar.vlog) }
    /// ln(1 + x), accurate near 0.
    @inlinable public func log1p() -> Tensor { map { Scalar.log(onePlus: $0) } }
    /// eˣ − 1, accurate near 0.
    @inlinable public func expm1() -> Tensor { map { Scalar.expMinusOne($0) } }
    /// √x.
    @inlinable public func sqrt() -> Tensor { map { $0.squareRoot() } }
    /// 1/√x.
    @inlinable public func rsqrt() -> Tensor { map { 1 / $0.squareRoot() } }
    /// x².
    @inlinable public func square() -> Tensor { map { $0 * $0 } }
    /// |x|.
    @inlinable public func abs() -> Tensor { map { Swift.abs($0) } }
    /// −1, 0 or 1 (NaN stays NaN).
    @inlinable public func sign() -> Tensor { map { $0 > 0 ? 1 : ($0 < 0 ? -1 : $0) } }
    /// sin x.
    @inlinable public func sin() -> Tensor { map { Scalar.sin($0) } }
    /// cos x.
    @inlinable public func cos() -> Tensor { map { Scalar.cos($0) } }
    /// tanh x.
    @inlinable public func tanh() -> Tensor { unaryKernel(Scalar.vtanh) }
    /// σ(x) = 1/(1 + e⁻ˣ), computed without overflow for large |x|.
    @inlinable public func sigmoid() -> Tensor { unaryKernel(Scalar.vsigmoid) }
    /// max(x, 0).
    @inlinable public func relu() -> Tensor { map { $0 > 0 ? $0 : 0 } }
    /// x·σ(x) (SiLU, "swish").
    @inlinable public func silu() -> Tensor { unaryKernel(Scalar.vsilu) }
    /// GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as x·σ(2√(2/π)(x + 0.044715x³)) to avoid cancellation.
    @inlinable public func gelu() -> Tensor { unaryKernel(Scalar.vgelu) }
    /// ln(1 + eˣ) = max(x, 0) + ln(1 + e^{−|x|}), stable for large |x|.
    @inlinable public func softplus() -> Tensor {
        map { x in (x > 0 ? x : 0) + Scalar.log(onePlus: Scalar.exp(-Swift.abs(x))) }
    }
    /// xᵖ for a scalar exponent (squares and square roots take the exact fast path).
    @inlinable public func pow(_ p: Scalar) -> Tensor {
        if p == 2 { return square() }
        if p == 1 { return self }
        if p == 0.5 { return sqrt() }
        if p == -1 { return map { 1 / $0 } }
        return map { Scalar.pow($0, p) }
    }
    /// Limits every element to [low, high].
    @inlinable public func clamp(min low: Scalar? = nil, max high: Scalar? = nil) -> Tensor {
        let lo = low ?? -Scalar.infinity, hi = high ?? Scalar.infinity
        return map { $0 < lo ? lo : ($0 > hi ? hi : $0) }
    }

    /// Runs a vector kernel `(src, dst, count)` over the buffer, in parallel chunks when large.
    @inlinable @inline(__always)
    func unaryKernel(_ k: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void) -> Tensor {
        Tensor(unsafeUninitializedShape: shape) { dst, n in
            let p = storage.pointer
            Parallel.forChunks(n, minimum: Parallel.minimumParallelCount / 4) { r in
                k(p + r.lowerBound, dst + r.lowerBound, r.count)
            }
        }
    }

    // MARK: Finiteness

    /// 1 where the element is finite, 0 where it is NaN or ±Inf.
    @inlinable public func isFinite() -> Tensor { map { $0.isFinite ? 1 : 0 } }

    /// True when no element is NaN or ±Inf.
    @inlinable public var allFinite: Bool {
        let p = storage.pointer
        for i in 0..<count where !p[i].isFinite { return false }
        return true
    }

    /// Throws `TensorError.nonFinite` with the count and multi-index of the first NaN/Inf; `context` names the input.
    @inlinable
    public func checkFinite(_ context: String = "tensor") throws {
        let p = storage.pointer
        var first = -1, bad = 0
        for i in 0..<count where !p[i].isFinite { if first < 0 { first = i }; bad += 1 }
        guard bad > 0 else { return }
        var idx = [Int](repeating: 0, count: rank), rem = first
        for ax in stride(from: rank - 1, through: 0, by: -1) { idx[ax] = rem % shape[ax]; rem /= shape[ax] }
        throw TensorError.nonFinite(count: bad, firstIndex: idx, context: context)
    }
}
