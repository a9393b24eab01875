// ODE and SDE solvers: orders of accuracy on linear ODEs with known solutions, adaptive error control,
// statistics, time reversal, Euler–Maruyama moments and batch invariance.

import Foundation
@testable import Generative
import Linear
import Testing
import TestSupport

/// dx/dt = A·x row-wise for x of shape [n, 2], A = [[−½, 2], [−2, −½]]: x(t) = e^{−t/2}·R(−2t)·x₀ (a damped rotation).
private func dampedRotation(_ t: Double, _ x: Tensor<Double>) throws -> Tensor<Double> {
    let a = try Tensor<Double>(rows: [[-0.5, -2], [2, -0.5]])   // rows x·Aᵀ
    return try matmul(x, a)
}

private func dampedRotationSolution(_ x0: Tensor<Double>, _ t: Double) throws -> Tensor<Double> {
    let c = Foundation.cos(2 * t), s = Foundation.sin(2 * t), e = Foundation.exp(-t / 2)
    // x(t) = e^{−t/2}·[[c, s], [−s, c]]·x₀ for column vectors; for rows multiply by the transpose.
    return try matmul(x0, Tensor<Double>(rows: [[c, -s], [s, c]])) * e
}

/// A non-autonomous scalar linear ODE: dx/dt = −2x + cos t, x(0) = x₀ ⇒ x(t) = (x₀ − 2/5)e^{−2t} + (2cos t + sin t)/5.
private func forced(_ t: Double, _ x: Tensor<Double>) throws -> Tensor<Double> { x * -2 + Foundation.cos(t) }
private func forcedSolution(_ x0: Double, _ t: Double) -> Double {
    (x0 - 0.4) * Foundation.exp(-2 * t) + (2 * Foundation.cos(t) + Foundation.sin(t)) / 5
}

@Suite("ODE and SDE solvers")
struct SolverTests {
    let x0 = try! Tensor<Double>(rows: [[1, 0], [0.3, -2], [-1.5, 0.7]])

    func error(_ method: ODEMethod, steps: Int) throws -> Double {
        let sol = try ODESolver.solve(dampedRotation, initial: x0, from: 0, to: 1.5, steps: steps, method: method)
        #expect(sol.statistics.evaluations == steps * method.evaluationsPerStep!)
        #expect(sol.statistics.acceptedSteps == steps && sol.statistics.rejectedSteps == 0)
        return maxDifference(sol.state, try dampedRotationSolution(x0, 1.5))
    }

    @Test("Euler, Heun and RK4 converge at orders 1, 2 and 4 (error ratio ≈ 2^order when the step halves)",
          arguments: [ODEMethod.euler, .heun, .rk4])
    func orderOfAccuracy(_ method: ODEMethod) throws {
        let steps = method == .rk4 ? [12, 24, 48] : [40, 80, 160]
        let errors = try steps.map { try error(method, steps: $0) }
        for i in 1..<errors.count {
            let observed = Foundation.log2(errors[i - 1] / errors[i])
            #expect(abs(observed - Double(method.order)) < 0.15, "\(method): errors \(errors), observed order \(observed)")
        }
    }

    @Test("orders also hold for a non-autonomous ODE (the stage times are right)", arguments: [ODEMethod.euler, .heun, .rk4])
    func nonAutonomousOrder(_ method: ODEMethod) throws {
        let x = Tensor<Double>.full([2, 1], 1.3)
        func err(_ n: Int) throws -> Double {
            let s = try ODESolver.solve(forced, initial: x, from: 0, to: 2, steps: n, method: method)
            return abs(s.state[0, 0] - forcedSolution(1.3, 2))
        }
        let e1 = try err(32), e2 = try err(64)
        #expect(abs(Foundation.log2(e1 / e2) - Double(method.order)) < 0.2, "\(method): \(e1) → \(e2)")
    }

