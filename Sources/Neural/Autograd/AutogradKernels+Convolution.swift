import Linear

/// im2col / col2im: a convolution as one GEMM over unfolded patches (see AutogradKernels.swift for why kernels live apart).
extension AutogradKernels {
    // MARK: Convolution geometry

    /// im2col for x [n, c, h, w], a k×k kernel, `stride` and zero `padding`: rows are output positions
    /// (n, oh, ow), columns are (c, ki, kj), so a convolution is one gemm with the [out, c·k·k] weight.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func im2col<S: BLASScalar>(_ x: Tensor<S>, _ geo: ConvGeometry) -> Tensor<S> {
        let (n, c, h, w, k, s, p, oh, ow) = (geo.batch, geo.channels, geo.height, geo.width, geo.kernel, geo.stride, geo.padding, geo.outHeight, geo.outWidth)
        let cols = c &* k &* k
        return Tensor(unsafeUninitializedShape: [n &* oh &* ow, cols]) { d, _ in
            x.withUnsafeBufferPointer { px in
                let src = px.baseAddress!
                for b in 0..<n { for y in 0..<oh { for xo in 0..<ow {
                    let row = d + ((b &* oh &+ y) &* ow &+ xo) &* cols
                    var col = 0
                    for ch in 0..<c {
                        let plane = src + (b &* c &+ ch) &* h &* w
                        for ki in 0..<k {
                            let iy = y &* s &- p &+ ki
                            for kj in 0..<k {
                                let ix = xo &* s &- p &+ kj
                                row[col] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? plane[iy &* w &+ ix] : 0
                                col &+= 1
                            }
                        }
                    }
                } } }
            }
        }
    }

    /// col2im: the adjoint of `im2col`, summing every column entry back into its input pixel.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func col2im<S: BLASScalar>(_ cols: Tensor<S>, _ geo: ConvGeometry) -> Tensor<S> {
        let (n, c, h, w, k, s, p, oh, ow) = (geo.batch, geo.channels, geo.height, geo.width, geo.kernel, geo.stride, geo.padding, geo.outHeight, geo.outWidth)
        let ncols = c &* k &* k
        return Tensor(unsafeUninitializedShape: [n, c, h, w]) { d, total in
            for i in 0..<total { d[i] = 0 }
            cols.withUnsafeBufferPointer { pc in
                let src = pc.baseAddress!
                for b in 0..<n { for y in 0..<oh { for xo in 0..<ow {
                    let row = src + ((b &* oh &+ y) &* ow &+ xo) &* ncols
                    var col = 0
                    for ch in 0..<c {
                        let plane = d + (b &* c &+ ch) &* h &* w
                        for ki in 0..<k {
                            let iy = y &* s &- p &+ ki
                            for kj in 0..<k {
                                let ix = xo &* s &- p &+ kj
                                if iy >= 0 && iy < h && ix >= 0 && ix < w { plane[iy &* w &+ ix] += row[col] }
                                col &+= 1
                            }
                        }
                    }
                } } }
            }
        }
    }
}

/// The geometry of a 2-D convolution over [batch, channels, height, width] with a square kernel.
public struct ConvGeometry: Sendable, Equatable {
    public var batch, channels, height, width, kernel, stride, padding: Int
    /// ⌊(h + 2p − k)/s⌋ + 1.
    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    /// ⌊(w + 2p − k)/s⌋ + 1.
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

    public init(batch: Int, channels: Int, height: Int, width: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }
}
