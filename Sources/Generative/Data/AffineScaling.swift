import Linear

/// A per-feature affine map between data units and model units, y = x·scale + shift, with its exact inverse
/// x = (y − shift)/scale. `scale` and `shift` hold one value per feature, or one for all features.
/// A model file stores it, so samples come back in the data's original units.
public struct AffineScaling: Sendable, Equatable, Codable {
    public var scale: [Double]
    public var shift: [Double]

    /// y = x·scale + shift; every scale must be finite and non-zero.
    public init(scale: [Double], shift: [Double]) throws {
        guard !scale.isEmpty, !shift.isEmpty else { throw ConfigurationError(field: "AffineScaling.scale", reason: "AffineScaling: scale and shift must not be empty") }
        guard scale.allSatisfy({ $0.isFinite && $0 != 0 }), shift.allSatisfy(\.isFinite) else {
            throw ConfigurationError(field: "AffineScaling.scale", reason: "AffineScaling: scales must be finite and non-zero and shifts finite")
        }
        guard scale.count == shift.count || scale.count == 1 || shift.count == 1 else {
            throw ConfigurationError(field: "AffineScaling.shift", reason: "AffineScaling: \(scale.count) scales but \(shift.count) shifts")
        }
        self.init(validScale: scale, shift: shift)
    }

    /// A map whose scales and shifts the caller knows to be valid (the constants below), without the checks.
    init(validScale scale: [Double], shift: [Double]) {
        self.scale = scale; self.shift = shift
    }

    /// One scale and shift for every feature.
    public init(scale: Double, shift: Double) throws { try self.init(scale: [scale], shift: [shift]) }

    /// The identity map.
    public static let identity = AffineScaling(validScale: [1], shift: [0])

    /// Maps the range [low, high] of every feature onto [−1, 1] (y = 2(x − low)/(high − low) − 1).
    public static func range(_ low: Double, _ high: Double) throws -> AffineScaling {
        guard high > low else { throw ConfigurationError(field: "AffineScaling.range(_:_:)", reason: "AffineScaling.range: need high > low, got \(low) and \(high)") }
        return try AffineScaling(scale: 2 / (high - low), shift: -1 - 2 * low / (high - low))
    }

    /// Standardisation fitted to the rows of [n, D] data: y = (x − mean)/std per feature (features with zero
    /// variance keep scale 1).
    public static func standardizing<S: BLASScalar>(_ data: Tensor<S>) throws -> AffineScaling {
        guard data.rank == 2, data.shape[0] >= 2 else {
            throw TensorError.invalidShape("AffineScaling.standardizing: expected [n ≥ 2, D] data, got shape \(data.shape)")
        }
        let x: Tensor<Double> = data.cast()
        let mean = try x.mean(axis: 0).scalars, std = try x.std(axis: 0).scalars
        let scale = std.map { $0 > 0 && $0.isFinite ? 1 / $0 : 1 }
        return try AffineScaling(scale: scale, shift: zip(mean, scale).map { -$0 * $1 })
    }

    /// Isotropic scaling fitted to the rows of [n, D] data: y = (x − mean)/√λ₁, one scale for every feature, λ₁ the
    /// largest eigenvalue of the sample covariance (so the leading principal direction has unit variance, and
    /// distances and angles keep their ratios). Data on a rank-r manifold standardised feature by feature instead
    /// get variance ≈ D/r along each of their r directions (64 for a 2-D toy in D = 128); here they get ≤ 1, the
    /// scale diffusion noise schedules assume. Cost: one Gram product (syrk) and one symmetric eigensolve, O(nD² + D³).
    public static func isotropic<S: BLASScalar>(_ data: Tensor<S>) throws -> AffineScaling {
        let lambda = try CovarianceSpectrum(of: data, caller: "AffineScaling.isotropic").largest
        let mean = try (data.cast() as Tensor<Double>).mean(axis: 0)
        let scale = lambda > 0 && lambda.isFinite ? 1 / lambda.squareRoot() : 1
        return try AffineScaling(scale: [scale], shift: mean.scalars.map { -$0 * scale })
    }

    /// Whether it does nothing.
    public var isIdentity: Bool { scale.allSatisfy { $0 == 1 } && shift.allSatisfy { $0 == 0 } }

    func check(_ features: Int, _ op: String) throws {
        for (name, v) in [("scales", scale), ("shifts", shift)] where v.count != 1 && v.count != features {
            throw TensorError.invalidShape("\(op): \(v.count) \(name) for data with \(features) features")
        }
    }

    /// y = x·scale + shift over the last axis.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func apply<S: BLASScalar>(_ x: Tensor<S>) throws -> Tensor<S> {
        let d = x.shape.last ?? 1
        try check(d, "AffineScaling.apply")
        return map(x, d) { v, a, b in v * a + b }
    }

    /// x = (y − shift)/scale over the last axis (the exact inverse of `apply`, up to rounding).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func invert<S: BLASScalar>(_ y: Tensor<S>) throws -> Tensor<S> {
        let d = y.shape.last ?? 1
        try check(d, "AffineScaling.invert")
        return map(y, d) { v, a, b in (v - b) / a }
    }

    func map<S: BLASScalar>(_ x: Tensor<S>, _ d: Int, _ f: (Double, Double, Double) -> Double) -> Tensor<S> {
        let sc = (0..<d).map { scale[scale.count == 1 ? 0 : $0] }, sh = (0..<d).map { shift[shift.count == 1 ? 0 : $0] }
        return Tensor(unsafeUninitializedShape: x.shape) { dst, n in
            x.withUnsafeBufferPointer { p in
                for i in 0..<n { let j = i % d; dst[i] = S(f(Double(p[i]), sc[j], sh[j])) }
            }
        }
    }
}
