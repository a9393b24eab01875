extension Tensor {
    /// A tensor of the given shape with every element equal to `value`.
    @inlinable
    public init(repeating value: Scalar, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(repeating:shape:): negative extent in \(shape)")
        self.init(storage: TensorStorage(repeating: value, count: shape.reduce(1, *)), shape: shape)
    }

    /// Zeros of the given shape (numpy `zeros`).
    @inlinable public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of the given shape (numpy `ones`).
    @inlinable public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }
    /// `value` everywhere (numpy `full`).
    @inlinable public static func full(_ shape: [Int], _ value: Scalar) -> Tensor { Tensor(repeating: value, shape: shape) }
    /// Zeros shaped like `other`.
    @inlinable public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// The identity matrix of size n×n, or n×m when `columns` is given (numpy `eye`).
    @inlinable
    public static func eye(_ n: Int, columns m: Int? = nil) -> Tensor {
        let m = m ?? n
        var t = zeros([n, m])
        t.makeUnique()
        let p = t.storage.pointer
        for i in 0..<Swift.min(n, m) { p[i * m + i] = 1 }
        return t
    }

    /// start, start+step, … up to but excluding `end` (numpy `arange`).
    @inlinable
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw TensorError.invalidArgument("arange: start, end and step must be finite and step non-zero (got \(start), \(end), \(step))")
        }
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(unsafeUninitializedShape: [n]) { p, n in
            for i in 0..<n { p[i] = start + Scalar(i) * step }
        }
    }

    /// 0, 1, …, n−1.
    @inlinable public static func arange(_ n: Int) -> Tensor {
        Tensor(unsafeUninitializedShape: [Swift.max(0, n)]) { p, count in for i in 0..<count { p[i] = Scalar(i) } }
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (numpy `linspace`).
    @inlinable
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) throws -> Tensor {
        guard count >= 0 else { throw TensorError.invalidArgument("linspace: count must be non-negative, got \(count)") }
        return Tensor(unsafeUninitializedShape: [count]) { p, n in
            if n == 1 { p[0] = start; return }
            let step = (end - start) / Scalar(n - 1)
            for i in 0..<n { p[i] = start + Scalar(i) * step }
            if n > 1 { p[n - 1] = end }
        }
    }

    // MARK: Random

    /// Uniform samples in [low, high).
    @inlinable
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, using g: inout RandomGenerator) -> Tensor {
        let lo = Double(low), width = Double(high) - Double(low)
        return Tensor(unsafeUninitializedShape: shape) { p, n in
            for i in 0..<n {
                let v = Scalar(lo + width * g.nextUniform())
                p[i] = v < high ? v : high.nextDown   // rounding to Scalar can reach `high`; keep the interval half-open
            }
        }
    }

    /// Normal samples with the given mean and standard deviation.
    @inlinable
    public static func normal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1, using g: inout RandomGenerator) -> Tensor {
        let m = Double(mean), s = Double(std)
        return Tensor(unsafeUninitializedShape: shape) { p, n in
            for i in 0..<n { p[i] = Scalar(m + s * g.nextNormal()) }
        }
    }

    /// 1 with probability `p`, else 0.
    @inlinable
    public static func bernoulli(_ shape: [Int], probability prob: Double, using g: inout RandomGenerator) throws -> Tensor {
        guard prob >= 0, prob <= 1 else { throw TensorError.invalidArgument("bernoulli: probability must be in [0, 1], got \(prob)") }
        return Tensor(unsafeUninitializedShape: shape) { p, n in
            for i in 0..<n { p[i] = g.nextUniform() < prob ? 1 : 0 }
        }
    }

    /// Seeded convenience forms: a fresh generator from `seed`.
    @inlinable
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed); return uniform(shape, low: low, high: high, using: &g)
    }
    @inlinable
    public static func normal(_ shape: [Int], mean: Scalar = 0, std: Scalar = 1, seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed); return normal(shape, mean: mean, std: std, using: &g)
    }
}
