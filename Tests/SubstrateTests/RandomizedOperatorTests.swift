import Foundation
import Linear
import Substrate
import Testing
import TestSupport

/// The randomized method's two ways of applying C = X_cᵀX_c (formed once, or streamed in q + 2 reads) and the cost
/// model that chooses between them.
@Suite struct RandomizedOperatorTests {
    static func fit<S: BLASScalar>(_ x: Tensor<S>, _ op: RandomizedOperator, center: Bool = true, k: Int = 6) throws -> Projection {
        var o = ProjectionOptions(k: k, method: .randomized)
        o.randomizedOperator = op
        o.center = center
        o.seed = 5
        return try Projection.fit(x, options: o)
    }

    @Test("formed and streamed C give the same fit (Double, with and without centring)", arguments: [true, false])
    func operatorsAgreeInDouble(center: Bool) throws {
        let x = try ProjectionTests.data(n: 3000, d: 48, r: 6, s: 8, offset: 3, seed: 21)
        let formed = try Self.fit(x, .covariance, center: center)
        let streamed = try Self.fit(x, .streamed, center: center)
        var exactOptions = ProjectionOptions(k: 6, method: .covariance)
        exactOptions.center = center
        let exact = try Projection.fit(x, options: exactOptions)
        #expect(formed.eigenvalues.count == streamed.eigenvalues.count)
        // The same iteration from the same seeded start: identical up to rounding.
        for i in 0..<6 {
            #expect(Swift.abs(formed.eigenvalues[i] - streamed.eigenvalues[i]) <= 1e-10 * formed.eigenvalues[0], "λ\(i + 1)")
            #expect(Swift.abs(formed.eigenvalues[i] - exact.eigenvalues[i]) <= 1e-9 * exact.eigenvalues[0], "λ\(i + 1) vs the exact fit")
        }
        #expect(Swift.abs(formed.totalVariance - streamed.totalVariance) <= 1e-11 * formed.totalVariance)
        #expect(Swift.abs(formed.totalVariance - exact.totalVariance) <= 1e-11 * exact.totalVariance)
        #expect(try (formed.coreBasis - streamed.coreBasis).maxAbs() < 1e-8)
        #expect(try (formed.coreBasis - exact.coreBasis).maxAbs() < 1e-6)
        #expect(try (formed.mean - streamed.mean).maxAbs() < 1e-12)
        for p in [formed, streamed] {
            #expect(p.orthonormalityError <= 1e-12)
            #expect(try p.roundTripError(x) <= 1e-12)
        }
    }

    @Test("formed and streamed C agree on Float input within Float rounding")
    func operatorsAgreeInFloat() throws {
        let x: Tensor<Float> = try ProjectionTests.data(n: 5000, d: 40, r: 6, s: 8, offset: 3, seed: 22).cast()
        let formed = try Self.fit(x, .covariance)
        let streamed = try Self.fit(x, .streamed)
        let exact = try Projection.fit(x.cast() as Tensor<Double>, options: ProjectionOptions(k: 6, method: .covariance))
        for i in 0..<6 {
            for p in [formed, streamed] {
                #expect(Swift.abs(p.eigenvalues[i] - exact.eigenvalues[i]) <= 1e-5 * exact.eigenvalues[0], "\(i)")
            }
        }
        #expect(try (formed.coreBasis - streamed.coreBasis).maxAbs() < 1e-3)
    }

    @Test("automatic picks the formed C for small D and the streamed one when n < D, and still fits")
    func automaticChoice() throws {
        let small = try ProjectionTests.data(n: 600, d: 32, seed: 23)
        let auto = try Self.fit(small, .automatic)
        let formed = try Self.fit(small, .covariance)
        #expect(auto.basis == formed.basis, "n ≥ D, D small: the formed C")
        let wide = try ProjectionTests.data(n: 20, d: 64, seed: 24)
        let autoWide = try Self.fit(wide, .automatic)
        let streamedWide = try Self.fit(wide, .streamed)
        #expect(autoWide.basis == streamedWide.basis, "n < D: streamed")
        #expect(try autoWide.roundTripError(wide) <= 1e-12)
    }

    @Test("the cost model's crossover: D·ρ < 4·l·(q + 2), ρ = 0.34 (Float) or 0.5 (Double); never when n < D")
    func costModel() {
        // Defaults k = 9, p = 10 → l = 19; q = 4 → 4·19·6 = 456.
        #expect(Projection.randomizedFormsCovariance(n: 100_000, d: 1341, l: 19, iterations: 4, scalarBytes: 4))
        #expect(!Projection.randomizedFormsCovariance(n: 100_000, d: 1342, l: 19, iterations: 4, scalarBytes: 4))
        #expect(Projection.randomizedFormsCovariance(n: 100_000, d: 911, l: 19, iterations: 4, scalarBytes: 8))
        #expect(!Projection.randomizedFormsCovariance(n: 100_000, d: 912, l: 19, iterations: 4, scalarBytes: 8))
        // Fewer iterations make streaming cheaper: q = 0 → 4·19·2 = 152 → Double D < 304.
        #expect(Projection.randomizedFormsCovariance(n: 100_000, d: 303, l: 19, iterations: 0, scalarBytes: 8))
        #expect(!Projection.randomizedFormsCovariance(n: 100_000, d: 304, l: 19, iterations: 0, scalarBytes: 8))
        #expect(!Projection.randomizedFormsCovariance(n: 63, d: 64, l: 19, iterations: 4, scalarBytes: 8))
        #expect(Projection.randomizedFormsCovariance(n: 64, d: 64, l: 19, iterations: 4, scalarBytes: 8))
    }

    @Test("a NaN row is reported by both operators")
    func nonFiniteInput() throws {
        var x = try ProjectionTests.data(n: 200, d: 16, seed: 25)
        x[17, 3] = .nan
        for op in [RandomizedOperator.covariance, .streamed] {
            #expect(throws: AnalysisError.self, "\(op)") { try Self.fit(x, op) }
        }
    }
}
