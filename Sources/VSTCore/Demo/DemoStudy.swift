import Foundation
import Generative
import Linear
import Neural
import Substrate

/// One trained generative model of the study, with what its training did.
struct DemoModel {
    var name: String
    var family: any TrainableFamily<Float>
    /// What training did (nil for a checkpoint taken during another model's training).
    var report: TrainingReport?
    var steps: Int
}

/// One sample set of the study: a model, a sampler, the samples (model units) and the recorded trajectory.
struct DemoSampleSet {
    var name: String
    var model: String
    var sampler: String
    var steps: Int
    var seconds: Double
    var samples: Tensor<Float>
    var trajectory: Tensor<Float>?
    /// The sampler step of each recorded state of `trajectory` (0, every, 2·every, …, and the last step).
    var recordedSteps: [Int] = []
}

/// The whole vST study of `vst demo`, step by step: data → training → sampling → Substrate analyses. Each step
/// adds its numbers to `json` (the report's `report.json`) and its figures and tables to `page`.
public final class DemoStudy {
    let budget: DemoBudget
    let seed: UInt64
    let quiet: Bool
    let start = Date()
    var stage = 0
    let stages = 10

    var json: [(String, JSON)] = []
    var page: HTMLReport

    // Data (model units: digits scaled to [−1, 1]).
    var train: Tensor<Float> = .zeros([0])
    var heldOut: Tensor<Float> = .zeros([0])
    var heldOutLabels: [Int] = []
    var models: [String: DemoModel] = [:]
    var vae: VAE<Float>?
    var vaeReport: GenerativeTrainingReport?
    var sets: [DemoSampleSet] = []
    var validation: [ValidationCheck] = []
    var regimeOfData: RegimeReport?
    public private(set) var summary: [String] = []
    /// The 9-D core of the real digits (every figure of a core uses it) and the held-out digits in it.
    var coreProjection: Projection?
    var heldOutCore: Tensor<Double>?
    /// Analyses kept for the sub-reports linked from reports.html.
    var trajectoryReports: [(name: String, report: TrajectoryReport)] = []
    var scalingReport: ScalingReport?

    /// The second flow-matching model is trained with seed + 1; its name says so.
    var secondSeed: String { "fm-seed\(seed + 1)" }

    public init(budget: DemoBudget, seed: UInt64, quick: Bool, quiet: Bool) {
        self.budget = budget
        self.seed = seed
        self.quiet = quiet
        page = HTMLReport(title: "vST demo: the latent spaces of generative models of digits",
                          subtitle: "vst demo\(quick ? " --quick" : "") --seed \(seed): digits (64-D), flow matching, DDPM/DDIM and a VAE, analysed with Substrate")
    }

    /// Announces the next stage on stderr.
    func announce(_ what: String) {
        stage += 1
        log(String(format: "[%d/%d %5.1fs] %@", stage, stages, Date().timeIntervalSince(start), what))
    }