    @Test("integrating backwards in time undoes integrating forwards")
    func backwards() throws {
        let fwd = try ODESolver.solve(dampedRotation, initial: x0, from: 0, to: 1, steps: 50, method: .rk4)
        let back = try ODESolver.solve(dampedRotation, initial: fwd.state, from: 1, to: 0, steps: 50, method: .rk4)
        #expect(maxDifference(back.state, x0) < 1e-6)
        let dp = try DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10).solve(dampedRotation, initial: fwd.state, from: 1, to: 0)
        #expect(maxDifference(dp.state, x0) < 1e-6)
        #expect(dp.time == 0)
    }

    @Test("Dormand–Prince meets its tolerance, and tighter tolerances cost more evaluations", arguments: [1e-3, 1e-6, 1e-9])
    func dopri5Tolerance(_ tol: Double) throws {
        let dp = DormandPrince(relativeTolerance: tol, absoluteTolerance: tol)
        let sol = try dp.solve(dampedRotation, initial: x0, from: 0, to: 3)
        let err = maxDifference(sol.state, try dampedRotationSolution(x0, 3))
        // Local error control keeps the global error within a small multiple of the tolerance.
        #expect(err < 10 * tol, "tolerance \(tol): error \(err), \(sol.statistics)")
        let s = sol.statistics
        // FSAL: one first evaluation, one for the starting step, then six per attempted step.
        #expect(s.evaluations == 2 + 6 * (s.acceptedSteps + s.rejectedSteps))
        #expect(s.acceptedSteps >= 1)
    }

    @Test("Dormand–Prince error control: cost grows as the tolerance shrinks, order ≈ 5 (steps ∝ tol^{-1/5})")
    func dopri5Cost() throws {
        let loose = try DormandPrince(relativeTolerance: 1e-4, absoluteTolerance: 1e-4).solve(dampedRotation, initial: x0, from: 0, to: 3)
        let tight = try DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-9).solve(dampedRotation, initial: x0, from: 0, to: 3)
        #expect(tight.statistics.acceptedSteps > loose.statistics.acceptedSteps)
        // 10⁵ times tighter ⇒ about 10 times more steps for a fifth-order method.
        let ratio = Double(tight.statistics.acceptedSteps) / Double(loose.statistics.acceptedSteps)
        #expect(ratio > 4 && ratio < 25, "step ratio \(ratio)")
    }

    @Test("Dormand–Prince rejects a too-large first step and recovers; reports every accepted step")
    func dopri5Rejections() throws {
        let f: VectorField<Double> = { _, x in x * -50 }   // fast decay
        var observed: [Int] = []
        let dp = DormandPrince(relativeTolerance: 1e-6, absoluteTolerance: 1e-8, initialStep: 1)
        let sol = try dp.solve(f, initial: Tensor<Double>.ones([1, 1]), from: 0, to: 0.5) { step, _, _ in observed.append(step) }
        #expect(sol.statistics.rejectedSteps >= 1)
        #expect(observed == Array(0...sol.statistics.acceptedSteps))
        #expect(abs(sol.state.scalar - Foundation.exp(-25)) < 1e-7)   // within a few atol of e^{−25} ≈ 1.4e-11
        #expect(sol.statistics.evaluations == 1 + 6 * (sol.statistics.acceptedSteps + sol.statistics.rejectedSteps))
    }

    @Test("Dormand–Prince gives up clearly when its step budget runs out, and validates its settings")
    func dopri5Errors() throws {
        let dp = DormandPrince(relativeTolerance: 1e-12, absoluteTolerance: 1e-12, maxSteps: 3)
        #expect(throws: ConfigurationError.self) { try dp.solve(dampedRotation, initial: x0, from: 0, to: 10) }
        #expect(throws: ConfigurationError.self) { try DormandPrince(relativeTolerance: 0, absoluteTolerance: 0).solve(dampedRotation, initial: x0, from: 0, to: 1) }
        let nan: VectorField<Double> = { _, x in x * .nan }
        #expect(throws: TensorError.self) { try DormandPrince().solve(nan, initial: x0, from: 0, to: 1) }
    }

    @Test("solve over a time grid: fixed steps per interval, dopri5 adaptive between grid points, Float states")
    func grids() throws {
        let grid = [0, 0.1, 0.3, 0.7, 1.0]
        var seen: [Double] = []
        let s = try ODESolver.solve(dampedRotation, initial: x0, times: grid, method: .heun) { _, t, _ in seen.append(t) }
        #expect(seen == grid)
        #expect(s.statistics.evaluations == 8)
        let d = try ODESolver.solve(dampedRotation, initial: x0, times: grid, method: .dopri5,
                                    tolerances: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-8))
        #expect(maxDifference(d.state, try dampedRotationSolution(x0, 1)) < 1e-6)
        let viaSteps = try ODESolver.solve(dampedRotation, initial: x0, from: 0, to: 1, steps: 1, method: .dopri5)
        #expect(maxDifference(viaSteps.state, try dampedRotationSolution(x0, 1)) < 1e-3)
        // Float.
        let xf: Tensor<Float> = x0.cast()
        let ff: VectorField<Float> = { _, x in try matmul(x, Tensor<Float>(rows: [[-0.5, -2], [2, -0.5]])) }
        let sf = try ODESolver.solve(ff, initial: xf, from: 0, to: 1, steps: 20, method: .rk4)
        #expect(maxDifference(sf.state.cast(to: Double.self), try dampedRotationSolution(x0, 1)) < 1e-5)
        let df = try DormandPrince(relativeTolerance: 1e-5, absoluteTolerance: 1e-6).solve(ff, initial: xf, from: 0, to: 1)
        #expect(maxDifference(df.state.cast(to: Double.self), try dampedRotationSolution(x0, 1)) < 1e-4)
    }

    @Test("solver names parse; grids, shapes and the dopri5 step are checked")
    func errors() throws {
        #expect(try ODEMethod(parsing: "RK4") == .rk4)
        #expect(try ODEMethod(parsing: "dopri5") == .dopri5)
        #expect(throws: ConfigurationError.self) { try ODEMethod(parsing: "midpoint") }
        #expect(throws: ConfigurationError.self) { try ODESolver.solve(dampedRotation, initial: x0, times: [0], method: .euler) }
        #expect(throws: ConfigurationError.self) { try ODESolver.solve(dampedRotation, initial: x0, times: [0, 0.5, 0.4], method: .euler) }
        #expect(throws: ConfigurationError.self) { try ODESolver.solve(dampedRotation, initial: x0, from: 0, to: 1, steps: 0, method: .euler) }
        let bad: VectorField<Double> = { _, x in try x.slice(0..<1) }
        #expect(throws: TensorError.self) { try ODESolver.solve(bad, initial: x0, from: 0, to: 1, steps: 2, method: .rk4) }
        var stats = SolverStatistics()
        #expect(throws: ConfigurationError.self) { try ODESolver.step(.dopri5, dampedRotation, t: 0, x: self.x0, h: 0.1, statistics: &stats) }
        #expect(ODEMethod.allCases.map(\.order) == [1, 2, 4, 5])
    }

    @Test("probability-flow ODE of each SDE with the exact score of Gaussian data maps x₁ to x₁·√(v(ε)/v(1))",
          arguments: [ScoreSDE.vp(), .subVP(), .ve(sigmaMin: 0.01, sigmaMax: 5)])
    func probabilityFlow(_ sde: ScoreSDE) throws {
        // Data N(0, σ₀²) ⇒ p_t = N(0, v(t)), v(t) = m(t)²σ₀² + s(t)², score −x/v(t); the flow keeps x/√v(t) fixed.
        let sigma0 = 0.5
        func v(_ t: Double) -> Double { let m = sde.marginalMeanCoefficient(t), s = sde.marginalStd(t); return m * m * sigma0 * sigma0 + s * s }
        let f: VectorField<Double> = { t, x in try sde.reverseDrift(x, score: x * (-1 / v(t)), t, probabilityFlow: true) }
        let x1 = try Tensor<Double>(rows: [[1.0, -2.0], [0.3, 0.0]]) * sde.priorStd
        let eps = sde.samplingEpsilon
        let expected = x1 * (v(eps) / v(1)).squareRoot()
        let dp = try DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-9).solve(f, initial: x1, from: 1, to: eps)
        #expect(maxDifference(dp.state, expected) < 1e-6 * sde.priorStd, "\(sde): \(dp.statistics)")
        let rk = try ODESolver.solve(f, initial: x1, from: 1, to: eps, steps: 200, method: .rk4)
        #expect(maxDifference(rk.state, expected) < 1e-4 * sde.priorStd)
    }

    @Test("Euler–Maruyama without diffusion is Euler; its OU moments match the scheme's exact recursion")
    func eulerMaruyama() throws {
        let grid = try ODESolver.uniformGrid(from: 0, to: 1, steps: 20)
        let deterministic = try EulerMaruyama.solve(drift: dampedRotation, diffusion: { _ in 0 }, initial: x0, times: grid, noise: SeededNoise(seed: 1))
        let euler = try ODESolver.solve(dampedRotation, initial: x0, times: grid, method: .euler)
        #expect(maxDifference(deterministic.state, euler.state) < 1e-15)
        // OU: dx = −x dt + σ dW from x = 1; EM gives m_{k+1} = (1 − h)m_k, v_{k+1} = (1 − h)²v_k + σ²h.
        let n = 20_000, sigma = 0.8, h = 1.0 / 20
        let ou = try EulerMaruyama.solve(drift: { _, x in x * -1 }, diffusion: { _ in sigma }, initial: Tensor<Double>.ones([n, 1]),
                                         times: grid, noise: SeededNoise(seed: 7))
        var m = 1.0, v = 0.0
        for _ in 0..<20 { m *= 1 - h; v = (1 - h) * (1 - h) * v + sigma * sigma * h }
        let mean = ou.state.mean(), variance = ou.state.variance()
        #expect(abs(mean - m) < 4 * (v / Double(n)).squareRoot())
        #expect(abs(variance - v) < 5 * v * (2 / Double(n)).squareRoot())
        #expect(ou.statistics.evaluations == 20 && ou.statistics.acceptedSteps == 20)
    }

    @Test("Euler–Maruyama: batching does not change a sample's path; no noise on the last step when asked")
    func eulerMaruyamaBatches() throws {
        let noise = SeededNoise(seed: 11)
        let grid = try ODESolver.uniformGrid(from: 1, to: 0.001, steps: 10)
        let sde = ScoreSDE.vp()
        let drift: VectorField<Float> = { t, x in try sde.reverseDrift(x, score: x * -1, t) }
        let start: Tensor<Float> = noise.prior([8, 3])
        let whole = try EulerMaruyama.solve(drift: drift, diffusion: sde.diffusion, initial: start, times: grid, noise: noise)
        let second = try EulerMaruyama.solve(drift: drift, diffusion: sde.diffusion, initial: start.slice(4..<8), times: grid,
                                             noise: noise, firstRow: 4)
        #expect(maxDifference(try whole.state.slice(4..<8), second.state) == 0)
        // Tensor diffusion (diagonal) agrees with the scalar one.
        let diag = try EulerMaruyama.solve(drift: drift, diffusion: { t, _ in Tensor<Float>(scalar: Float(sde.diffusion(t))) },
                                           initial: start, times: grid, noise: noise)
        #expect(maxDifference(diag.state, whole.state) < 1e-5)
        // Last step without noise = the mean of the last step.
        let quiet = try EulerMaruyama.solve(drift: drift, diffusion: sde.diffusion, initial: start, times: grid, noise: noise, noiseOnLastStep: false)
        #expect(maxDifference(quiet.state, whole.state) > 0)
        let zero = try EulerMaruyama.solve(drift: drift, diffusion: sde.diffusion, initial: start, times: grid, noise: ZeroNoise())
        let ode = try ODESolver.solve(drift, initial: start, times: grid, method: .euler)
        #expect(maxDifference(zero.state, ode.state) == 0)
    }
}
