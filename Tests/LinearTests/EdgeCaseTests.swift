import Linear
import Testing
import TestSupport

/// numpy's conventions at the edges: NaN in arg-extremes, half-open uniform ranges, non-finite solver input.
@Suite struct EdgeCaseTests {
    @Test func argExtremesReturnTheFirstNaNAsNumpyDoes() throws {
        let t = Tensor<Double>([1, .nan, 5, .nan])
        #expect(t.argmax() == 1 && t.argmin() == 1)
        let m = try Tensor<Double>(rows: [[1, 9, 3], [.nan, 0, 2]])
        #expect(try m.argmax(axis: 1) == [1, 0])
        #expect(try m.argmin(axis: 0) == [1, 1, 1])
    }

    @Test func uniformNeverReachesTheUpperBound() {
        // One ulp wide: half of the draws would round up to `high` without the guard.
        let low: Float = 1, high = Float(1).nextUp
        let u = Tensor<Float>.uniform([10_000], low: low, high: high, seed: 3)
        #expect(u.scalars.allSatisfy { $0 >= low && $0 < high })
    }

    @Test func choleskySolveRefusesNonFiniteInput() throws {
        let l = try Tensor<Double>(rows: [[2, 0], [1, .nan]])
        #expect(throws: TensorError.self) { _ = try choleskySolve(l, Tensor<Double>([1, 2])) }
    }
}
