// The writers of the two model-file formats that existed before the one generative contract, copied from main at
// commit 718626c (the writer of `substrate-generative/1` in GenerativeModelFile.swift and that of
// `substrate-generative-ii/1`), so tests can write files exactly as the old code did and check they still load.

import Foundation
import Linear
import Neural
@testable import Generative
import TestSupport

enum EarlierModelFiles {
    /// `substrate-generative/1`: `raw.<path>`, `ema.<path>`, `adam.m/v.<path>`, `state.<name>`, the family's settings
    /// as string metadata (main's `GenerativeModelFile.save(to:family:denoiser:…)`).
    static func writeDenoising<S: BLASScalar>(to path: String, family: any TrainableFamily<S>, denoiser: DenoiserConfiguration,
                                             scaling: AffineScaling, ema: [Tensor<S>]?, step: Int, seed: UInt64, emaUpdates: Int,
                                             optimizer: Adam<S>.State? = nil, extra: [String: String] = [:]) throws {
        var tensors: [String: NDArray] = [:]
        let named = family.denoiser.namedParameters()
        for (n, p) in named { tensors["raw." + n] = NDArray(p.value) }
        if let e = ema {
            for ((n, _), v) in zip(named, e) { tensors["ema." + n] = NDArray(v) }
        }
        var meta = extra.merging(family.configurationMetadata) { $1 }
        if let o = optimizer {
            for (i, (n, _)) in named.enumerated() {
                tensors["adam.m." + n] = NDArray(o.firstMoments[i])
                tensors["adam.v." + n] = NDArray(o.secondMoments[i])
            }
            meta["adam_steps"] = o.parameterSteps.map(String.init).joined(separator: ",")
            meta["adam_step_count"] = String(o.stepCount)
        }
        for (k, v) in family.trainingState { tensors["state." + k] = NDArray(v) }
        meta["format"] = "substrate-generative/1"
        meta["family"] = family.familyName.rawValue
        meta.merge(try denoiser.metadata()) { $1 }
        meta["scaling"] = String(decoding: try JSONEncoder().encode(scaling), as: UTF8.self)
        meta["step"] = String(step)
        meta["seed"] = String(seed)
        meta["ema_updates"] = String(emaUpdates)
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: true)
    }

    /// `substrate-generative-ii/1`: parameters by path, `buffer.<name>`, moments by index `optimizer.<name>.m.<i>`,
    /// the configuration as JSON (main's writer of the other families).
    static func writeMultiNetwork<S: BLASScalar>(_ model: any GenerativeModel<S>, scaling: AffineScaling, to path: String, step: Int, seed: UInt64,
                                                extra: [String: String] = [:]) throws {
        var tensors: [String: NDArray] = [:]
        for (n, p) in model.networks.namedParameters() { tensors[n] = NDArray(p.value) }
        for (n, b) in model.buffers { tensors["buffer." + n] = NDArray(b) }
        var meta = extra
        for (name, optimizer) in model.optimizers {
            let s = optimizer.state
            for i in s.firstMoments.indices {
                tensors["optimizer.\(name).m.\(i)"] = NDArray(s.firstMoments[i])
                tensors["optimizer.\(name).v.\(i)"] = NDArray(s.secondMoments[i])
            }
            meta["optimizer.\(name).steps"] = s.parameterSteps.map(String.init).joined(separator: ",")
            meta["optimizer.\(name).step_count"] = String(s.stepCount)
        }
        meta["format"] = "substrate-generative-ii/1"
        meta["family"] = model.familyName.rawValue
        meta["configuration"] = try model.configurationJSON()
        if let ld = model as? LatentDiffusion<S> { meta["vae_configuration"] = try ld.vae.configurationJSON() }
        meta["scaling"] = String(decoding: try JSONEncoder().encode(scaling), as: UTF8.self)
        meta["step"] = String(step)
        meta["seed"] = String(seed)
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: true)
    }
}
