/// How much work `vst demo` does: the full study (under 5 minutes on 2 cores) or `--quick` (under 1 minute).
/// Every number here is part of the study's definition, so a report records the budget it was made with.
struct DemoBudget: Sendable {
    /// Training steps of each diffusion / flow model (the mid checkpoint is taken at half).
    var trainSteps: Int
    /// Training steps of the VAE.
    var vaeSteps: Int
    /// Hidden width and residual blocks of the MLP denoisers.
    var hidden: Int
    var blocks: Int
    var batchSize: Int
    /// DDPM training/sampling timesteps T (the ancestral sampler runs all of them).
    var timesteps: Int
    /// Samples drawn per sampler (at most the held-out size is compared with held-out data).
    var samples: Int
    /// Samples whose path is recorded, and the recording stride of the DDPM ancestral sampler.
    var trajectoryRows: Int
    var ddpmRecordEvery: Int
    /// Rungs of the scaling study and rows per rung.
    var rungs: [Int]
    var toyRows: Int
    /// Permutations of the MMD tests.
    var permutations: Int

    static let full = DemoBudget(trainSteps: 2500, vaeSteps: 3000, hidden: 192, blocks: 3, batchSize: 256, timesteps: 1000, samples: 500,
                                 trajectoryRows: 200, ddpmRecordEvery: 25, rungs: [64, 128, 256, 512, 1024], toyRows: 2000, permutations: 200)
    static let quick = DemoBudget(trainSteps: 1500, vaeSteps: 600, hidden: 128, blocks: 2, batchSize: 256, timesteps: 1000, samples: 300,
                                  trajectoryRows: 120, ddpmRecordEvery: 50, rungs: [64, 128, 256, 512], toyRows: 800, permutations: 100)
}
