import Foundation
import Linear
import Testing
import TestSupport

/// The vector kernels (libmvec, AVX-512/AVX2) against scalar libm evaluated in Double, on every tail length
/// and on extreme inputs (overflow, underflow, NaN, ±Inf, signed zero).
@Suite struct VectorMathTests {
    static let specials: [Double] = [0, -0.0, 1e-30, -1e-30, 1e-8, 0.5, -0.5, 1, -1, 10, -10, 20, -20, 40, -40,
                                     88, -88, 100, -100, 700, -700, 745, -745, 1e4, -1e4, .infinity, -.infinity, .nan]

    static func reference(_ name: String, _ x: Double) -> Double {
        switch name {
        case "exp": return Foundation.exp(x)
        case "log": return Foundation.log(x)
        case "tanh": return Foundation.tanh(x)
        case "sigmoid": return x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
        case "silu": return x * (x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)))
        default:
            // ½x(1 + tanh z) = x·σ(2z): the stable form of the tanh-GELU (no cancellation for x ≪ 0).
            return x * reference("sigmoid", 1.5957691216057308 * (x + 0.044715 * x * x * x))
        }
    }

    static func apply<T: BLASScalar>(_ name: String, _ t: Tensor<T>) -> Tensor<T> {
        switch name {
        case "exp": return t.exp()
        case "log": return t.log()
        case "tanh": return t.tanh()
        case "sigmoid": return t.sigmoid()
        case "silu": return t.silu()
        default: return t.gelu()
        }
    }

    /// Checks kernel `name` on `xs` in precision `T`: relative error below `rtol` where the reference is a
    /// normal number, absolute below `atol` near zero, and identical NaN/±Inf classification.
    static func check<T: BLASScalar>(_ name: String, _ xs: [Double], _: T.Type, rtol: Double, atol: Double) {
        let input = Tensor<T>(xs.map { T($0) })
        let out = apply(name, input).scalars
        for (i, x) in xs.enumerated() {
            let xT = Double(T(x))
            let want = Double(T(reference(name, xT)))
            let got = Double(out[i])
            if want.isNaN { #expect(got.isNaN, "\(name)(\(xT)) = \(got), expected NaN"); continue }
            if want.isInfinite { #expect(got == want, "\(name)(\(xT)) = \(got), expected \(want)"); continue }
            let err = Swift.abs(got - want)
            // GELU evaluates e^u with u = 2√(2/π)(x + 0.044715x³): a rounding of u is amplified by |u|
            // (exp's condition number), in any implementation, so the tolerance scales with it.
            let condition = name == "gelu" ? Swift.max(1, Swift.abs(1.5957691216057308 * (xT + 0.044715 * xT * xT * xT))) : 1
            #expect(err <= atol || err <= rtol * condition * Swift.abs(want), "\(name)(\(xT)) = \(got), expected \(want) (\(T.dtypeName))")
        }
    }

    static let names = ["exp", "log", "tanh", "sigmoid", "silu", "gelu"]

    @Test(arguments: names)
    func floatKernelsMatchLibm(name: String) {
        var g = RandomGenerator(seed: 7)
        // Every tail length of the 16- and 8-lane loops, then a long random vector spanning the useful range.
        for n in 1...40 { Self.check(name, (0..<n).map { _ in (g.nextUniform() - 0.5) * 20 }, Float.self, rtol: 2e-6, atol: 1e-30) }
        let xs = (0..<10_000).map { _ in (g.nextUniform() - 0.5) * (name == "log" ? 200 : 60) }.map { name == "log" ? Swift.abs($0) + 1e-3 : $0 }
        Self.check(name, xs, Float.self, rtol: 2e-6, atol: 1e-30)
        Self.check(name, Self.specials.filter { name != "log" || !($0 < 0) }, Float.self, rtol: 2e-6, atol: 1e-37)
    }

    @Test(arguments: names)
    func doubleKernelsMatchLibm(name: String) {
        var g = RandomGenerator(seed: 8)
        for n in 1...40 { Self.check(name, (0..<n).map { _ in (g.nextUniform() - 0.5) * 20 }, Double.self, rtol: 1e-14, atol: 1e-300) }
        let xs = (0..<10_000).map { _ in (g.nextUniform() - 0.5) * (name == "log" ? 200 : 60) }.map { name == "log" ? Swift.abs($0) + 1e-3 : $0 }
        Self.check(name, xs, Double.self, rtol: 1e-14, atol: 1e-300)
        Self.check(name, Self.specials.filter { name != "log" || !($0 < 0) }, Double.self, rtol: 1e-14, atol: 1e-300)
    }

    @Test func logOfNonPositiveFollowsIEEE() {
        let out = Tensor<Float>([0, -1, -0.0]).log().scalars
        #expect(out[0] == -.infinity)
        #expect(out[1].isNaN)
        #expect(out[2] == -.infinity)
    }

    @Test func largeTensorsSplitAcrossThreadsGiveTheSameResult() {
        let x = Tensor<Float>.normal([300_001], seed: 3)
        let whole = x.silu()
        var pieces: [Float] = []
        for start in stride(from: 0, to: x.count, by: 1000) {
            pieces += (try! x.slice(start..<Swift.min(start + 1000, x.count))).silu().scalars
        }
        #expect(whole.scalars == pieces)
    }

    @Test func instructionSetIsReported() {
        #expect(["AVX-512", "AVX2", "scalar"].contains(vectorMathInstructionSet))
    }
}
