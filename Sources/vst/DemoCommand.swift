import ArgumentParser
import Foundation
import Linear
import VSTCore

/// `vst demo`: the main job. Trains the study's models on the bundled digits, samples them with every sampler,
/// runs the vST analyses on all of it and writes `report.json` + `index.html` with figures.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole vST study on the bundled digits and write a report (report.json, index.html, SVG figures).",
        discussion: """
        Steps: split the digits 80/20; train flow matching (two seeds, with a mid-training checkpoint), DDPM and a VAE \
        with a 9-D latent; sample with DDPM (1000 steps), DDIM (50), Euler 20 and RK4 20 while recording \
        trajectories; then the 9-D core and regimes, trajectory phases, drift, alignment, a scaling study over the \
        ladder, sample quality against a Gaussian baseline and the validation checklist V1–V4. Deterministic for a \
        seed.

        Writes index.html (every figure, with a turnable 3-D view of the 9-D core), one sub-report per analysis and \
        reports.html, which links them with their verdicts. Full run: under 5 minutes on 2 cores; --quick: under 1 \
        minute with smaller budgets. Progress goes to stderr.

        Example:
          vst demo --quick --out vst-report
        """)

    @Flag(help: "Smaller budgets (fewer training steps and samples, four rungs): under a minute.") var quick = false
    @Option(help: "Report directory.") var out: String = "vst-report"
    @Option(help: "Seed of every random draw of the study.") var seed: UInt64 = 0
    @Flag(help: "Overwrite the files of an existing report.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @Option(name: .customLong("train-steps"), help: "Override the training steps of each diffusion / flow model (default: 2500, --quick 1500).")
    var trainSteps: Int?
    @Option(help: "Override the samples drawn per sampler (default: 500, --quick 300).") var samples: Int?
    @Option(help: "Threads. With 2 or more, the three diffusion/flow models train side by side (each on one BLAS thread; results do not depend on which finishes first): --quick measured 25.3 s with 1, 18.0 s with 2 on an idle 2-core machine. The study's matrices are small (at most 256 wide), so a second BLAS thread inside one product gains nothing.")
    var threads: Int = 1

    func run() throws {
        if !force, FileManager.default.fileExists(atPath: URL(fileURLWithPath: out).appendingPathComponent("report.json").path) {
            throw InputError("\(out)/report.json exists; pass --force to overwrite the report or --out to choose another directory")
        }
        guard threads >= 1 else { throw ConfigurationError(field: "--threads", reason: "must be ≥ 1, got \(threads)") }
        BLAS.threads = threads
        Parallel.threads = threads
        var budget: DemoBudget = quick ? .quick : .full
        if let t = trainSteps {
            guard t >= 2 else { throw ConfigurationError(field: "--train-steps", reason: "must be ≥ 2, got \(t)") }
            budget.trainSteps = t
        }
        if let n = samples {
            guard n >= 20 else { throw ConfigurationError(field: "--samples", reason: "must be ≥ 20 (the k-NN metrics need neighbours), got \(n)") }
            budget.samples = n
        }
        let study = DemoStudy(budget: budget, seed: seed, quick: quick, quiet: quiet)
        try study.run(to: out, overwrite: force)
        print(study.summary.joined(separator: "\n"))
        print("report: \(out)/index.html")
    }
}
