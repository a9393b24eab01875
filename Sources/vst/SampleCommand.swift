import ArgumentParser
import Foundation
import Generative
import Linear

/// `vst sample`: draws samples from a model file written by `vst train`, in the data's original units.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample a trained generative model to .npy (optionally recording the trajectory).",
        discussion: """
        Samplers: ddpm, ddim (ddpm models); euler-maruyama, pc, pf-ode (score-sde); euler, heun, rk4, dopri5 \
        (flow-matching); onestep, multistep (consistency). Without --sampler / --steps the family's default is used \
        (ddim 100, euler-maruyama 500, rk4 20, onestep 1; multistep defaults to 2 steps). Class-conditional models \
        take --label (default: classes in turn) and --guidance w (classifier-free guidance).

        The EMA weights are used. --trajectory writes every --every-th state of the first --trajectory-rows samples \
        as a T×n×D .npy for `vst trajectory`.

        Example:
          vst sample --model fm.safetensors --sampler rk4 -n 1000 -o samples.npy
        """)

    @Option(help: "Model file written by vst train.") var model: String
    @Option(help: "Sampler name (default: the family's).") var sampler: String?
    @Option(help: "Sampler steps (default: the family's).") var steps: Int?
    @Option(name: .short, help: "Number of samples.") var n: Int = 1000
    @Option(help: "Seed of the sampling noise.") var seed: UInt64 = 0
    @Option(help: "ddim: η (0 deterministic, 1 DDPM-like).") var eta: Double = 0
    @Option(name: .customLong("batch-size"), help: "Samples per batch.") var batchSize: Int = 4096
    @Option(help: "Class-conditional models: the class of every sample (default: classes in turn).") var label: Int?
    @Option(help: "Class-conditional models: classifier-free guidance scale w ((1 + w)·cond − w·uncond).") var guidance: Double = 0
    @Option(help: "Write the sampling trajectory (.npy, T×n×D).") var trajectory: String?
    @Option(help: "Record every k-th step of the trajectory.") var every: Int = 1
    @Option(name: .customLong("trajectory-rows"), help: "Samples kept in the trajectory.") var trajectoryRows: Int = 256
    @Option(name: [.short, .customLong("output")], help: "Output .npy file.") var output: String
    @Flag(help: "Overwrite existing output files.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @OptionGroup(title: "VAE, VQ-VAE, GAN, RealNVP and latent-diffusion options") var familyOptions: FamilySampleOptions

    func run() throws {
        try checkOutputs()
        guard n >= 1 else { throw InputError("-n must be ≥ 1") }
        let file: GenerativeModelFile<Float>
        do { file = try GenerativeModelFile<Float>.load(model, useEMA: true) } catch { throw InputError("--model \(model): \(error)") }
        let name: SamplerName?
        do { name = try sampler.map(SamplerName.init(parsing:)) } catch { throw InputError("\(error)") }
        if let a = label, let b = familyOptions.classLabel, a != b {
            throw InputError("--label \(a) and --class-label \(b) disagree (--class-label is the old name of --label)")
        }
        var o = SamplingOptions()
        o.eta = eta
        o.batchSize = batchSize
        o.label = label ?? familyOptions.classLabel
        o.guidance = guidance
        let classes = file.model.classCount
        if let l = o.label {
            guard classes > 0 else { throw InputError("--label: \(model) is not class-conditional") }
            guard (0..<classes).contains(l) else { throw InputError("--label \(l): the model has classes 0…\(classes - 1)") }
        }
        let recorder = try trajectory.map { _ in try TrajectoryRecorder<Float>(every: every, rows: trajectoryRows) }
        let progress = Progress(label: "sampling", quiet: quiet)
        let start = Date()
        let r: SamplingResult<Float>
        do {
            r = try file.sample(n, sampler: name, steps: steps, seed: seed, options: o, recorder: recorder) { progress.update($0, $1) }
        } catch let TensorError.invalidArgument(m) { throw InputError("--model \(model): \(m)") }
        try writeOutputs(samples: { try r.samples.save(npy: output, overwrite: force) },
                         trajectory: trajectory.flatMap { t in recorder.map { rec in { try rec.write(npy: t, overwrite: force) } } })
        print(String(format: "%@ model: %d samples × %d in %.2f s, %d network evaluations per batch, %d steps; wrote %@",
                     file.model.familyName.rawValue, n, r.samples.shape[1], Date().timeIntervalSince(start),
                     r.evaluations / Swift.max(1, (n + batchSize - 1) / batchSize), r.steps, output))
    }
}

extension SampleCommand {
    /// Refuses, before any sampling, outputs that could not all be written: an existing -o or --trajectory file
    /// without --force, the two naming one file, or a directory that does not exist.
    func checkOutputs() throws {
        var outputs = [("-o", output)]
        if let t = trajectory {
            guard !TrainingJob.samePath(t, output) else { throw InputError("--trajectory \(t) and -o \(output) name the same file") }
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
