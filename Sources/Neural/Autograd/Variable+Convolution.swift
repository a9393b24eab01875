import Linear

// 2-D convolutions over [batch, channels, height, width] (NCHW) as im2col + one gemm. im2col and col2im are
// each other's adjoints, so the backward passes (and their second-order passes) are the same two moves.

extension Variable {
    /// The im2col matrix [n·oh·ow, c·k·k] of this [n, c, h, w] input. ∂ = col2im(g).
    public func im2col(kernel: Int, stride: Int = 1, padding: Int = 0) throws -> Variable {
        guard rank == 4 else { throw TensorError.invalidShape("im2col: expected [n, c, h, w], got shape \(shape)") }
        let geo = ConvGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
                               kernel: kernel, stride: stride, padding: padding)
        guard kernel > 0, stride > 0, padding >= 0, geo.outHeight > 0, geo.outWidth > 0 else {
            throw TensorError.invalidShape("im2col: kernel \(kernel), stride \(stride), padding \(padding) do not fit input \(shape)")
        }
        return Variable.make("im2col", AutogradKernels.im2col(value, geo), [self]) { g in [try g.col2im(geo)] }
    }

    /// The adjoint of `im2col` for `geometry`: sums columns back into a [n, c, h, w] image. ∂ = im2col(g).
    public func col2im(_ geometry: ConvGeometry) throws -> Variable {
        let rows = geometry.batch * geometry.outHeight * geometry.outWidth
        let cols = geometry.channels * geometry.kernel * geometry.kernel
        try expectShape([rows, cols], "col2im")
        return Variable.make("col2im", AutogradKernels.col2im(value, geometry), [self]) { g in
            [try g.im2col(kernel: geometry.kernel, stride: geometry.stride, padding: geometry.padding)]
        }
    }
}

/// 2-D cross-correlation (PyTorch `conv2d`): x [n, c, h, w], weight [o, c, k, k], bias [o] → [n, o, oh, ow]
/// with oh = ⌊(h + 2p − k)/s⌋ + 1. One im2col and one gemm (with the bias fused).
public func conv2d<Scalar>(_ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?,
                           stride: Int = 1, padding: Int = 0) throws -> Variable<Scalar> {
    guard x.rank == 4, weight.rank == 4, weight.shape[1] == x.shape[1], weight.shape[2] == weight.shape[3] else {
        throw TensorError.shapeMismatch(operation: "conv2d (x [n, c, h, w] with weight [o, c, k, k])", lhs: x.shape, rhs: weight.shape)
    }
    let n = x.shape[0], o = weight.shape[0], k = weight.shape[2]
    let cols = try x.im2col(kernel: k, stride: stride, padding: padding)
    let oh = (x.shape[2] + 2 * padding - k) / stride + 1, ow = (x.shape[3] + 2 * padding - k) / stride + 1
    let y = try linear(cols, weight: weight.reshaped([o, -1]), bias: bias)   // [n·oh·ow, o]
    return try y.reshaped([n, oh, ow, o]).permuted([0, 3, 1, 2])
}

/// Transposed 2-D convolution (PyTorch `conv_transpose2d`, the adjoint of `conv2d`): x [n, c, h, w],
/// weight [c, o, k, k], bias [o] → [n, o, (h − 1)s − 2p + k + outputPadding, …]. One gemm and one col2im.
public func convTranspose2d<Scalar>(_ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?,
                                    stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) throws -> Variable<Scalar> {
    guard x.rank == 4, weight.rank == 4, weight.shape[0] == x.shape[1], weight.shape[2] == weight.shape[3] else {
        throw TensorError.shapeMismatch(operation: "convTranspose2d (x [n, c, h, w] with weight [c, o, k, k])", lhs: x.shape, rhs: weight.shape)
    }
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], o = weight.shape[1], k = weight.shape[2]
    let oh = (h - 1) * stride - 2 * padding + k + outputPadding
    let ow = (w - 1) * stride - 2 * padding + k + outputPadding
    guard oh > 0, ow > 0, outputPadding >= 0, outputPadding < Swift.max(stride, 1) else {
        throw TensorError.invalidShape("convTranspose2d: stride \(stride), padding \(padding), output padding \(outputPadding) do not fit input \(x.shape)")
    }
    let geo = ConvGeometry(batch: n, channels: o, height: oh, width: ow, kernel: k, stride: stride, padding: padding)
    let rows = try x.permuted([0, 2, 3, 1]).reshaped([n * h * w, c])
    let cols = try matmul(rows, weight.reshaped([c, o * k * k]))
    var y = try cols.col2im(geo)
    if let bias { y = try y + bias.reshaped([1, o, 1, 1]) }
    return y
}