    func log(_ line: String) {
        if !quiet { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Every step of the study in order — data, training, sampling, regimes, trajectories, drift, alignment,
    /// scaling — then the report written into `dir` (report.json, index.html, the sub-reports and reports.html).
    public func run(to dir: String, overwrite: Bool) throws {
        try loadData()
        try trainModels()
        try sampleAll()
        try analyseRegimes()
        try analyseTrajectories()
        try analyseDrift()
        try analyseAlignment()
        try analyseScaling()
        try finish(to: dir, overwrite: overwrite)
    }

    // MARK: 1. Data

    public func loadData() throws {
        announce("data: the bundled digits (train / held-out split) and the regime of the real digits")
        let digits = try Digits.load(as: Float.self)
        let split = try DataSplit.indices(count: digits.count, heldOutFraction: 0.2, seed: seed)
        train = try digits.data.gather(rows: split.train)
        heldOut = try digits.data.gather(rows: split.heldOut)
        heldOutLabels = split.heldOut.map { digits.labels?[$0] ?? 0 }
        let r = try Regimes.classify(digits.data)
        regimeOfData = r
        validation += Validation.structural(digits.data)
        validation += Validation.statistical(r)
        json.append(("data", .object([("name", .string("digits")), ("n", .int(digits.count)), ("d", .int(Digits.dimension)),
                                      ("train", .int(train.shape[0])), ("held_out", .int(heldOut.shape[0])), ("regime", r.json)])))
        let sample = try heldOut.slice(0..<Swift.min(50, heldOut.shape[0]))
        page.add("Real digits", "Fifty held-out digits of the bundled set (8×8 pixels, 64 dimensions, ink dark). Every model below is trained on the other 80 % and compared with these.",
                 svg: try SVGPlot.imageGrid(title: "Held-out real digits", images: sample.cast(), side: 8,
                                            captions: Array(heldOutLabels.prefix(50)).map(String.init)), file: "digits_real")
        summary.append("The real digits are \(r.regime.rawValue): k* = \(r.spectrum.signalRank) signal directions above the Gavish–Donoho threshold hold \(Fmt.f(r.spectrum.signalEnergy, 3)) of the variance.")
    }

    // MARK: 2. Training

    func denoiser(seed s: UInt64) throws -> (MLPDenoiser<Float>, MLPDenoiserConfiguration) {
        let c = MLPDenoiserConfiguration(dimension: Digits.dimension, hidden: budget.hidden, blocks: budget.blocks)
        return (try MLPDenoiser<Float>(c, seed: s), c)
    }

    func configuration(seed s: UInt64) -> TrainingConfiguration {
        var c = TrainingConfiguration(steps: budget.trainSteps, batchSize: budget.batchSize, learningRate: 2e-3, seed: s)
        c.emaDecay = 0.995
        c.progressEvery = quiet ? 0 : Swift.max(1, budget.trainSteps / 5)
        return c
    }

    /// Trains flow matching (seed s, s + 1), with a mid-training checkpoint of the first, and DDPM. The three are
    /// independent (own network, optimiser and seeded generator; autograd state is task-local), so with two or more
    /// cores they train side by side, each on one BLAS thread: the small products of these networks gain nothing from
    /// a second BLAS thread, the three trainings do. Nothing is shared, so the results do not depend on the scheduling.
    public func trainModels() throws {
        let concurrent = ProcessInfo.processInfo.activeProcessorCount >= 2 && Parallel.threads >= 2
        announce("training flow matching (seed \(seed)) with its step-\(budget.trainSteps / 2) checkpoint, flow matching with another seed (\(seed + 1)) and DDPM (T = \(budget.timesteps), ε-prediction, x̂₀ clipped to [−1, 1] as in Ho et al.)"
                 + (concurrent ? ", side by side" : ""))
        let (net1, dc1) = try denoiser(seed: seed)
        let fm1 = try FlowMatching(denoiser: net1)
        let t1 = try Trainer(family: fm1, denoiserConfiguration: dc1, scaling: Digits.scaling, configuration: configuration(seed: seed))
        var midWeights: [Tensor<Float>]? = nil
        let half = budget.trainSteps / 2
        t1.onStep = { tr in if tr.step == half { midWeights = tr.emaWeights } }
        let (net2, dc2) = try denoiser(seed: seed + 1)
        let fm2 = try FlowMatching(denoiser: net2)
        var c2 = configuration(seed: seed + 1), c3 = configuration(seed: seed + 2)
        if concurrent { c2.progressEvery = 0; c3.progressEvery = 0 }   // one progress line on stderr, not three interleaved
        let t2 = try Trainer(family: fm2, denoiserConfiguration: dc2, scaling: Digits.scaling, configuration: c2)
        let (net3, dc3) = try denoiser(seed: seed + 2)
        let ddpm = try DDPM(denoiser: net3, configuration: DDPMConfiguration(timesteps: budget.timesteps, clipSample: 1))
        let t3 = try Trainer(family: ddpm, denoiserConfiguration: dc3, scaling: Digits.scaling, configuration: c3)

        let trainers = [t1, t2, t3]
        for t in trainers { t.progress = TrainingProgressLine.draw }
        var reports = [TrainingReport?](repeating: nil, count: 3)
        var failures = [Error?](repeating: nil, count: 3)
        let data = train
        if concurrent {
            let lock = NSLock()
            BLAS.withThreads(1) {
                Parallel.perform(iterations: 3) { i in
                    let outcome = Result { try trainers[i].train(data) }
                    lock.lock(); defer { lock.unlock() }
                    switch outcome { case .success(let r): reports[i] = r; case .failure(let e): failures[i] = e }
                }
            }
        } else {
            for i in 0..<3 { reports[i] = try trainers[i].train(data) }
        }
        if let e = failures.compactMap({ $0 }).first { throw e }
        for t in trainers { t.useEMAWeights() }
        let (r1, r2, r3) = (reports[0]!, reports[1]!, reports[2]!)
        models["fm"] = DemoModel(name: "flow matching (seed \(seed))", family: fm1, report: r1, steps: r1.steps)
        let (netMid, _) = try denoiser(seed: seed)
        guard let mid = midWeights else { throw InputError("demo: the mid-training checkpoint was not taken (steps \(budget.trainSteps))") }
        for (p, w) in zip(netMid.parameters, mid) { p.value = w }
        models["fm-mid"] = DemoModel(name: "flow matching (seed \(seed), step \(half))", family: try FlowMatching(denoiser: netMid),
                                     report: nil, steps: half)
        models[secondSeed] = DemoModel(name: "flow matching (seed \(seed + 1))", family: fm2, report: r2, steps: r2.steps)
        models["ddpm"] = DemoModel(name: "DDPM", family: ddpm, report: r3, steps: r3.steps)

        announce("training a VAE with a 9-D latent (Gaussian decoder, β = 1)")
        let v = try VAE<Float>(VAEConfiguration(dimension: Digits.dimension, latentDimension: 9), seed: seed &+ 3)
        let vr = try GenerativeTrainer.train(v, data: train, configuration: GenerativeTrainingConfiguration(
            steps: budget.vaeSteps, batchSize: 128, seed: seed &+ 3, progressEvery: quiet ? 0 : Swift.max(1, budget.vaeSteps / 5)),
            progress: TrainingProgressLine.draw)
        v.networks.eval()
        vae = v
        vaeReport = vr

        let order = ["fm", "fm-mid", secondSeed, "ddpm"]
        var trained: [JSON] = order.compactMap { k in models[k].map { m in
            .object([("model", .string(k)), ("name", .string(m.name)), ("family", .string(m.family.familyName.rawValue)),
                     ("steps", .int(m.steps)), ("seconds", .num(m.report?.seconds)),
                     ("initial_loss", .num(m.report?.initialLoss)), ("final_loss", .num(m.report?.finalLoss))])
        } }
        trained.append(.object([("model", .string("vae")), ("name", .string("VAE (9-D latent)")), ("family", .string("vae")),
                                ("steps", .int(vr.steps)), ("seconds", .num(vr.seconds)),
                                ("initial_loss", .num(vr.initial("loss"))), ("final_loss", .num(vr.final("loss")))]))
        json.append(("training", .array(trained)))
        page.add("Training", "Each model is an MLP denoiser (width \(budget.hidden), \(budget.blocks) residual blocks) trained with AdamW, warm-up and cosine decay, sampled with its EMA weights. The loss is the mean over the first and the last tenth of the steps (for the VAE: the negative ELBO in nats).",
                 table: (["model", "family", "steps", "seconds", "loss: first 10 %", "last 10 %"], order.compactMap { k in models[k].map { m in
                     [m.name, m.family.familyName.rawValue, String(m.steps), m.report.map { String(format: "%.1f", $0.seconds) } ?? "(checkpoint)",
                      SVGPlot.number(m.report?.initialLoss), SVGPlot.number(m.report?.finalLoss)]
                 } } + [["VAE (9-D latent)", "vae", String(vr.steps), String(format: "%.1f", vr.seconds), SVGPlot.number(vr.initial("loss")), SVGPlot.number(vr.final("loss"))]]))
    }

    // MARK: 3. Sampling

    /// Draws `budget.samples` samples with one sampler, recording the first `trajectoryRows` rows' path.
    func sample(_ name: String, model key: String, sampler: String, steps: Int, every: Int = 1, noiseSeed: UInt64? = nil) throws {
        guard let m = models[key] else { throw InputError("demo: no model '\(key)'") }
        // Sampling is deterministic and cheap: run it with the networks in evaluation mode.
        let recorder = try TrajectoryRecorder<Float>(every: every, rows: budget.trajectoryRows)
        let noise = SeededNoise(seed: noiseSeed ?? seed &+ 1000)
        let t0 = Date()
        let result: SamplingResult<Float>
        switch (m.family, sampler) {
        case let (ddpm as DDPM<Float>, "ddpm"): result = try ddpm.sample(budget.samples, noise: noise, recorder: recorder)
        case let (ddpm as DDPM<Float>, "ddim"): result = try ddpm.sampleDDIM(budget.samples, steps: steps, noise: noise, recorder: recorder)
        case let (fm as FlowMatching<Float>, "euler"): result = try fm.sample(budget.samples, method: .euler, steps: steps, noise: noise, recorder: recorder)
        case let (fm as FlowMatching<Float>, "rk4"): result = try fm.sample(budget.samples, method: .rk4, steps: steps, noise: noise, recorder: recorder)
        default: throw InputError("demo: sampler \(sampler) does not fit model \(key)")
        }
        let seconds = Date().timeIntervalSince(t0)
        try result.samples.checkFinite("demo: samples of \(name)")
        let trajectory = try recorder.tensor()
        sets.append(DemoSampleSet(name: name, model: key, sampler: sampler, steps: result.steps, seconds: seconds, samples: result.samples,
                                  trajectory: trajectory, recordedSteps: recorder.steps))
        log(String(format: "    %@: %d samples in %.2f s (%d steps, %d network evaluations)", name, budget.samples, seconds, result.steps, result.evaluations))
    }

    public func sampleAll() throws {
        announce("sampling: DDPM (\(budget.timesteps) steps), DDIM (50), flow matching Euler 20 and RK4 20, recording trajectories")
        try sample("ddpm-\(budget.timesteps)", model: "ddpm", sampler: "ddpm", steps: budget.timesteps, every: budget.ddpmRecordEvery)
        try sample("ddim-50", model: "ddpm", sampler: "ddim", steps: 50)
        try sample("fm-euler-20", model: "fm", sampler: "euler", steps: 20)
        try sample("fm-rk4-20", model: "fm", sampler: "rk4", steps: 20)
        try sample("fm-mid-rk4-20", model: "fm-mid", sampler: "rk4", steps: 20)
        try sample("\(secondSeed)-rk4-20", model: secondSeed, sampler: "rk4", steps: 20)
        if let v = vae {
            let t0 = Date()
            let x = try v.sample(budget.samples, seed: seed &+ 1000)
            try x.checkFinite("demo: samples of the VAE")
            sets.append(DemoSampleSet(name: "vae", model: "vae", sampler: "decoder", steps: 1, seconds: Date().timeIntervalSince(t0), samples: x, trajectory: nil))
        }
        let shown = sets.filter { ["ddpm-\(budget.timesteps)", "ddim-50", "fm-rk4-20", "vae"].contains($0.name) }
        for s in shown {
            page.add("Generated digits: \(s.name)", "Thirty samples of \(models[s.model]?.name ?? "the VAE (z ~ N(0, I) decoded)") with the \(s.sampler) sampler in \(s.steps) steps (\(String(format: "%.2f", s.seconds)) s for \(budget.samples) samples). Blurry or broken strokes are what the metrics below count.",
                     svg: try SVGPlot.imageGrid(title: "Generated: \(s.name)", images: s.samples.slice(0..<Swift.min(30, s.samples.shape[0])).cast(), side: 8),
                     file: "digits_\(s.name)")
        }
    }

    // MARK: 4. Spectrum, cores and regimes

    public func analyseRegimes() throws {
        announce("the 9-D core of the real digits, and the regime of every sample set")
        guard let r = regimeOfData else { return }
        let digits: Tensor<Double> = try Tensor.concatenate([train.cast(), heldOut.cast()], axis: 0)
        page.add("Spectrum of the real digits", "Singular values of the centred digits on a log scale. \(r.spectrum.signalRank) lie above the dashed Gavish–Donoho threshold (the signal rank k*); the 3-, 6- and 9-D cores hold \(Ladder.cores.map { Fmt.f(r.spectrum.coreEnergy[$0], 3) }.joined(separator: ", ")) of the variance. Regime: \(r.regime.rawValue)."
                 + { let zeros = r.spectrum.singularValues.filter { $0 <= 1e-12 * (r.spectrum.singularValues.first ?? 1) }.count
                     return zeros == 0 ? "" : " The last \(zeros) of the \(r.spectrum.singularValues.count) singular values are zero (pixels that are constant in every digit) and have no place on the log axis." }(),
                 svg: AnalysisReports.scree(r.spectrum, title: "Spectrum of the digits"), file: "spectrum")
        // One projection fitted on the real digits; real and generated states shown in its core.
        let projection = try Projection.fit(digits, options: ProjectionOptions(k: 9))
        let fm = sets.first { $0.name == "fm-rk4-20" }, ddpm = sets.first { $0.name.hasPrefix("ddpm-") }
        var parts: [Tensor<Double>] = [heldOut.cast()]
        var groups = [Int](repeating: 0, count: heldOut.shape[0])
        for (g, s) in [fm, ddpm].compactMap({ $0 }).enumerated() {
            parts.append(s.samples.cast()); groups += [Int](repeating: g + 1, count: s.samples.shape[0])
        }
        let z = try projection.project(Tensor.concatenate(parts, axis: 0))
        let names = ["real (held-out)"] + [fm, ddpm].compactMap { $0?.name }
        coreProjection = projection
        heldOutCore = try z.slice(0..<heldOut.shape[0])
        var viewerSets: [CoreViewer.PointSet] = []
        var row = 0
        for (g, p) in parts.enumerated() {
            viewerSets.append(.init(name: names[g], color: SVGPlot.palette[g % SVGPlot.palette.count], points: try z.slice(row..<(row + p.shape[0]))))
            row += p.shape[0]
        }
        page.add("Core scatter (2-D)", "Real and generated digits in the first two principal directions of the real digits. Generated points should cover the same clouds as the real ones; a tight blob or empty regions mean missing modes.",
                 svg: AnalysisReports.coreScatter2D(z, groups: groups, groupNames: names, title: "Core of the real digits: z₁ vs z₂"), file: "core2d")
        page.add("The 9-D core, turnable", "The same points in the 9-D core of the real digits: choose any three of its nine axes, drag to turn the cloud, use the wheel to zoom and the boxes to show or hide each set. Generated sets that fill the real cloud from every side cover the data; a set that sits to one side in some view misses those digits. (The printed page shows the oblique view of z₁, z₂, z₃.)",
                 svg: AnalysisReports.coreScatter3D(z, groups: groups, groupNames: names, title: "Core of the real digits"), file: "core3d",
                 viewer: try CoreViewer(title: "Core of the real digits (9-D)", axes: CoreViewer.axisNames(z.shape[1]), sets: viewerSets))
        var rows: [[String]] = [["real digits", r.regime.rawValue, String(r.spectrum.signalRank), SVGPlot.number(r.spectrum.signalEnergy),
                                 SVGPlot.number(r.spectrum.participationRatio), SVGPlot.number(r.spectrum.coreEnergy[9]), SVGPlot.number(r.signalStability?.mean)]]
        var items: [(String, JSON)] = []
        for s in sets {
            let rs = try Regimes.classify(s.samples)
            items.append((s.name, rs.json))
            rows.append([s.name, rs.regime.rawValue, String(rs.spectrum.signalRank), SVGPlot.number(rs.spectrum.signalEnergy),
                         SVGPlot.number(rs.spectrum.participationRatio), SVGPlot.number(rs.spectrum.coreEnergy[9]), SVGPlot.number(rs.signalStability?.mean)])
        }
        json.append(("regimes", .object(items)))
        page.add("Regimes of the sample sets", "Each sample set classified like the real digits (R1 stable low-rank core, R2 transitional, R3 dispersed). A good model reproduces the real digits' regime and numbers.",
                 table: (["states", "regime", "k*", "ρ", "PR", "E₉", "P*"], rows))
    }

    // MARK: 5. Trajectories

    public func analyseTrajectories() throws {
        announce("trajectories: regime per step, phases and transitions of each sampler")
        var items: [(String, JSON)] = []
        var rows: [[String]] = []
        for s in sets where ["ddpm-\(budget.timesteps)", "ddim-50", "fm-euler-20", "fm-rk4-20"].contains(s.name) {
            guard let traj = s.trajectory else { continue }
            var o = TrajectoryOptions()
            o.seed = seed
            // Analysed in sampler steps: recorded state i is the sampler's step recordedSteps[i].
            let steps = s.recordedSteps.count == traj.shape[0] ? s.recordedSteps : Array(0..<traj.shape[0])
            let index = Dictionary(uniqueKeysWithValues: steps.enumerated().map { ($1, $0) })
            let r = try TrajectoryAnalysis.analyze(steps: steps, totalSteps: steps.last! + 1, n: traj.shape[1], d: traj.shape[2], options: o) { t in
                try traj.row(index[t]!).cast()
            }
            items.append((s.name, r.json))
            trajectoryReports.append((s.name, r))
            validation += Validation.temporal(r).map { var c = $0; c.name = "\(s.name): \(c.name)"; return c }
            let story = r.phases.map { $0.regime.rawValue }.joined(separator: " → ")
            rows.append([s.name, "\(s.steps)", "\(traj.shape[0])", story,
                         r.transitions.map { "\($0.from.rawValue)→\($0.to.rawValue) at step \($0.t)" }.joined(separator: ", ")])
            let every = steps.count > 1 ? steps[1] - steps[0] : 1
            page.add("Trajectory: \(s.name)", "Regime of the \(traj.shape[1]) recorded samples along the \(s.steps) sampler steps (the state is recorded every \(every == 1 ? "step" : "\(every) steps"); a cell lasts until the next record), from noise (step 0, left) to data (right). Phases: \(story.isEmpty ? "none" : story)" + (r.transitions.isEmpty ? "." : "; " + r.transitions.map { "\($0.from.rawValue)→\($0.to.rawValue) at sampler step \($0.t)" }.joined(separator: ", ") + "."),
                     svg: SVGPlot.strip(title: "\(s.name): regime per sampler step", labels: r.steps.map { $0.report.regime.rawValue }, steps: r.steps.map { $0.t }),
                     file: "strip_\(s.name)")
            // The recorded samples moving through the real digits' 9-D core, one frame per recorded sampler step.
            if ["ddpm-\(budget.timesteps)", "fm-rk4-20"].contains(s.name), let projection = coreProjection, let real = heldOutCore {
                let frames = try (0..<traj.shape[0]).map { i in try projection.project(traj.row(i).cast() as Tensor<Double>) }
                let last = frames[frames.count - 1]
                let both = try Tensor.concatenate([real, last], axis: 0)
                let groups = [Int](repeating: 0, count: real.shape[0]) + [Int](repeating: 1, count: last.shape[0])
                page.add("Trajectory in the core: \(s.name)", "The \(traj.shape[1]) recorded samples of \(s.name) in the 9-D core of the real digits, at every recorded sampler step: move the slider from noise (step 0) to the final step and watch the cloud contract onto the real digits (blue); drag to turn, wheel to zoom, any three axes. (Printed: the final step, oblique view.)",
                         svg: AnalysisReports.coreScatter3D(both, groups: groups, groupNames: ["real (held-out)", "\(s.name), final step"], title: "\(s.name) in the digits' core"),
                         file: "core3d_\(s.name)",
                         viewer: try CoreViewer(title: "\(s.name) in the core of the real digits", axes: CoreViewer.axisNames(real.shape[1]),
                                                sets: [.init(name: "real (held-out)", color: SVGPlot.palette[0], points: real),
                                                       .init(name: s.name, color: SVGPlot.palette[1], frames: frames)],
                                                steps: steps))
            }
        }
        json.append(("trajectories", .object(items)))
        page.add("Phases per sampler", "The method's expected story (docs/method.md §5) is R3 (noise) → R2 → R1 (data); the table says what really happens for each sampler.",
                 table: (["sampler", "sampler steps", "recorded states", "phases", "transitions (sampler step)"], rows))
    }

    // MARK: 6. Drift and sample quality

    public func analyseDrift() throws {
        announce("drift: between samplers, checkpoints, seeds and against held-out data; sample quality with a Gaussian baseline")
        var o = DriftOptions()
        o.permutations = budget.permutations
        o.seed = seed
        func set(_ name: String) throws -> Tensor<Float> {
            guard let s = sets.first(where: { $0.name == name }) else { throw InputError("demo: no sample set \(name)") }
            return s.samples
        }
        var pairs: [(String, String, Tensor<Float>, String, Tensor<Float>)] = [
            ("ddim_vs_ddpm", "ddpm-\(budget.timesteps)", try set("ddpm-\(budget.timesteps)"), "ddim-50", try set("ddim-50")),
            ("euler_vs_rk4", "fm-rk4-20", try set("fm-rk4-20"), "fm-euler-20", try set("fm-euler-20")),
            ("mid_vs_final_checkpoint", "fm-rk4-20", try set("fm-rk4-20"), "fm-mid-rk4-20", try set("fm-mid-rk4-20")),
        ]
        for s in sets { pairs.append(("\(s.name)_vs_held_out", "held-out digits", heldOut, s.name, s.samples)) }
        var items: [(String, JSON)] = []
        var rows: [[String]] = []
        var againstHeldOut: [(String, Bool)] = []
        for (key, a, x, b, y) in pairs {
            let r = try Drift.compare(x, y, options: o)
            items.append((key, r.json))
            if a == "held-out digits" { againstHeldOut.append((b, r.drift)) }
            rows.append([a, b, SVGPlot.number(r.mmd2), SVGPlot.number(r.pValue), SVGPlot.number(r.frechetDistance), SVGPlot.number(r.coreSimilarity),
                         r.drift ? "drift" : "no drift"])
            if key == "mid_vs_final_checkpoint" { validation += Validation.crossModel(alignmentRegime: nil, drift: r).map { var c = $0; c.name = "checkpoints: \(c.name)"; return c } }
        }
        json.append(("drift", .object(items)))
        page.add("Drift", "Unbiased MMD² with a \(budget.permutations)-permutation test (drift when p < 0.05), the Fréchet distance of Gaussian fits and the similarity of the two 9-D cores. " + heldOutSentence(againstHeldOut),
                 table: (["reference", "candidate", "MMD²", "p", "Fréchet", "core similarity", "verdict"], rows))

        try assessQuality()
    }

    /// What the drift tests against held-out digits found, from the verdicts (not assumed): which sets the test tells
    /// from real digits at this sample size and which it cannot.
    func heldOutSentence(_ verdicts: [(String, Bool)]) -> String {
        let drifting = verdicts.filter { $0.1 }.map { $0.0 }, close = verdicts.filter { !$0.1 }.map { $0.0 }
        guard !verdicts.isEmpty else { return "" }
        if close.isEmpty { return "Against held-out digits every sample set drifts at this sample size (\(budget.samples) samples): the test is sensitive; the distances say by how much." }
        if drifting.isEmpty { return "Against held-out digits no sample set drifts at this sample size (\(budget.samples) samples); the distances say how close each is." }
        return "Against held-out digits \(drifting.count) of \(verdicts.count) sample sets drift at this sample size (\(budget.samples) samples); the test cannot tell \(close.joined(separator: ", ")) from real digits (p ≥ 0.05). The distances say by how much the others differ."
    }

    /// Sample quality (docs/method.md §8b) of every set against the held-out digits, beside a Gaussian fitted to the
    /// training split (the data the models saw), with the digits classifier's feature-space Fréchet distance and
    /// class coverage. A model has learned when it beats the baseline on precision and feature FD and on MMD² (or ties it:
    /// no significant difference from held-out digits in the permutation test).
    func assessQuality() throws {
        let baseline = try SampleQuality.gaussianBaseline(real: train.cast(), count: budget.samples, seed: seed &+ 0xB5)
        let (classifier, _) = try DigitsClassifier.load()
        let realFeatures = try classifier.summarize(heldOut)
        func features(_ x: Tensor<Double>) throws -> (fd: Double, coverage: ClassCoverage) {
            let f = try classifier.summarize(x)
            return (try Drift.frechetDistance(realFeatures.features, f.features), f.classes)
        }
        let base = try features(baseline)
        var quality: [(String, JSON)] = []
        var rows: [[String]] = []
        var learned: [String] = []
        var baselineMetrics: SampleQualityMetrics?
        for s in sets {
            var q = try SampleQuality.evaluate(generated: s.samples.cast(), real: heldOut.cast(), baseline: baseline, seed: seed)
            let m = try features(s.samples.cast())
            q.model.extra = [("feature_frechet_distance", .num(m.fd)), ("class_coverage", .num(m.coverage.coverage)),
                             ("class_histogram", .array(m.coverage.histogram.map { .int($0) }))]
            q.baseline.extra = [("feature_frechet_distance", .num(base.fd)), ("class_coverage", .num(base.coverage.coverage))]
            // MMD²: the Gaussian matches the digits' mean and covariance, which is most of what an RBF kernel with the
            // median bandwidth sees in 64-D, so its MMD² sits at the estimator's noise floor; a model ties it when the
            // permutation test cannot tell its samples from held-out digits (p ≥ 0.05), and beats it when lower.
            let mmdOK = q.model.mmd2 < q.baseline.mmd2 || q.model.mmd2PValue >= 0.05
            let beats = mmdOK && q.model.precision > q.baseline.precision && m.fd < base.fd
            q.extra = [("baseline_description", .string("Gaussian with the training split's mean and covariance")),
                       ("learned", .bool(beats))]
            if beats { learned.append(s.name) }
            quality.append((s.name, q.json))
            baselineMetrics = q.baseline
            rows.append([s.name, SVGPlot.number(q.model.mmd2) + " (p \(SVGPlot.number(q.model.mmd2PValue)))", SVGPlot.number(q.model.precision), SVGPlot.number(q.model.recall), SVGPlot.number(q.model.coverage),
                         SVGPlot.number(m.fd), SVGPlot.number(m.coverage.coverage), beats ? "yes" : "no"])
        }
        // The baseline as every set's evaluation scored it (same real rows, bandwidth and seeds).
        if let b = baselineMetrics {
            rows.append(["Gaussian baseline", SVGPlot.number(b.mmd2), SVGPlot.number(b.precision), SVGPlot.number(b.recall), SVGPlot.number(b.coverage),
                         SVGPlot.number(base.fd), SVGPlot.number(base.coverage.coverage), "—"])
        }
        let realCoverage = realFeatures.classes.coverage
        rows.append(["held-out digits themselves", "0", "—", "—", "—", "0", SVGPlot.number(realCoverage), "—"])
        json.append(("quality", .object(quality)))
        page.add("Sample quality", "Each sample set against the held-out digits: unbiased MMD² (RBF kernel), precision/recall and coverage (k-NN manifolds of the real set), and the digits classifier's feature-space Fréchet distance and class coverage (entropy of predicted labels / log 10). The baseline is a Gaussian with the training digits' mean and covariance; a model has learned when it beats it on precision and feature FD, and on MMD² or ties it (the permutation test finds no difference from held-out digits, p ≥ 0.05: the Gaussian matches the mean and covariance, which is most of what the RBF kernel sees, so its MMD² sits at the noise floor).",
                 table: (["samples", "MMD²", "precision", "recall", "coverage", "feature FD", "class coverage", "learned"], rows))
        summary.append(learned.isEmpty ? "No sample set beats the Gaussian baseline on precision, feature FD and MMD²."
                                       : "Beating the Gaussian baseline (precision, feature FD, MMD² or a tie): \(learned.joined(separator: ", ")).")
    }

    // MARK: 7. Alignment

    public func analyseAlignment() throws {
        announce("alignment: the two seeds' flow-matching models on the same noise; the VAE latent against the PCA core")
        guard let a = sets.first(where: { $0.name == "fm-rk4-20" }), let b = sets.first(where: { $0.name == "\(secondSeed)-rk4-20" }) else { return }
        let r = try Alignment.compare(a.samples, b.samples, seed: seed)
        var items: [(String, JSON)] = [("fm_seed_\(seed)_vs_seed_\(seed + 1)", r.json)]
        defer { json.append(("alignment", .object(items))) }
        validation += Validation.crossModel(alignmentRegime: r.regime.rawValue).map { var c = $0; c.name = "seeds: \(c.name)"; return c }
        page.add("Alignment between the two seeds", "Both flow-matching models map the same noise rows to digits, so their outputs are paired row by row. High CKA and Procrustes similarity mean the two seeds learned the same map (A1); A3 would mean the seed decides what comes out.",
                 svg: SVGPlot.bars(title: "Seed \(seed) vs seed \(seed + 1): similarity", yLabel: "similarity (1 = identical)",
                                   labels: ["linear CKA", "debiased CKA", "RBF CKA", "SVCCA", "Procrustes", "core Procrustes", "mutual k-NN"],
                                   values: [r.linearCKA, r.debiasedCKA ?? .nan, r.rbfCKA ?? .nan, r.svcca?.mean ?? .nan, r.procrustes.similarity, r.core.similarity, r.mutualKNN ?? .nan], yDomain: (0, 1)),
                 file: "alignment_seeds",
                 table: (["pair", "regime", "linear CKA", "core Procrustes", "mutual k-NN", "reasons"],
                         [["seed \(seed) vs \(seed + 1)", r.regime.rawValue, SVGPlot.number(r.linearCKA), SVGPlot.number(r.core.similarity), SVGPlot.number(r.mutualKNN ?? .nan),
                           r.reasons.joined(separator: "; ")]]))
        summary.append("The two seeds' flow-matching models are \(r.regime.rawValue) (linear CKA \(Fmt.f(r.linearCKA, 3))).")
        guard let v = vae else { return }
        // The VAE's 9-D posterior means against the 9-D PCA core (fitted on the training split) of the same held-out digits.
        let pca = try Projection.fit(train, options: ProjectionOptions(k: 9))
        let core = try pca.project(heldOut).slice(0..<9, axis: 1)
        let latent = try v.encode(heldOut).mean
        let va = try Alignment.compare(latent, core, seed: seed)
        items.append(("vae_latent_vs_pca_core", va.json))
        page.add("Alignment: VAE latent vs PCA core", "The VAE's 9-D posterior means and the 9-D PCA core of the same held-out digits. A1 would mean the VAE found the principal subspace up to a rotation; A2 that it shares much of its geometry but bends it (a VAE's latent is a nonlinear map); A3 that it found something else.",
                 svg: SVGPlot.bars(title: "VAE latent vs PCA core: similarity", yLabel: "similarity (1 = identical)",
                                   labels: ["linear CKA", "debiased CKA", "RBF CKA", "SVCCA", "Procrustes", "mutual k-NN", "predictivity R²"],
                                   values: [va.linearCKA, va.debiasedCKA ?? .nan, va.rbfCKA ?? .nan, va.svcca?.mean ?? .nan, va.procrustes.similarity, va.mutualKNN ?? .nan, va.predictivity?.r2 ?? .nan], yDomain: (0, 1)),
                 file: "alignment_vae_pca",
                 table: (["pair", "regime", "linear CKA", "core Procrustes", "mutual k-NN", "reasons"],
                         [["VAE latent vs PCA core", va.regime.rawValue, SVGPlot.number(va.linearCKA), SVGPlot.number(va.core.similarity), SVGPlot.number(va.mutualKNN ?? .nan),
                           va.reasons.joined(separator: "; ")]]))
        summary.append("The VAE's 9-D latent and the PCA core of the digits are \(va.regime.rawValue) (linear CKA \(Fmt.f(va.linearCKA, 3))).")
    }

    // MARK: 8. Scaling

    public func analyseScaling() throws {
        announce("scaling: two moons lifted onto the ladder \(budget.rungs.map(String.init).joined(separator: ", "))")
        var g = RandomGenerator(seed: seed &+ 77)
        let moons: Tensor<Double> = try Toy2D.moons.sample(budget.toyRows, using: &g)
        var rungs: [(d: Int, states: Tensor<Double>)] = []
        for d in budget.rungs {
            let e = try OrthogonalEmbedding(dimension: d)
            rungs.append((d, try e.lift(moons, using: &g)))
        }
        let r = try Scaling.analyze(rungs)
        scalingReport = r
        json.append(("scaling", r.json))
        let sp = AnalysisReports.scaling(r)
        for s in sp.sections where s.svg != nil {
            page.add("Scaling: " + s.heading.lowercased(), s.text, svg: s.svg, file: "scaling_" + (s.file ?? "figure"))
        }
        page.add("Scaling regime", "Two moons (2-D) embedded orthogonally with small isotropic noise into each dimension: the signal should stay 2-D at every rung (S1) while the noise floor grows with d. " + r.reasons.joined(separator: ". ") + ".",
                 table: (["d", "k*", "ρ", "PR", "P*", "round trip"], r.rungs.map { g in
                     [String(g.d), String(g.report.spectrum.signalRank), SVGPlot.number(g.report.spectrum.signalEnergy), SVGPlot.number(g.report.spectrum.participationRatio),
                      SVGPlot.number(g.report.signalStability?.mean), SVGPlot.number(g.roundTripError)]
                 }))
        summary.append("Across the ladder the lifted moons are \(r.regime.rawValue)" + (r.signalRankLaw.map { Swift.abs($0.slope) < 0.05 ? " (k* does not grow with d)" : " (k* ∝ d^\(Fmt.f($0.slope, 2)))" } ?? "") + ".")
    }

    // MARK: 9. Validation and the report

    public func finish(to dir: String, overwrite: Bool) throws {
        announce("validation V1–V4 and the report")
        let v = ValidationReport(checks: validation)
        json.append(("validation", v.json))
        page.add("Validation checklist", "Every check of the validation layers V1 (structure), V2 (statistics), V3 (trajectories) and V4 (across models), with its value. Overall: \(v.status.rawValue).",
                 table: AnalysisReports.validationTable(validation))
        let seconds = Date().timeIntervalSince(start)
        json.insert(("demo", .object([("seed", .int(Int(seed))), ("seconds", .num(seconds)),
                                      ("budget", .object([("train_steps", .int(budget.trainSteps)), ("samples", .int(budget.samples)),
                                                          ("hidden", .int(budget.hidden)), ("timesteps", .int(budget.timesteps)),
                                                          ("rungs", .array(budget.rungs.map { .int($0) }))])),
                                      ("summary", .array(summary.map { .string($0) }))])), at: 0)
        let index = try writeSubReports(to: dir, overwrite: overwrite, validation: v)
        page.add("Reports in this directory", "Besides this page the study writes one report per analysis, each with its own figures and report.json; reports.html lists them with their verdicts.",
                 table: index.table)
        page.add("What this study found", summary.joined(separator: " ") + " Validation overall: \(v.status.rawValue). Took \(String(format: "%.0f", seconds)) s.")
        page.sections.insert(page.sections.removeLast(), at: 0)
        try page.write(to: dir, json: .object(json), overwrite: overwrite)
        try index.write(to: dir, overwrite: overwrite)
        log(String(format: "done in %.1f s: %@/index.html", seconds, dir))
    }

    /// Writes the per-analysis reports (regimes of the real digits, each sampler's trajectory, the scaling study) into
    /// sub-directories of `dir` and returns the index that links them with the main page (written by `finish`).
    func writeSubReports(to dir: String, overwrite: Bool, validation v: ValidationReport) throws -> ReportIndex {
        var index = ReportIndex(title: "vST demo: reports", subtitle: page.subtitle)
        index.entries.append(.init(title: "The whole study", link: "index.html", verdict: v.status.rawValue,
                                   summary: summary.first ?? "Every analysis of the study on one page."))
        let base = URL(fileURLWithPath: dir)
        if let r = regimeOfData {
            let digits: Tensor<Double> = try Tensor.concatenate([train.cast(), heldOut.cast()], axis: 0)
            try AnalysisReports.regimes(r, states: digits, source: "the bundled digits").write(to: base.appendingPathComponent("regimes-digits").path, json: r.json, overwrite: overwrite)
            index.entries.append(.init(title: "Latent regime of the real digits", link: "regimes-digits/index.html", verdict: r.regime.rawValue,
                                       summary: "k* = \(r.spectrum.signalRank), ρ = \(SVGPlot.number(r.spectrum.signalEnergy)), P* = \(SVGPlot.number(r.signalStability?.mean))."))
        }
        for (name, r) in trajectoryReports {
            try AnalysisReports.trajectory(r, source: "vst demo, \(name)").write(to: base.appendingPathComponent("trajectory-\(name)").path, json: r.json, overwrite: overwrite)
            index.entries.append(.init(title: "Trajectory: \(name)", link: "trajectory-\(name)/index.html",
                                       verdict: r.phases.map { $0.regime.rawValue }.joined(separator: " → "),
                                       summary: r.transitions.isEmpty ? "No change of regime." : r.transitions.map { "\($0.from.rawValue)→\($0.to.rawValue) at sampler step \($0.t)" }.joined(separator: ", ") + "."))
        }
        if let r = scalingReport {
            try AnalysisReports.scaling(r).write(to: base.appendingPathComponent("scaling").path, json: r.json, overwrite: overwrite)
            index.entries.append(.init(title: "Scaling: two moons on the ladder", link: "scaling/index.html", verdict: r.regime.rawValue,
                                       summary: r.reasons.first.map { $0 + "." } ?? ""))
        }
        return index
    }
}
