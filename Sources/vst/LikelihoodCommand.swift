import ArgumentParser
import Foundation

/// `vst likelihood`: log-likelihoods of data under a flow-matching, score-SDE or RealNVP model, in the data's units.
struct LikelihoodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "likelihood",
        abstract: "Log-likelihood of data under a flow-matching, score-SDE (probability-flow ODE) or RealNVP model.",
        discussion: """
        Continuous-time models integrate the instantaneous change of variables (Chen et al. 2018) with a fixed-step \
        ODE solver; the divergence of the velocity is exact up to D = 64 and Hutchinson's estimate (4 probes) above, \
        or as --divergence says. RealNVP's likelihood is exact. Densities are in the data's own units (the model \
        file's scaling is undone); the same figures for a full-covariance Gaussian fitted to the rows themselves are \
        printed beside them. Output: mean log-likelihood and NLL in nats per sample, bits per dimension, and with -o \
        every row's log-likelihood as a .npy.

        Example: vst likelihood --model fm.safetensors --data heldout.npy --json
        Example: vst likelihood --model fm.safetensors --data moons --dim 64 --count 1000 --seed 7
        """)

    @Option(help: "Model file written by vst train (flow-matching, score-sde or realnvp).") var model: String
    @Option(help: "Data: a .npy/.csv file, digits, or a toy (moons, eight-gaussians, checkerboard, spiral; lifted with --dim).") var data: String
    @Option(help: "Toys: dimension of the lift.") var dim: Int?
    @Option(help: "Rows: toys draw this many (default 1000); files and digits take a seeded subset (default all).") var count: Int?
    @Option(help: "ODE steps (fixed grid).") var steps: Int = 100
    @Option(help: "ODE method: euler, heun or rk4.") var method: String = "rk4"
    @Option(help: "Divergence: auto (exact for D ≤ 64), exact, or hutchinson:K (K Rademacher probes).") var divergence: String = "auto"
    @Option(help: "Score-SDE: start time of the probability-flow integral (default: the training ε for noise prediction; where the noise std reaches 0.05 for data prediction, see the README).") var epsilon: Double?
    @Option(help: "Seed of the toy rows / subset and of the Hutchinson probes.") var seed: UInt64 = 0
    @Option(name: [.short, .customLong("output")], help: "Write every row's log-likelihood (data units, nats) as a .npy.") var output: String?
    @Flag(help: "Print exactly one JSON object to stdout instead of a table.") var json = false
    @Flag(help: "Overwrite an existing -o file.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false

    func run() throws {
        var job = LikelihoodJob(model: model, data: data)
        job.dim = dim; job.count = count; job.steps = steps; job.method = method; job.divergence = divergence
        job.epsilon = epsilon; job.seed = seed; job.output = output; job.force = force; job.quiet = quiet
        let result = try job.run()
        Outputs.emit(result.json, table: result.table, json: json)
    }
}
