import Linear

/// Layer normalisation forward and backward, fused over each row (see AutogradKernels.swift for why kernels live apart).
extension AutogradKernels {
    // MARK: Normalisation

    /// Layer normalisation over the last axis: x̂ = (x − μ)·r with r = 1/√(σ² + ε) per row (σ² the biased
    /// variance), then y = x̂·γ + β when γ, β are given. Returns y, x̂ and r (one per row).
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func layerNorm<S: BLASScalar>(_ x: Tensor<S>, _ gamma: Tensor<S>?, _ beta: Tensor<S>?, eps: S)
        -> (y: Tensor<S>, xhat: Tensor<S>, rstd: Tensor<S>) {
        let d = x.shape.last ?? 1, rows = x.count / Swift.max(1, d)
        var rstd = Tensor<S>.zeros([rows])
        let affine = gamma != nil || beta != nil
        // One pass per row: x̂ and (with γ or β) y are written while the row is in L1.
        var y: Tensor<S>? = nil
        let xhat = Tensor<S>(unsafeUninitializedShape: x.shape) { xh, _ in
            rstd.withUnsafeMutableBufferPointer { pr in
                x.withUnsafeBufferPointer { px in
                    let inv = 1 / S(d)
                    let g = gamma?.scalars, b = beta?.scalars
                    func fill(_ py: UnsafeMutablePointer<S>?) {
                        for r in 0..<rows {
                            let row = px.baseAddress! + r &* d, out = xh + r &* d
                            let mu = Tensor<S>.laneSum(row, d) * inv
                            for j in 0..<d { out[j] = row[j] - mu }
                            let v = Tensor<S>.laneDot(out, out, d) * inv
                            let rs = 1 / (v + eps).squareRoot()
                            pr[r] = rs
                            for j in 0..<d { out[j] *= rs }
                            guard let py else { continue }
                            let dst = py + r &* d
                            switch (g, b) {
                            case let (g?, b?): for j in 0..<d { dst[j] = out[j] * g[j] + b[j] }
                            case let (g?, nil): for j in 0..<d { dst[j] = out[j] * g[j] }
                            case let (nil, b?): for j in 0..<d { dst[j] = out[j] + b[j] }
                            default: break
                            }
                        }
                    }
                    if affine {
                        y = Tensor<S>(unsafeUninitializedShape: x.shape) { py, _ in fill(py) }
                    } else {
                        fill(nil)
                    }
                }
            }
        }
        return (y ?? xhat, xhat, rstd)
    }

    /// Backward of layer normalisation over the last axis. With ĝ = g·γ (or g without γ):
    /// dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per row; dγ = Σ_rows g·x̂; dβ = Σ_rows g. One pass over the rows: dγ and
    /// dβ accumulate in Double row after row (the order of `Tensor.sum(axis: 0)` over g·x̂ and g, so they equal the
    /// unfused sums bit for bit) without a g·x̂ temporary.
    @_specialize(where S == Float) @_specialize(where S == Double)
    static func layerNormBackward<S: BLASScalar>(_ g: Tensor<S>, _ xhat: Tensor<S>, _ rstd: Tensor<S>, _ gamma: Tensor<S>?,
                                                 needGamma: Bool, needBeta: Bool)
        -> (dx: Tensor<S>, dgamma: Tensor<S>?, dbeta: Tensor<S>?) {
        let d = xhat.shape.last ?? 1, rows = xhat.count / Swift.max(1, d)
        let gam = gamma?.scalars
        // Scratch row ĝ and the Double accumulators of dγ and dβ (Array buffers: raw allocation belongs to Linear).
        var scratchRow = [S](repeating: 0, count: Swift.max(1, d))
        var sumG = [Double](repeating: 0, count: Swift.max(1, d)), sumB = [Double](repeating: 0, count: Swift.max(1, d))
        let dx = scratchRow.withUnsafeMutableBufferPointer { sp in sumG.withUnsafeMutableBufferPointer { gp in sumB.withUnsafeMutableBufferPointer { bp in
        let scratch = sp.baseAddress!, accG = gp.baseAddress!, accB = bp.baseAddress!
        return Tensor<S>(unsafeUninitializedShape: xhat.shape) { out, _ in
            g.withUnsafeBufferPointer { pg in
                xhat.withUnsafeBufferPointer { px in
                    rstd.withUnsafeBufferPointer { pr in
                        let inv = 1 / S(d)
                        for r in 0..<rows {
                            let gr = pg.baseAddress! + r &* d, xr = px.baseAddress! + r &* d, o = out + r &* d
                            let gh = scratch
                            if let gam { for j in 0..<d { gh[j] = gr[j] * gam[j] } } else { gh.update(from: gr, count: d) }
                            let m1 = Tensor<S>.laneSum(UnsafePointer(gh), d) * inv
                            let m2 = Tensor<S>.laneDot(UnsafePointer(gh), xr, d) * inv
                            let rs = pr[r]
                            for j in 0..<d { o[j] = rs * (gh[j] - m1 - xr[j] * m2) }
                            if needGamma { for j in 0..<d { accG[j] += Double(gr[j] * xr[j]) } }
                            if needBeta { for j in 0..<d { accB[j] += Double(gr[j]) } }
                        }
                    }
                }
            }
        }
        } } }
        let dgamma: Tensor<S>? = needGamma ? Tensor<S>(unsafeUninitializedShape: [d]) { p, _ in for j in 0..<d { p[j] = S(sumG[j]) } } : nil
        let dbeta: Tensor<S>? = needBeta ? Tensor<S>(unsafeUninitializedShape: [d]) { p, _ in for j in 0..<d { p[j] = S(sumB[j]) } } : nil
        return (dx, dgamma, dbeta)
    }
}
