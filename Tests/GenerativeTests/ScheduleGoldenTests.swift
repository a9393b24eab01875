// Schedules against the published reference values of issue #5 and numpy (data/golden/make_generative_golden.py).

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

@Suite("Schedules: published values and numpy golden values")
struct ScheduleGoldenTests {
    // MARK: Published values (to the digits they were published with)

    @Test("DDPM linear, T = 1000: β̃₀ = 0, β̃₄₈₇ = 0.00979, β̃₉₉₉ = 0.02, ᾱ₉₉₉ = 4.0358e-5")
    func ddpmLinearPublished() throws {
        let s = try DiffusionSchedule(.linear(), timesteps: 1000)
        #expect(s.posteriorVariance[0] == 0)
        #expect(abs(s.posteriorVariance[487] - 0.00979) < 1e-5)
        #expect(abs(s.posteriorVariance[999] - 0.02) < 1e-5)
        #expect(abs(s.alphaBars[999] - 4.0358e-5) < 1e-9)
        #expect(significant(s.alphaBars[999], 5) == 4.0358e-5)
        #expect(significant(s.posteriorVariance[487], 3) == 0.00979)
    }

    @Test("scaled-linear 0.00085 → 0.012 gives ᾱ₉₉₉ = 0.00466")
    func scaledLinearPublished() throws {
        let s = try DiffusionSchedule(.scaledLinear(), timesteps: 1000)
        #expect(significant(s.alphaBars[999], 3) == 0.00466)
    }

    @Test("DDIM variance(420, 400) = 0.14771, (980, 960) = 0.32460; 5 steps with offset 1 → [801, 601, 401, 201, 1]")
    func ddimPublished() throws {
        let base = try DiffusionSchedule()
        let d = try DDIMSchedule(base, steps: 5, spacing: .leading, offset: 1)
        #expect(d.timesteps == [801, 601, 401, 201, 1])
        // Published (diffusers' test_variance) to 1e-5; the previous timestep is the previous *sampling* timestep.
        #expect(abs(d.variance(420, 400) - 0.14771) < 1e-5)
        #expect(abs(d.variance(980, 960) - 0.32460) < 1e-5)
        #expect(abs(d.variance(0, 0) - 0) < 1e-5)
        #expect(abs(d.variance(487, 486) - 0.00979) < 1e-5)
        #expect(abs(d.variance(999, 998) - 0.02) < 1e-5)
        // The other convention (ᾱ of t − 1 whatever the step) would not give them.
        #expect(abs(d.variance(420, 419) - 0.14771) > 0.1)
    }

    @Test("VP SDE at t = 1: mean coefficient 0.006572, std 0.99998")
    func vpPublished() {
        let sde = ScoreSDE.vp()
        #expect(significant(sde.marginalMeanCoefficient(1), 4) == 0.006572)
        #expect(significant(sde.marginalStd(1), 5) == 0.99998)
    }

    @Test("consistency: c_skip(1) = 0.20064, c_out(1) = 0.44632, c_skip(σ_min) = 1, c_out(σ_min) = 0, N(0) = 2, N(K) = 151")
    func consistencyPublished() throws {
        let c = try ConsistencySchedule()
        #expect(significant(c.cSkip(1), 5) == 0.20064)
        #expect(significant(c.cOut(1), 5) == 0.44632)
        #expect(c.cSkip(c.sigmaMin) == 1)
        #expect(c.cOut(c.sigmaMin) == 0)
        let n = try ConsistencyTrainingSchedule(totalSteps: 800_000)
        #expect(n.discretisation(atStep: 0) == 2)
        #expect(n.discretisation(atStep: 800_000) == 151)
        #expect(n.discretisation(atStep: 10_000_000) == 151)  // clamped
        // μ(0) = exp(2·log 0.9 / 2) = 0.9.
        #expect(abs(n.emaDecay(atStep: 0) - 0.9) < 1e-15)
    }

    // MARK: numpy

    @Test("linear, cosine and scaled-linear schedules match numpy at the probe timesteps", arguments: [
        ("linear", BetaSchedule.linear()), ("cosine", .cosine()), ("scaled_linear", .scaledLinear()),
    ])
    func schedules(_ key: String, _ kind: BetaSchedule) throws {
        let golden = try GenerativeGolden()
        let probe = golden.ints("probe_timesteps")
        let g = golden.section(key)
        let s = try DiffusionSchedule(kind, timesteps: 1000)
        func at(_ v: [Double]) -> [Double] { probe.map { v[$0] } }
        #expect(maxRelativeDifference(at(s.betas), doubles(g, "betas")) < 1e-12)
        #expect(maxRelativeDifference(at(s.alphaBars), doubles(g, "alphas_cumprod")) < 1e-11)
        #expect(maxRelativeDifference(at(s.sqrtOneMinusAlphaBars), doubles(g, "sqrt_one_minus_alphas_cumprod")) < 1e-12)
        #expect(maxRelativeDifference(at(s.posteriorVariance), doubles(g, "posterior_variance"), floor: 1e-30) < 1e-11)
        #expect(maxRelativeDifference(at(s.posteriorLogVarianceClipped), doubles(g, "posterior_log_variance_clipped")) < 1e-11)
        #expect(maxRelativeDifference(at(s.posteriorMeanCoefficientX0), doubles(g, "posterior_mean_coef1")) < 1e-11)
        #expect(maxRelativeDifference(at(s.posteriorMeanCoefficientXt), doubles(g, "posterior_mean_coef2"), floor: 1e-30) < 1e-11)
        #expect(maxRelativeDifference(probe.map(s.snr), doubles(g, "snr")) < 1e-11)
    }

