/// numpy broadcasting rules: shapes align at the right; an extent of 1 (or a missing axis) stretches to match.
public enum Broadcast {
    /// The broadcast shape of `a` and `b`, or an error naming both shapes.
    @inlinable
    public static func shape(_ a: [Int], _ b: [Int], _ op: String) throws -> [Int] {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            if da == db || db == 1 { out[i] = da }
            else if da == 1 { out[i] = db }
            else { throw TensorError.shapeMismatch(operation: op, lhs: a, rhs: b) }
        }
        return out
    }

    /// Element strides of a contiguous tensor of shape `s` viewed as the broadcast shape `target` (0 on stretched axes).
    @inlinable
    public static func strides(_ s: [Int], to target: [Int]) -> [Int] {
        let r = target.count, off = r - s.count
        var st = [Int](repeating: 0, count: r)
        var acc = 1
        for i in stride(from: s.count - 1, through: 0, by: -1) {
            st[i + off] = s[i] == 1 && target[i + off] != 1 ? 0 : acc
            acc *= s[i]
        }
        return st
    }

    /// Merges adjacent axes that are contiguous in every operand, so loops run over as few, long axes as possible.
    @inlinable
    public static func coalesce(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        guard shape.count > 1 else { return (shape, strides) }
        var outShape: [Int] = [shape[0]]
        var outStrides: [[Int]] = strides.map { [$0[0]] }
        for i in 1..<shape.count {
            let last = outShape.count - 1
            var mergeable = true
            for s in 0..<strides.count where outStrides[s][last] != strides[s][i] * shape[i] { mergeable = false; break }
            if shape[i] == 1 { continue }
            if outShape[last] == 1 {
                outShape[last] = shape[i]
                for s in 0..<strides.count { outStrides[s][last] = strides[s][i] }
            } else if mergeable {
                outShape[last] *= shape[i]
                for s in 0..<strides.count { outStrides[s][last] = strides[s][i] }
            } else {
                outShape.append(shape[i])
                for s in 0..<strides.count { outStrides[s].append(strides[s][i]) }
            }
        }
        return (outShape, outStrides)
    }
}
