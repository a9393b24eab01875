import Linear

/// |a − b| ≤ atol + rtol·|b| (numpy `isclose` semantics; `b` is the reference). NaN matches only NaN, and
/// infinities must be equal.
public func isClose(_ a: Double, _ b: Double, rtol: Double, atol: Double = 0) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a.isInfinite || b.isInfinite { return a == b }
    return Swift.abs(a - b) <= atol + rtol * Swift.abs(b)
}

/// Largest |aᵢ − bᵢ| over two tensors of one shape (+∞ when the shapes differ).
public func maxDifference<S: BLASScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var m = 0.0
    for (x, y) in zip(a.scalars, b.scalars) { m = Swift.max(m, Swift.abs(Double(x) - Double(y))) }
    return m
}
