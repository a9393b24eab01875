// Properties of the schedules: conversions, steps, curricula, argument checks.

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

@Suite("Schedules: properties")
struct ScheduleTests {
    let linear = try! DiffusionSchedule()

    @Test("names parse, unknown names are errors")
    func parsing() throws {
        #expect(try BetaSchedule(parsing: "linear") == .linear())
        #expect(try BetaSchedule(parsing: "cosine") == .cosine())
        #expect(try BetaSchedule(parsing: "scaled-linear") == .scaledLinear())
        #expect(throws: ConfigurationError.self) { try BetaSchedule(parsing: "quadratic") }
        #expect(try PredictionTarget(parsing: "v") == .velocity)
        #expect(try PredictionTarget(parsing: "x0") == .sample)
        #expect(throws: ConfigurationError.self) { try PredictionTarget(parsing: "score") }
        #expect(try PosteriorVariance(parsing: "fixed-small") == .betaTilde)
        #expect(try TimestepSpacing(parsing: "Trailing") == .trailing)
        #expect(throws: ConfigurationError.self) { try TimestepSpacing(parsing: "karras") }
        #expect(try ScoreSDE(parsing: "sub-vp") == .subVP())
        #expect(throws: ConfigurationError.self) { try ScoreSDE(parsing: "edm") }
        #expect(throws: ConfigurationError.self) { try DiffusionSchedule(.linear(), timesteps: 1) }
        #expect(throws: ConfigurationError.self) { try DiffusionSchedule(.linear(start: 0.5, end: 1.5), timesteps: 10) }
    }

