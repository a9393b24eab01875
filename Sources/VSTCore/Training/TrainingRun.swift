import Foundation
import Generative
import Linear
import Neural
import Substrate

/// What a finished run reports: the trainer's report, the step it started from, the summary line of `vst train`.
public struct TrainingRunResult {
    public var report: GenerativeTrainingReport
    public var firstStep: Int
    public var summary: String
}

extension TrainingJob {
    /// Trains the recipe's model and writes it to `options.output`: checks the outputs (an existing file needs
    /// `force`, except the `--resume` file itself), resumes, builds, attaches the monitor, trains with checkpoints
    /// every `checkpointEvery` steps, and saves the model with its optimiser state, data scaling, step and seed.
    /// SIGINT/SIGTERM: the step in progress finishes, the checkpoint is saved and `Interrupted` is thrown (its message
    /// says how to continue). A non-finite loss stops with a `TensorError` and keeps the last checkpoint.
    public func run(_ options: TrainingRunOptions) throws -> TrainingRunResult {
        let output = options.output, steps = recipe.stepsValue, seed = recipe.seedValue
        try checkMonitorOptions(options)
        // Resuming may write over the file it resumes from; any other existing output needs --force.
        let resumingOver = options.resume.map { Self.samePath($0, output) } ?? false
        if !options.force && FileManager.default.fileExists(atPath: output) && !resumingOver {
            throw InputError(options.resume == nil ? "\(output) exists; pass --force to overwrite it"
                                                   : "\(output) exists and is not the --resume file \(options.resume!); pass --force to overwrite it")
        }
        let resumed = try options.resume.map(loadResume)
        let built = try setup(resumed: resumed)
        let model = built.model
        let firstStep = resumed?.step ?? 0
        // SIGINT / SIGTERM: finish the current step, save the model with its optimiser state (atomically) and exit
        // 128 + signal, so that `--resume` continues exactly where the run stopped.
        Interruption.install()
        log?("\(family.rawValue): training steps \(firstStep + 1)…\(steps), batch \(recipe.batchValue), seed \(seed)\n")
        // The resolved recipe goes into the file's metadata (`recipe`, compact JSON): what trained it, every default written out.
        var metadata = built.metadata
        metadata["recipe"] = try recipe.resolved(latentDimension: Self.latentDimension(of: model),
                                                 fittedSigmaData: Self.sigmaData(of: model)).json(compact: true)
        let scaling = built.scaling
        let monitorHook = try makeMonitor(options, model: model, built: built, firstStep: firstStep)
        // The model with its optimisers' state at `step`, written atomically over the output.
        func save(step: Int) throws {
            try GenerativeModelFile<Float>.save(model, scaling: scaling, to: output, step: step, seed: seed, extra: metadata, overwrite: true)
        }
        let report: GenerativeTrainingReport
        do {
            let hookStep: ((Int) throws -> Void)? = monitorHook.map { h in { _ in try h.check() } }
            report = try train(model, built.x, built.labels, firstStep: firstStep, observe: monitorHook.map { h in { h.observe($0) } }) { done in
                try hookStep?(done)
                if Interruption.received != 0 {
                    try save(step: done)
                    throw Interrupted(signal: Interruption.received, message:
                        "\nvst: interrupted by \(Interruption.name) after step \(done) of \(steps); the checkpoint \(output) holds that step. "
                        + "Continue with: vst train \(recipe.family) … --resume \(output) -o \(output)\n")
                }
                if options.checkpointEvery > 0 && done % options.checkpointEvery == 0 && done < steps { try save(step: done) }
            }
        } catch let e as TrainingError {
            if case let .diverged(step, _, reason) = e { monitorHook?.stopped(step: step, reason: reason) }
            throw e.adding(FileManager.default.fileExists(atPath: output) ? "; the last checkpoint (\(output)) was kept" : "; nothing was saved")
        }
        try save(step: steps)
        try monitorHook?.finish(step: steps)
        var summary = String(format: "%@: %d steps (from %d) in %.1f s; loss %.4f → %.4f", family.rawValue, report.steps, firstStep, report.seconds,
                             report.initial.first?.1 ?? .nan, report.final.first?.1 ?? .nan)
        if report.final.count > 1 { summary += "; final " + report.final.map { String(format: "%@ %.4f", $0.0, $0.1) }.joined(separator: ", ") }
        summary += try built.details(seed: seed)
        summary += "; wrote " + output + (monitorHook?.summary ?? "")
        return TrainingRunResult(report: report, firstStep: firstStep, summary: summary)
    }

    /// The latent size of a vae or a latent-diffusion model's VAE (nil for the other families).
    static func latentDimension(of model: any GenerativeModel<Float>) -> Int? {
        if let v = model as? VAE<Float> { return v.configuration.latentDimension }
        if let ld = model as? LatentDiffusion<Float> { return ld.vae.configuration.latentDimension }
        return nil
    }

    /// σ_data of a consistency model's schedule, nil for the other families.
    static func sigmaData(of model: any GenerativeModel<Float>) -> Double? {
        ((model as? DenoisingModel<Float>)?.family as? ConsistencyModel<Float>)?.schedule.sigmaData
    }

