import Foundation
import Generative
import Linear
import Neural
import Substrate

/// What a `TrainingRecipe` trains: the model, its data in model units and the units, the labels, and the metadata of
/// the model file.
public struct TrainingSetup {
    public var model: any GenerativeModel<Float>
    public var scaling: AffineScaling
    public var x: Tensor<Float>
    public var labels: [Int]?
    public var metadata: [String: String] = [:]
    public var dequantization: UniformDequantization? = nil

    /// What the summary line adds for a family with a tractable bound or a codebook: RealNVP's training NLL, the
    /// VAE's IWAE-50 bound and its fitted sampling model, the VQ-VAE's codebook usage.
    public func details(seed: UInt64) throws -> String {
        let d = x.shape[1]
        if let flow = model as? RealNVP<Float> {
            let nll = try flow.negativeLogLikelihood(x.shape[0] > 2000 ? x.slice(0..<2000) : x)
            if let q = dequantization {
                return String(format: "; training NLL %.2f nats, %.3f bits/dim (dequantised)", q.discreteNLL(continuousNLL: nll, dimension: d),
                              q.bitsPerDimension(continuousNLL: nll, dimension: d))
            }
            return String(format: "; training NLL %.2f nats (model units)", nll)
        }
        if let v = model as? VAE<Float> {
            let sub = x.shape[0] > 1000 ? try x.slice(0..<1000) : x
            let iw = try v.iwae(sub, samples: 50, seed: seed)
            var line = String(format: "; training IWAE-50 %.2f nats (model units)", iw.reduce(0, +) / Double(iw.count))
            if let m = v.latentMixture { line += "; sampling prior: a mixture of \(m.components) Gaussians fitted to the encoded data" }
            if let s = v.decoderNoiseStd { line += String(format: ", decoder noise σ̂ %.3g…%.3g (model units)", Double(s.min()), Double(s.max())) }
            return line
        }
        if let vq = model as? VQVAE<Float> {
            let u = try vq.usage(x)
            return String(format: "; codebook usage %.0f%%, perplexity %.1f", 100 * u.usedFraction, u.perplexity)
        }
        return ""
    }
}
