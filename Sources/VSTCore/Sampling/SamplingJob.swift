import Foundation
import Generative
import Linear

/// What `vst sample` does: draws samples from a model file written by `vst train` with the family's sampler (or the
/// one asked for), the EMA weights and the model file's scaling undone, so the samples are in the data's units;
/// optionally records the trajectory (every `every`-th state of the first `trajectoryRows` samples, T×n×D).
public struct SamplingJob {
    /// The model file written by vst train.
    public var model: String
    /// Sampler name and steps (nil: the family's).
    public var sampler: String?
    public var steps: Int?
    /// Number of samples and the seed of the sampling noise.
    public var n = 1000
    public var seed: UInt64 = 0
    /// ddim: η (0 deterministic, 1 DDPM-like).
    public var eta: Double = 0
    /// Samples per batch.
    public var batchSize = 4096
    /// Class-conditional models: the class of every sample (nil: classes in turn); `classLabel` is its old name.
    public var label: Int?
    public var classLabel: Int?
    /// Classifier-free guidance scale w ((1 + w)·cond − w·uncond).
    public var guidance: Double = 0
    /// vae: the latent prior, standard or mixture (nil: the model's fitted mixture when it has one).
    public var latentPrior: String?
    /// vae: add the fitted decoder noise (nil: when the model has it).
    public var decoderNoise: Bool?
    /// score-sde: end with the Tweedie denoising step (nil: yes).
    public var denoise: Bool?
    /// The trajectory file (.npy, T×n×D), every k-th step, the rows kept.
    public var trajectory: String?
    public var every = 1
    public var trajectoryRows = 256
    /// The output .npy file.
    public var output: String
    public var force = false
    public var quiet = false

    public init(model: String, output: String) {
        self.model = model
        self.output = output
    }

    /// Checks the outputs, loads the model (EMA weights), draws `n` samples in the data's original units, writes
    /// them (and the trajectory), and returns the summary line.
    public func run() throws -> String {
        try checkOutputs()
        guard n >= 1 else { throw ConfigurationError(field: "-n", reason: "must be ≥ 1, got \(n)") }
        let file = try openModelFile(model, useEMA: true)
        let name: SamplerName?
        do { name = try sampler.map(SamplerName.init(parsing:)) } catch { throw ConfigurationError(field: "--sampler", reason: "\(error)") }
        if let a = label, let b = classLabel, a != b {
            throw ConfigurationError(field: "--label", reason: "\(a) and --class-label \(b) disagree (--class-label is the old name of --label)")
        }
        var o = SamplingOptions()
        o.eta = eta
        o.batchSize = batchSize
        o.label = label ?? classLabel
        o.guidance = guidance
        if latentPrior != nil || decoderNoise != nil {
            let option = latentPrior != nil ? "--latent-prior" : (decoderNoise! ? "--decoder-noise" : "--no-decoder-noise")
            guard file.model.familyName == .vae else { throw ConfigurationError(field: option, reason: "applies to vae models only; \(model) is a \(file.model.familyName.rawValue) model") }
            if let p = latentPrior {
                guard let v = VAELatentPrior(rawValue: p.lowercased()) else { throw ConfigurationError(field: "--latent-prior", reason: "'\(p)': expected standard or mixture") }
                o.latentPrior = v
            }
            o.decoderNoise = decoderNoise
        }
        if let d = denoise {
            guard file.model.familyName == .scoreSDE else {
                throw ConfigurationError(field: d ? "--denoise" : "--no-denoise", reason: "applies to score-sde models only; \(model) is a \(file.model.familyName.rawValue) model")
            }
            o.denoise = d
        }
        let classes = file.model.classCount
        if let l = o.label {
            guard classes > 0 else { throw ConfigurationError(field: "--label", reason: "\(model) is not class-conditional") }
            guard (0..<classes).contains(l) else { throw ConfigurationError(field: "--label", reason: "\(l): the model has classes 0…\(classes - 1)") }
        }
        let recorder = try trajectory.map { _ in try TrajectoryRecorder<Float>(every: every, rows: trajectoryRows) }
        let progress = Progress(label: "sampling", quiet: quiet)
        let start = Date()
        let r: SamplingResult<Float>
        do {
            r = try file.sample(n, sampler: name, steps: steps, seed: seed, options: o, recorder: recorder) { progress.update($0, $1) }
        } catch let e as ConfigurationError {
            // The model names what it refused (sampler, steps, trajectory, n); say it with the option's name.
            let options = ["sampler": "--sampler", "steps": "--steps", "trajectory": "--trajectory", "n": "-n",
                           "latentPrior": "--latent-prior", "decoderNoise": "--decoder-noise"]
            if let option = options[e.field] { throw ConfigurationError(field: option, reason: "\(model): \(e.reason)") }
            throw ConfigurationError(field: "--model", reason: "\(model): \(e)")
        }
        try writeOutputs(samples: { try r.samples.save(npy: output, overwrite: force) },
                         trajectory: trajectory.flatMap { t in recorder.map { rec in { try rec.write(npy: t, overwrite: force) } } })
        return String(format: "%@ model: %d samples × %d in %.2f s, %d network evaluations per batch, %d steps; wrote %@",
                     file.model.familyName.rawValue, n, r.samples.shape[1], Date().timeIntervalSince(start),
                     r.evaluations / Swift.max(1, (n + batchSize - 1) / batchSize), r.steps, output)
    }

    /// Refuses, before any sampling, outputs that could not all be written: an existing -o or --trajectory file
    /// without --force, the two naming one file, or a directory that does not exist.
    public func checkOutputs() throws {
        var outputs = [("-o", output)]
        if let t = trajectory {
            guard !TrainingJob.samePath(t, output) else { throw ConfigurationError(field: "--trajectory", reason: "\(t) and -o \(output) name the same file") }
            outputs.append(("--trajectory", t))
        }
        for (option, path) in outputs {
            if !force && FileManager.default.fileExists(atPath: path) { throw InputError("\(option) \(path) exists; pass --force to overwrite it") }
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError("\(option) \(path): the directory \(dir) does not exist")
            }
        }
    }

    /// Writes the samples, then the trajectory (each write is atomic); when the trajectory cannot be written the
    /// samples file is removed again if this run created it, so a failed command leaves no partial output.
    func writeOutputs(samples: () throws -> Void, trajectory: (() throws -> Void)?) throws {
        let existed = FileManager.default.fileExists(atPath: output)
        try samples()
        guard let trajectory else { return }
        do { try trajectory() } catch {
            if !existed { try? FileManager.default.removeItem(atPath: output) }
            throw InputError("--trajectory \(self.trajectory ?? ""): \(error)" + (existed ? "" : "; \(output) was removed again"))
        }
    }
}
