extension Tensor {
    /// Resolves a possibly negative axis against `rank` (numpy convention: −1 is the last axis).
    @inlinable
    public static func normalizeAxis(_ axis: Int, rank: Int, _ op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw TensorError.invalidShape("\(op): axis \(axis) is out of range for a rank-\(rank) tensor")
        }
        return a
    }

    /// The same elements under a new shape; one extent may be −1 and is inferred (numpy `reshape`). No copy.
    @inlinable
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var s = newShape
        let unknown = s.indices.filter { s[$0] == -1 }
        guard unknown.count <= 1, s.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidShape("reshaped: invalid target shape \(newShape) for a tensor of shape \(shape)")
        }
        if let u = unknown.first {
            let known = s.enumerated().filter { $0.offset != u }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch(operation: "reshaped", lhs: shape, rhs: newShape)
            }
            s[u] = count / known
        }
        guard s.reduce(1, *) == count else { throw TensorError.shapeMismatch(operation: "reshaped", lhs: shape, rhs: newShape) }
        return Tensor(storage: storage, shape: s)
    }

    /// The elements as a vector (no copy).
    @inlinable public func flattened() -> Tensor { Tensor(storage: storage, shape: [count]) }

    /// Removes axes of extent 1 (all of them, or only `axis`).
    @inlinable
    public func squeezed(axis: Int? = nil) throws -> Tensor {
        if let axis {
            let a = try Tensor.normalizeAxis(axis, rank: rank, "squeezed")
            guard shape[a] == 1 else { throw TensorError.invalidShape("squeezed: axis \(axis) of shape \(shape) has extent \(shape[a]), not 1") }
            var s = shape; s.remove(at: a)
            return Tensor(storage: storage, shape: s)
        }
        return Tensor(storage: storage, shape: shape.filter { $0 != 1 })
    }

    /// Inserts an axis of extent 1 at `axis` (which may be `rank`, or negative).
    @inlinable
    public func unsqueezed(axis: Int) throws -> Tensor {
        let a = try Tensor.normalizeAxis(axis, rank: rank + 1, "unsqueezed")
        var s = shape; s.insert(1, at: a)
        return Tensor(storage: storage, shape: s)
    }

    /// The matrix transpose of a 2-D tensor (a cache-blocked copy).
    @inlinable
    public func transposed() throws -> Tensor {
        guard rank == 2 else { throw TensorError.invalidShape("transposed: expected a 2-D tensor, got shape \(shape); use permuted(_:)") }
        let r = shape[0], c = shape[1]
        return Tensor(unsafeUninitializedShape: [c, r]) { dst, _ in
            Tensor.transposeKernel(storage.pointer, dst, rows: r, cols: c)
        }
    }

    /// Writes the c×r transpose of the r×c row-major matrix `src` into `dst`, in 32×32 tiles.
    @inlinable
    package static func transposeKernel(_ src: UnsafePointer<Scalar>, _ dst: UnsafeMutablePointer<Scalar>, rows r: Int, cols c: Int) {
        let tile = 32
        var i0 = 0
        while i0 < r {
            let i1 = Swift.min(i0 &+ tile, r)
            var j0 = 0
            while j0 < c {
                let j1 = Swift.min(j0 &+ tile, c)
                for i in i0..<i1 {
                    let row = src + i &* c
                    for j in j0..<j1 { dst[j &* r &+ i] = row[j] }
                }
                j0 = j1
            }
            i0 = i1
        }
    }

    /// Reorders the axes: result axis i is input axis `axes[i]` (numpy `transpose(axes)`, PyTorch `permute`).
    @inlinable
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let ax = try axes.map { try Tensor.normalizeAxis($0, rank: rank, "permuted") }
        guard ax.count == rank, Set(ax).count == rank else {
            throw TensorError.invalidShape("permuted: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        }
        if ax == Array(0..<rank) { return self }
        let newShape = ax.map { shape[$0] }
        // Batched 2-D transpose of the last two axes: tile each matrix.
        if rank >= 2, Array(ax[0..<(rank - 2)]) == Array(0..<(rank - 2)), ax[rank - 2] == rank - 1, ax[rank - 1] == rank - 2 {
            let r = shape[rank - 2], c = shape[rank - 1], m = r * c, batch = count / Swift.max(m, 1)
            return Tensor(unsafeUninitializedShape: newShape) { dst, _ in
                for b in 0..<batch { Tensor.transposeKernel(storage.pointer + b * m, dst + b * m, rows: r, cols: c) }
            }
        }
        let inStrides = strides
        let srcStrides = ax.map { inStrides[$0] }
        return Tensor(unsafeUninitializedShape: newShape) { dst, n in
            Tensor.stridedCopy(from: storage.pointer, strides: srcStrides, shape: newShape, into: dst)
        }
    }

    /// Copies the strided view (`shape`, element `strides`) of `src` into contiguous `dst`.
    @inlinable
    static func stridedCopy(from src: UnsafePointer<Scalar>, strides: [Int], shape: [Int], into dst: UnsafeMutablePointer<Scalar>) {
        let n = shape.reduce(1, *)
        if n == 0 { return }
        let r = shape.count
        if r == 0 { dst[0] = src[0]; return }
        let inner = shape[r - 1], innerStride = strides[r - 1]
        var index = [Int](repeating: 0, count: r)
        var offset = 0
        var out = 0
        while out < n {
            if innerStride == 1 {
                (dst + out).update(from: src + offset, count: inner)
            } else {
                var o = offset
                for j in 0..<inner { dst[out &+ j] = src[o]; o &+= innerStride }
            }
            out &+= inner
            var ax = r - 2
            while ax >= 0 {
                index[ax] += 1; offset += strides[ax]
                if index[ax] < shape[ax] { break }
                offset -= strides[ax] * shape[ax]; index[ax] = 0
                ax -= 1
            }
        }
    }

    /// The sub-tensor `range` along `axis` (numpy `x[..., a:b, ...]`), copied.
    @inlinable
    public func slice(_ range: Range<Int>, axis: Int = 0) throws -> Tensor {
        let a = try Tensor.normalizeAxis(axis, rank: rank, "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw TensorError.invalidShape("slice: range \(range) is out of bounds for axis \(axis) of shape \(shape)")
        }
        var newShape = shape; newShape[a] = range.count
        let outer = shape[0..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let srcBlock = shape[a] * inner, dstBlock = range.count * inner
        return Tensor(unsafeUninitializedShape: newShape) { dst, _ in
            let src = storage.pointer + range.lowerBound * inner
            for o in 0..<outer { (dst + o * dstBlock).update(from: src + o * srcBlock, count: dstBlock) }
        }
    }

    /// Row `i` of the first axis (the result has one axis fewer), copied.
    @inlinable
    public func row(_ i: Int) throws -> Tensor {
        guard rank >= 1 else { throw TensorError.invalidShape("row: a rank-0 tensor has no rows") }
        let ix = i < 0 ? i + shape[0] : i
        guard ix >= 0 && ix < shape[0] else { throw TensorError.invalidShape("row: index \(i) is out of range for shape \(shape)") }
        return try slice(ix..<(ix + 1)).reshaped(Array(shape.dropFirst()))
    }

    /// Rows (first-axis entries) at the given indices, in order, repeats allowed (numpy `x[idx]`).
    @inlinable
    public func gather(rows indices: [Int]) throws -> Tensor {
        guard rank >= 1 else { throw TensorError.invalidShape("gather: a rank-0 tensor has no rows") }
        let n = shape[0], inner = count / Swift.max(n, 1)
        for i in indices where i < -n || i >= n {
            throw TensorError.invalidShape("gather: row index \(i) is out of range for shape \(shape)")
        }
        var newShape = shape; newShape[0] = indices.count
        return Tensor(unsafeUninitializedShape: newShape) { dst, _ in
            for (k, i) in indices.enumerated() {
                let r = i < 0 ? i + n : i
                (dst + k * inner).update(from: storage.pointer + r * inner, count: inner)
            }
        }
    }

    /// Joins tensors along an existing axis; all other extents must agree (numpy `concatenate`).
    @inlinable
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("concatenate: no tensors given") }
        let a = try normalizeAxis(axis, rank: first.rank, "concatenate")
        for t in tensors.dropFirst() {
            var s1 = first.shape, s2 = t.shape
            guard s1.count == s2.count else { throw TensorError.shapeMismatch(operation: "concatenate", lhs: first.shape, rhs: t.shape) }
            s1[a] = 0; s2[a] = 0
            guard s1 == s2 else { throw TensorError.shapeMismatch(operation: "concatenate (axis \(axis))", lhs: first.shape, rhs: t.shape) }
        }
        var newShape = first.shape
        newShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[0..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let outBlock = newShape[a] * inner
        return Tensor(unsafeUninitializedShape: newShape) { dst, _ in
            var col = 0
            for t in tensors {
                let block = t.shape[a] * inner
                for o in 0..<outer { (dst + o * outBlock + col).update(from: t.storage.pointer + o * block, count: block) }
                col += block
            }
        }
    }

    /// Joins equal-shaped tensors along a new axis (numpy `stack`).
    @inlinable
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("stack: no tensors given") }
        for t in tensors where t.shape != first.shape {
            throw TensorError.shapeMismatch(operation: "stack", lhs: first.shape, rhs: t.shape)
        }
        let expanded = try tensors.map { try $0.unsqueezed(axis: axis) }
        return try concatenate(expanded, axis: axis)
    }

    /// This tensor repeated (without copying rules: a materialised copy) to `target`, numpy broadcasting rules.
    @inlinable
    public func broadcast(to target: [Int]) throws -> Tensor {
        let out = try Broadcast.shape(shape, target, "broadcast(to:)")
        guard out == target else { throw TensorError.shapeMismatch(operation: "broadcast(to:)", lhs: shape, rhs: target) }
        if shape == target { return self }
        let st = Broadcast.strides(shape, to: target)
        return Tensor(unsafeUninitializedShape: target) { dst, _ in
            Tensor.stridedCopy(from: storage.pointer, strides: st, shape: target, into: dst)
        }
    }
}
