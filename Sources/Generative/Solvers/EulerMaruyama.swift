import Linear

/// The Euler–Maruyama scheme for dx = f(t, x)dt + G(t, x)·dw on a time grid t₀, t₁, … (either direction):
///
///     x_{k+1} = x_k + f(t_k, x_k)·h_k + G(t_k, x_k)·√|h_k|·z_k,   h_k = t_{k+1} − t_k,   z_k ~ N(0, I),
///
/// strong order ½, weak order 1. The noise z_k comes from an injected `NoiseSource` as step k of `stream`, rows
/// numbered from `firstRow`, so that a batch's result does not depend on how the samples were batched.
/// For the reverse-time SDE of a diffusion model integrate from t = 1 down to ε with the reverse drift
/// (`ScoreSDE.reverseDrift`); samplers usually skip the noise of the last step (`noiseOnLastStep: false`), returning
/// the mean of the final step as in Song et al.'s code.
public enum EulerMaruyama {
    /// With a scalar diffusion coefficient g(t) (every SDE of Song et al. 2021).
    /// `observe` sees step 0 (the initial state) and each later state.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func solve<S: BLASScalar>(drift f: VectorField<S>, diffusion g: (Double) throws -> Double, initial x0: Tensor<S>,
                                            times: [Double], noise: any NoiseSource, stream: NoiseStream = .sampler, firstRow: Int = 0,
                                            noiseOnLastStep: Bool = true, observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        try solve(drift: f, initial: x0, times: times, noise: noise, stream: stream, firstRow: firstRow,
                  noiseOnLastStep: noiseOnLastStep, observe: observe) { t, x, z, scale, out in
            let gt = try g(t)
            guard gt.isFinite else { throw TensorError.nonFinite(count: 1, firstIndex: [], context: "Euler–Maruyama: diffusion g(\(t)) = \(gt)") }
            try out.addScaled(z, S(gt * scale))
        }
    }

    /// With a diffusion G(t, x) that broadcasts against the state (e.g. shape [], [n, 1] or the state's shape:
    /// a diagonal diffusion).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func solve<S: BLASScalar>(drift f: VectorField<S>, diffusion g: VectorField<S>, initial x0: Tensor<S>,
                                            times: [Double], noise: any NoiseSource, stream: NoiseStream = .sampler, firstRow: Int = 0,
                                            noiseOnLastStep: Bool = true, observe: StepObserver<S>? = nil) throws -> ODESolution<S> {
        try solve(drift: f, initial: x0, times: times, noise: noise, stream: stream, firstRow: firstRow,
                  noiseOnLastStep: noiseOnLastStep, observe: observe) { t, x, z, scale, out in
            let gz = try g(t, x) * z
            guard gz.shape == x.shape else {
                throw TensorError.shapeMismatch(operation: "Euler–Maruyama: the diffusion must broadcast to the state (state, G·z)", lhs: x.shape, rhs: gz.shape)
            }
            try out.addScaled(gz, S(scale))
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func solve<S: BLASScalar>(drift f: VectorField<S>, initial x0: Tensor<S>, times: [Double], noise: any NoiseSource,
                                     stream: NoiseStream, firstRow: Int, noiseOnLastStep: Bool, observe: StepObserver<S>?,
                                     addNoise: (Double, Tensor<S>, Tensor<S>, Double, inout Tensor<S>) throws -> Void) throws -> ODESolution<S> {
        try ODESolver.checkGrid(times, "Euler–Maruyama")
        var stats = SolverStatistics()
        var x = x0
        try observe?(0, times[0], x)
        let steps = times.count - 1
        for k in 0..<steps {
            let t = times[k], h = times[k + 1] - t
            let drift = try evaluate(f, t, x, &stats, "Euler–Maruyama")
            var next = try combine(x, [(h, drift)])
            if noiseOnLastStep || k < steps - 1 {
                let z: Tensor<S> = noise.normal(x.shape, step: k, stream: stream, firstRow: firstRow)
                try addNoise(t, x, z, Swift.abs(h).squareRoot(), &next)
            }
            x = next
            stats.acceptedSteps += 1
            try observe?(k + 1, times[k + 1], x)
        }
        return ODESolution(state: x, time: times[steps], statistics: stats)
    }
}
