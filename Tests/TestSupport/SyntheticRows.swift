import Linear

/// Small deterministic inputs shared by the command and library tests.
public enum SyntheticRows {
    /// 300 rows in R¹⁶: a 3-D Gaussian signal of scale 6 in a random orthonormal 3-frame plus unit isotropic noise
    /// (seed 1), and the generator after drawing it, for callers that draw more from the same stream.
    public static func lowRank() throws -> (x: Tensor<Double>, generator: RandomGenerator) {
        var g = RandomGenerator(seed: 1)
        let z = Tensor<Double>.normal([300, 3], using: &g)
        let a = try Tensor<Double>.normal([16, 3], using: &g).qr().q.transposed() * 6
        let x = try matmul(z, a) + Tensor<Double>.normal([300, 16], using: &g)
        return (x, g)
    }
}