    @Test("DDIM timesteps match diffusers' leading / trailing / linspace for many step counts")
    func ddimTimesteps() throws {
        let golden = try GenerativeGolden()
        let cases = golden.json["ddim_timesteps"] as! [[String: Any]]
        #expect(cases.count >= 20)
        for c in cases {
            let spacing = try TimestepSpacing(parsing: c["spacing"] as! String)
            let n = c["steps"] as! Int, offset = c["offset"] as! Int
            let expected = ints(c, "timesteps")
            let got = try DDIMSchedule.timesteps(count: n, trainingTimesteps: 1000, spacing: spacing, offset: offset)
            #expect(got == expected, "\(spacing) n = \(n) offset = \(offset)")
        }
    }

    @Test("DDIM variances match numpy, including the step past the end (ᾱ = 1)")
    func ddimVariance() throws {
        let golden = try GenerativeGolden()
        let g = golden.section("ddim_variance")
        let pairs = (g["pairs"] as! [[Any]]).map { $0.map { ($0 as! NSNumber).intValue } }
        let d = try DDIMSchedule(DiffusionSchedule(), steps: 10)
        let got = pairs.map { d.variance($0[0], $0[1]) }
        for (x, y) in zip(got, doubles(g, "variance")) { #expect(abs(x - y) <= 1e-14 + 1e-11 * abs(y)) }
    }

    @Test("VP, sub-VP and VE marginals, drifts and diffusions match score_sde's formulas")
    func sdes() throws {
        let g = try GenerativeGolden().section("sde")
        let times = doubles(g, "times")
        let vp = ScoreSDE.vp(), sub = ScoreSDE.subVP(), ve = ScoreSDE.ve()
        func check(_ got: [Double], _ key: String, _ tol: Double = 1e-12) {
            #expect(maxRelativeDifference(got, doubles(g, key), floor: 1e-12) < tol, "\(key)")
        }
        check(times.map(vp.marginalMeanCoefficient), "vp_mean")
        check(times.map(sub.marginalMeanCoefficient), "vp_mean")
        // 1 − e^{−B} by expm1 is more accurate than numpy's 1 − exp at t = 1e-5 (relative 1e-11 there).
        check(times.map(vp.marginalStd), "vp_std", 1e-9)
        check(times.map(vp.diffusion), "vp_diffusion")
        check(times.map(vp.driftCoefficient), "vp_drift_coefficient")
        check(times.map(sub.marginalStd), "subvp_std", 1e-9)
        check(times.map(sub.diffusion), "subvp_diffusion", 1e-9)
        check(times.map(ve.marginalStd), "ve_std")
        check(times.map(ve.diffusion), "ve_diffusion")
        #expect(times.allSatisfy { ve.marginalMeanCoefficient($0) == 1 && ve.driftCoefficient($0) == 0 })
    }

    @Test("consistency scalings, Karras boundaries and the N(k), μ(k) curriculum match numpy")
    func consistency() throws {
        let g = try GenerativeGolden().section("consistency")
        let c = try ConsistencySchedule()
        let sig = doubles(g, "sigmas")
        #expect(maxRelativeDifference(sig.map(c.cSkip), doubles(g, "c_skip")) < 1e-14)
        #expect(maxRelativeDifference(sig.map(c.cOut), doubles(g, "c_out"), floor: 1e-30) < 1e-14)
        #expect(maxRelativeDifference(sig.map(c.cIn), doubles(g, "c_in")) < 1e-14)
        #expect(maxRelativeDifference(try c.karrasBoundaries(count: 18), doubles(g, "karras18")) < 1e-12)
        #expect(maxRelativeDifference(try c.karrasBoundaries(count: 40), doubles(g, "karras40")) < 1e-12)
        let sched = try ConsistencyTrainingSchedule(totalSteps: g["total_steps"] as! Int)
        let ks = ints(g, "ks")
        #expect(ks.map(sched.discretisation) == ints(g, "N"))
        #expect(maxRelativeDifference(ks.map(sched.emaDecay), doubles(g, "mu")) < 1e-14)
    }

    @Test("largest pairwise distance matches scipy's pdist")
    func pairwise() throws {
        let g = try GenerativeGolden().section("pairwise")
        let x = try Tensor<Double>(doubles(g, "x"), shape: [g["rows"] as! Int, g["cols"] as! Int])
        let expected = (g["largest"] as! NSNumber).doubleValue
        #expect(abs(try PairwiseDistance.largest(x) - expected) < 1e-12 * expected)
        #expect(abs(try PairwiseDistance.largest(x.cast(to: Float.self)) - expected) < 1e-5 * expected)
        let sde = try ScoreSDE.ve(fittedTo: x)
        #expect(sde == .ve(sigmaMin: 0.01, sigmaMax: try PairwiseDistance.largest(x)))
    }
}