    /// Whether two paths name the same file (after standardising and resolving symbolic links).
    public static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// --monitor K ≥ 1, --monitor-samples ≥ 8 (and only with --monitor), and its files are not overwritten without
    /// --force (or a --resume onto the same output).
    func checkMonitorOptions(_ o: TrainingRunOptions) throws {
        guard let k = o.monitor else {
            if o.monitorSamples != 512 { throw ConfigurationError(field: "--monitor-samples", reason: "applies with --monitor K only") }
            return
        }
        guard k >= 1 else { throw ConfigurationError(field: "--monitor", reason: "\(k): a point every K training steps needs K ≥ 1") }
        guard o.monitorSamples >= 8 else { throw ConfigurationError(field: "--monitor-samples", reason: "\(o.monitorSamples): the monitor needs at least 8 rows") }
        let paths = TrainingMonitor.outputPaths(model: o.output)
        let resumingOver = o.resume.map { Self.samePath($0, o.output) } ?? false
        for p in [paths.json, paths.html] where !o.force && !resumingOver && FileManager.default.fileExists(atPath: p) {
            throw InputFileError(path: p, reason: "exists; pass --force to overwrite it")
        }
    }

    /// The monitor of this run (nil without --monitor).
    func makeMonitor(_ o: TrainingRunOptions, model: any GenerativeModel<Float>, built: TrainingSetup, firstStep: Int) throws -> TrainMonitorHook? {
        guard let k = o.monitor else { return nil }
        let seed = recipe.seedValue
        var s = TrainingMonitorSettings(every: k, totalSteps: recipe.stepsValue)
        s.firstStep = firstStep
        s.samples = o.monitorSamples
        s.noiseSeed = seed ^ 0x6E6F_6973_65
        s.analysisSeed = seed
        s.family = recipe.family.lowercased()
        s.data = source.description
        s.model = URL(fileURLWithPath: o.output).lastPathComponent
        s.sampler = TrainMonitorHook.samplerSteps(model).description
        let (reference, description) = try TrainMonitorHook.reference(source: source, x: built.x, scaling: built.scaling, seed: seed)
        s.reference = description
        do {
            return try TrainMonitorHook(model: model, settings: s, reference: reference, output: o.output)
        } catch let e as AnalysisError {
            throw ConfigurationError(field: "--monitor", reason: "\(e)")
        }
    }

    /// Refuses, before anything is allocated, sizes whose tensors this machine could not hold: the toy data
    /// (--count × --dim), a hidden×hidden weight matrix (--hidden), a hidden×D one (--hidden with --dim), the
    /// activations of a batch (--batch-size × --hidden), the networks' depth (--blocks, --hidden-layers, --couplings)
    /// and the codebook (--codebook-size × --latent-dim × --code-positions). Each product is taken in 4-byte
    /// floats without overflow and compared with the physical memory; the error names the option (exit 2) instead
    /// of an abort inside malloc.
    func checkAllocationSizes() throws {
        let r = recipe
        let limit = Swift.max(Int64(1) << 30, Int64(clamping: ProcessInfo.processInfo.physicalMemory))
        func product(_ xs: [Int]) -> Int64? {
            var p: Int64 = 4
            for x in xs {
                let (q, o) = p.multipliedReportingOverflow(by: Int64(Swift.max(0, x)))
                if o { return nil }
                p = q
            }
            return p
        }
        func check(_ option: String, _ value: Int, _ what: String, _ xs: [Int]) throws {
            if let b = product(xs), b <= limit { return }
            let bytes = xs.reduce(4.0) { $0 * Double($1) }
            throw ConfigurationError(field: option, reason: String(format: "%d: %@ would need %.3g bytes, more than this machine's %.3g bytes of memory",
                                                                   value, what, bytes, Double(limit)))
        }
        var d = 64
        if case let .toy(_, dimension) = source {
            d = dimension
            try check("--dim", dimension, "the lifting matrix (\(dimension) × \(dimension))", [dimension, dimension])
            if let c = r.count { try check("--count", c, "the data (\(c) × \(dimension))", [c, dimension]) }
        }
        let hidden = r.hiddenValue, blocks = r.blocksValue, batch = r.batchValue, couplings = r.couplings ?? 8
        let depth = Swift.max(blocks, r.hiddenLayers ?? 3, couplings) + 1
        try check("--hidden", hidden, "a \(hidden) × \(hidden) weight matrix", [hidden, hidden])
        try check("--hidden", hidden, "a \(hidden) × \(d) weight matrix", [hidden, d])
        try check("--batch-size", batch, "a batch's activations (\(batch) × \(Swift.max(hidden, d)))", [batch, Swift.max(hidden, d)])
        try check(blocks >= depth - 1 ? "--blocks" : (couplings >= depth - 1 ? "--couplings" : "--hidden-layers"), depth - 1,
                  "\(depth - 1) layers of \(hidden) × \(hidden)", [depth, hidden, hidden])
        let codes = r.latentDim ?? 16, codebook = r.codebookSize ?? 64, positions = r.codePositions ?? 4
        try check("--latent-dim", codes, "a \(codes) × \(hidden) weight matrix", [codes, hidden])
        try check("--codebook-size", codebook, "the codebook (\(codebook) × \(codes))", [codebook, codes])
        try check("--code-positions", positions, "the code vectors (\(positions) × \(codes) × \(hidden))", [positions, codes, hidden])
    }
}