    @Test("schedule invariants: ᾱ decreasing, α = 1 − β, cosine clipped at 0.999, β̃ ≤ β")
    func invariants() throws {
        for kind in [BetaSchedule.linear(), .cosine(), .scaledLinear()] {
            let s = try DiffusionSchedule(kind)
            #expect(s.timesteps == 1000)
            for t in 1..<1000 { #expect(s.alphaBars[t] < s.alphaBars[t - 1]) }
            for t in 0..<1000 {
                #expect(s.alphas[t] == 1 - s.betas[t])
                #expect(s.posteriorVariance[t] <= s.betas[t])
                #expect(abs(s.sqrtAlphaBars[t] * s.sqrtAlphaBars[t] + s.sqrtOneMinusAlphaBars[t] * s.sqrtOneMinusAlphaBars[t] - 1) < 1e-14)
                #expect(s.posteriorLogVarianceClipped[t].isFinite)
            }
            #expect(s.posteriorLogVarianceClipped[0] == s.posteriorLogVarianceClipped[1])
            #expect(abs(s.logSNR(500) - Foundation.log(s.snr(500))) < 1e-12)
        }
        let cos = try DiffusionSchedule(.cosine())
        #expect(cos.betas.max()! == 0.999)
        #expect(cos.reverseVariance(10, .beta) == cos.betas[10])
    }

    @Test("ε, x₀ and v predictions convert into each other exactly (Float and Double)")
    func conversions() throws {
        var g = RandomGenerator(seed: 1)
        let x0 = Tensor<Double>.normal([6, 5], using: &g), eps = Tensor<Double>.normal([6, 5], using: &g)
        let ts = [0, 1, 100, 487, 900, 999]
        let xt = try linear.addNoise(x0, noise: eps, timesteps: ts)
        // addNoise is √ᾱ x₀ + √(1 − ᾱ) ε row by row.
        for (i, t) in ts.enumerated() {
            for j in 0..<5 { #expect(abs(xt[i, j] - (linear.sqrtAlphaBars[t] * x0[i, j] + linear.sqrtOneMinusAlphaBars[t] * eps[i, j])) < 1e-14) }
        }
        let v = try linear.target(.velocity, x0: x0, noise: eps, timesteps: ts)
        for target in PredictionTarget.allCases {
            let p = try linear.target(target, x0: x0, noise: eps, timesteps: ts)
            #expect(maxDifference(try linear.sample(from: p, target, xt: xt, timesteps: ts), x0) < 1e-9)
            #expect(maxDifference(try linear.epsilon(from: p, target, xt: xt, timesteps: ts), eps) < 1e-9)
            #expect(maxDifference(try linear.velocity(from: p, target, xt: xt, timesteps: ts), v) < 1e-9)
        }
        // Float, one timestep for all rows.
        let xf: Tensor<Float> = x0.cast(), ef: Tensor<Float> = eps.cast()
        let xtf = try linear.addNoise(xf, noise: ef, timesteps: [300])
        let back = try linear.sample(from: ef, .epsilon, xt: xtf, timesteps: [300])
        #expect(maxDifference(back, xf) < 1e-5)
        #expect(throws: TensorError.self) { try linear.addNoise(x0, noise: eps, timesteps: [1, 2]) }
        #expect(throws: ConfigurationError.self) { try linear.addNoise(x0, noise: eps, timesteps: [1000]) }
        #expect(throws: TensorError.self) { try linear.addNoise(x0, noise: eps.slice(0..<3), timesteps: [1]) }
    }

    @Test("coefficients gather per-row values in broadcastable shape")
    func coefficients() throws {
        let c: Tensor<Float> = try linear.coefficients(linear.sqrtAlphaBars, at: [0, 999, 5], rank: 3)
        #expect(c.shape == [3, 1, 1])
        #expect(c[1, 0, 0] == Float(linear.sqrtAlphaBars[999]))
        #expect(throws: TensorError.self) { try linear.coefficients([1, 2], at: [0], as: Double.self) }
    }

    @Test("posterior mean with the true x₀ is the mean of q(x_{t−1} | x_t, x₀) (Bayes, checked by moment matching)")
    func posteriorMean() throws {
        // For scalar x₀ = 0.7, compute the posterior of x_{t−1} given x_t by Gaussian conditioning directly.
        let t = 300, x0v = 0.7, xtv = -0.4
        let ab = linear.alphaBars[t], abp = linear.alphaBars[t - 1], a = linear.alphas[t]
        // x_{t−1} ~ N(√abp x₀, 1 − abp); x_t | x_{t−1} ~ N(√a x_{t−1}, 1 − a).
        let priorVar = 1 - abp, noiseVar = 1 - a
        let postVar = 1 / (1 / priorVar + a / noiseVar)
        let postMean = postVar * (abp.squareRoot() * x0v / priorVar + a.squareRoot() * xtv / noiseVar)
        let mu = try linear.posteriorMean(x0: Tensor<Double>([x0v]).reshaped([1, 1]), xt: Tensor<Double>([xtv]).reshaped([1, 1]), timesteps: [t])
        #expect(abs(mu.scalar - postMean) < 1e-12)
        #expect(abs(linear.posteriorVariance[t] - postVar) < 1e-12)
        _ = ab
    }

    @Test("DDIM with η = 1 and every timestep has DDPM's variance β̃; η scales σ linearly")
    func ddimMatchesDDPM() throws {
        let d = try DDIMSchedule(linear, steps: 1000)
        #expect(d.timesteps == Array((0..<1000).reversed()))
        for (i, t) in d.timesteps.enumerated() {
            let p = d.previous(ofIndex: i)
            #expect(p == t - 1)
            #expect(abs(d.sigma(t, p, eta: 1) * d.sigma(t, p, eta: 1) - linear.posteriorVariance[t]) <= 1e-15 + 1e-12 * linear.posteriorVariance[t])
            #expect(abs(d.sigma(t, p, eta: 0.5) - 0.5 * d.sigma(t, p, eta: 1)) < 1e-15)
        }
        #expect(d.sigma(500, 400, eta: 0) == 0)
    }

    @Test("DDIM steps with the true x₀ and ε land exactly on q(x_p | x₀); η = 0 inversion round-trips")
    func ddimStepAndInversion() throws {
        var g = RandomGenerator(seed: 2)
        let x0 = Tensor<Double>.normal([4, 3], using: &g), eps = Tensor<Double>.normal([4, 3], using: &g)
        let d = try DDIMSchedule(linear, steps: 20, spacing: .trailing)
        let t = d.timesteps[3], p = d.previous(ofIndex: 3)
        let xt = try linear.addNoise(x0, noise: eps, timesteps: [t])
        let xp = try d.step(x0: x0, epsilon: eps, from: t, to: p, eta: 0)
        #expect(maxDifference(xp, try linear.addNoise(x0, noise: eps, timesteps: [p])) < 1e-12)
        // Inversion: from x_p back up to t with the same (x₀, ε) gives x_t.
        let up = try d.step(x0: x0, epsilon: eps, from: p, to: t)
        #expect(maxDifference(up, xt) < 1e-12)
        // The last step (to p = −1, ᾱ = 1) returns x̂₀.
        let last = try d.step(x0: x0, epsilon: eps, from: d.timesteps.last!, to: -1)
        #expect(maxDifference(last, x0) < 1e-12)
        // η > 0 without noise is an error; with zero noise it is the mean.
        #expect(throws: ConfigurationError.self) { try d.step(x0: x0, epsilon: eps, from: t, to: p, eta: 1) }
        let mean = try d.step(x0: x0, epsilon: eps, from: t, to: p, eta: 1, noise: Tensor<Double>.zeros([4, 3]))
        #expect(mean.allFinite)
    }

    @Test("DDPM ancestral step: the mean is μ̃, the noise has σ = √β̃ (or √β), none at t = 0")
    func ancestral() throws {
        var g = RandomGenerator(seed: 3)
        let x0 = Tensor<Double>.normal([2, 3], using: &g), xt = Tensor<Double>.normal([2, 3], using: &g)
        let z = Tensor<Double>.ones([2, 3])
        let mu = try linear.posteriorMean(x0: x0, xt: xt, timesteps: [50])
        let small = try linear.ancestralStep(xt: xt, x0: x0, timestep: 50, variance: .betaTilde, noise: z)
        let large = try linear.ancestralStep(xt: xt, x0: x0, timestep: 50, variance: .beta, noise: z)
        #expect(maxDifference(try small - mu, Tensor.full([2, 3], linear.posteriorVariance[50].squareRoot())) < 1e-14)
        #expect(maxDifference(try large - mu, Tensor.full([2, 3], linear.betas[50].squareRoot())) < 1e-14)
        let atZero = try linear.ancestralStep(xt: xt, x0: x0, timestep: 0, noise: nil)
        #expect(maxDifference(atZero, try linear.posteriorMean(x0: x0, xt: xt, timesteps: [0])) == 0)
        // At t = 0 the posterior mean is x₀ itself (c₁ = β₀/(1 − ᾱ₀) = 1 up to rounding, c₂ = 0 exactly).
        #expect(linear.posteriorMeanCoefficientXt[0] == 0)
        #expect(maxDifference(atZero, x0) < 1e-12)
    }

    @Test("DDIM rejects impossible step counts and offsets")
    func ddimErrors() throws {
        #expect(throws: ConfigurationError.self) { try DDIMSchedule(linear, steps: 0) }
        #expect(throws: ConfigurationError.self) { try DDIMSchedule(linear, steps: 1001) }
        #expect(throws: ConfigurationError.self) { try DDIMSchedule(linear, steps: 1000, offset: 1) }   // 999 + 1 = T
        #expect(throws: ConfigurationError.self) { try DDIMSchedule(linear, steps: 5, offset: -1) }
        #expect(throws: ConfigurationError.self) { try DDIMSchedule(linear, steps: 5, finalAlphaBar: 0) }
        let d = try DDIMSchedule(linear, steps: 5, finalAlphaBar: linear.alphaBars[0])
        #expect(d.alphaBar(-1) == linear.alphaBars[0])
    }

    @Test("SDE perturbation, reverse drifts and weights follow their formulas")
    func sde() throws {
        var g = RandomGenerator(seed: 4)
        let x0 = Tensor<Double>.normal([3, 2], using: &g), z = Tensor<Double>.normal([3, 2], using: &g)
        for sde in [ScoreSDE.vp(), .subVP(), .ve()] {
            try sde.validate()
            let times = [0.1, 0.5, 1.0]
            let xt = try sde.perturb(x0, noise: z, times: times)
            for (i, t) in times.enumerated() {
                for j in 0..<2 { #expect(abs(xt[i, j] - (sde.marginalMeanCoefficient(t) * x0[i, j] + sde.marginalStd(t) * z[i, j])) < 1e-12) }
            }
            // With the exact score of the kernel, −z/s(t), the probability-flow drift is f − ½g²·score.
            let t = 0.3, s = sde.marginalStd(t)
            let score = z * (-1 / s)
            #expect(maxDifference(try sde.scoreTarget(noise: z, times: [t]), score) < 1e-14)
            let pf = try sde.reverseDrift(x0, score: score, t, probabilityFlow: true)
            let rev = try sde.reverseDrift(x0, score: score, t)
            let g2 = sde.diffusion(t) * sde.diffusion(t)
            for j in 0..<2 {
                #expect(abs(pf[0, j] - (sde.driftCoefficient(t) * x0[0, j] - 0.5 * g2 * score[0, j])) < 1e-12)
                #expect(abs(rev[0, j] - (sde.driftCoefficient(t) * x0[0, j] - g2 * score[0, j])) < 1e-12)
            }
            #expect(maxDifference(sde.drift(x0, t), x0 * sde.driftCoefficient(t)) < 1e-15)
            #expect(abs(sde.lossWeight(t) - s * s) < 1e-15)
            #expect(abs(sde.lossWeight(t, .likelihood) - g2) < 1e-12)
            // The kernel variance solves ds²/dt = 2a(t)s² + g(t)², s(0) = 0 (checked by central differences).
            let h = 1e-6
            let ds2 = (sde.marginalStd(t + h) * sde.marginalStd(t + h) - sde.marginalStd(t - h) * sde.marginalStd(t - h)) / (2 * h)
            #expect(abs(ds2 - 2 * sde.driftCoefficient(t) * s * s - g2) < 1e-5 * g2)
        }
        #expect(ScoreSDE.ve().priorStd == 50)
        #expect(ScoreSDE.vp().priorStd == 1)
        #expect(throws: ConfigurationError.self) { try ScoreSDE.ve(sigmaMin: 1, sigmaMax: 0.5).validate() }
        #expect(throws: ConfigurationError.self) { try ScoreSDE.ve(fittedTo: Tensor<Double>.zeros([3, 2])) }
        #expect(throws: ConfigurationError.self) { try ScoreSDE.vp().scoreTarget(noise: Tensor<Double>.ones([1, 2]), times: [0]) }
    }

    @Test("consistency: boundary condition, Karras grids, curriculum monotone")
    func consistency() throws {
        let c = try ConsistencySchedule()
        let b = try c.karrasBoundaries(count: 18)
        #expect(b.first == 0.002 && b.last == 80)
        for i in 1..<b.count { #expect(b[i] > b[i - 1]) }
        let s = try c.karrasSigmas(count: 18)
        #expect(s.count == 19 && s.first == 80 && s[17] == 0.002 && s.last == 0)
        // f(x, σ_min) = x whatever the network says.
        var g = RandomGenerator(seed: 5)
        let x = Tensor<Float>.normal([3, 4], using: &g), f = Tensor<Float>.normal([3, 4], using: &g)
        #expect(maxDifference(try c.denoised(x, networkOutput: f, sigmas: [c.sigmaMin]), x) == 0)
        let scaled = try c.scaledInput(x, sigmas: [1, 2, 80])
        #expect(abs(Double(scaled[2, 1]) - Double(x[2, 1]) * c.cIn(80)) < 1e-6)
        // At large σ the model is almost all network: c_skip → 0, c_out → σ_data.
        #expect(c.cSkip(80) < 1e-4 && abs(c.cOut(80) - 0.5) < 1e-3)
        let k = try ConsistencyTrainingSchedule(totalSteps: 1000)
        var last = 0
        for step in stride(from: 0, through: 1000, by: 10) {
            let n = k.discretisation(atStep: step)
            #expect(n >= last)
            last = n
            #expect(k.emaDecay(atStep: step) >= 0.9 && k.emaDecay(atStep: step) < 1)
        }
        #expect(throws: ConfigurationError.self) { try ConsistencySchedule(sigmaMin: 1, sigmaMax: 0.5) }
        #expect(throws: ConfigurationError.self) { try ConsistencyTrainingSchedule(totalSteps: 0) }
        #expect(throws: ConfigurationError.self) { try c.karrasBoundaries(count: 1) }
    }
}
