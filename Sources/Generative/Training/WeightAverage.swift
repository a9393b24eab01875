import Linear
import Neural

/// The exponential moving average of a network's weights that a model samples with (Polyak & Juditsky 1992; the
/// "EMA" of DDPM, Ho et al. 2020, and of GAN generators, Yazıcı et al. 2019). After optimiser update u:
///
///     θ̄ ← d_u·θ̄ + (1 − d_u)·θ,   d_u = min(d, (1 + u)/(10 + u)),
///
/// the warm-up keeping the first averages close to the fresh weights. Model files store θ̄ as `ema.<path>` (the
/// parameter's path) beside `ema_updates`. One implementation for the denoising models, the GAN's generator and
/// latent diffusion's prior, so the three average, save and load alike.
enum WeightAverage {
    /// Folds `parameters` (in the order of `weights`) into the average and counts the update.
    static func update<S: BLASScalar>(_ weights: inout [Tensor<S>], updates: inout Int, from parameters: [Variable<S>], decay: Double) throws {
        let d = Swift.min(decay, Double(1 + updates) / Double(10 + updates))
        for (i, p) in parameters.enumerated() {
            var e = weights[i]
            weights[i] = Tensor(scalar: 0)      // e is the only reference: scaled and accumulated in place
            e *= S(d)
            try e.addScaled(p.value, S(1 - d))
            weights[i] = e
        }
        updates += 1
    }

    /// `ema.<path>` for each named parameter's average and `ema_updates`.
    static func buffers<S: BLASScalar>(_ weights: [Tensor<S>], updates: Int, names: [(name: String, parameter: Variable<S>)]) -> [String: Tensor<S>] {
        var b: [String: Tensor<S>] = ["ema_updates": Tensor(scalar: S(updates))]
        for ((n, _), w) in zip(names, weights) { b["ema." + n] = w }
        return b
    }

    /// The average stored in `b` for the named parameters, or nil when `b` holds none (`ema.` keys); a missing or
    /// mis-shaped entry is a `ModelStateError` whose message starts with `label` (e.g. "EMA weight").
    static func load<S: BLASScalar>(_ b: [String: Tensor<S>], names: [(name: String, parameter: Variable<S>)], label: String) throws -> (weights: [Tensor<S>], updates: Int)? {
        guard b.keys.contains(where: { $0.hasPrefix("ema.") }) else { return nil }
        let weights = try names.map { n, p in
            guard let w = b["ema." + n] else { throw ModelStateError(reason: "\(label) '\(n)' is missing") }
            guard w.shape == p.shape else { throw ModelStateError(reason: "\(label) '\(n)' has shape \(w.shape), expected \(p.shape)") }
            return w
        }
        return (weights, Int(b["ema_updates"]?.scalars.first ?? 0))
    }

    /// Runs `body` with `weights` in `parameters`, then puts the trained values back.
    static func withWeights<S: BLASScalar, R>(_ weights: [Tensor<S>], in parameters: [Variable<S>], _ body: () throws -> R) rethrows -> R {
        let saved = parameters.map(\.value)
        for (p, w) in zip(parameters, weights) { p.value = w }
        defer { for (p, v) in zip(parameters, saved) { p.value = v } }
        return try body()
    }
}
