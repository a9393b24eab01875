/// How much work `vst demo` does: the full study (under 5 minutes on 2 cores) or `--quick` (under 1 minute).
/// Every number here is part of the study's definition, so a report records the budget it was made with.
public struct DemoBudget: Sendable {
    /// Training steps of each diffusion / flow model (the mid checkpoint is taken at half).
    public var trainSteps: Int
    /// Training steps of the VAE.
    public var vaeSteps: Int
    /// Hidden width and residual blocks of the MLP denoisers.
    public var hidden: Int
    public var blocks: Int
    public var batchSize: Int
    /// DDPM training/sampling timesteps T (the ancestral sampler runs all of them).
    public var timesteps: Int
    /// Samples drawn per sampler (at most the held-out size is compared with held-out data).
    public var samples: Int
    /// Samples whose path is recorded, and the recording stride of the DDPM ancestral sampler.
    public var trajectoryRows: Int
    public var ddpmRecordEvery: Int
    /// Rungs of the scaling study and rows per rung.
    public var rungs: [Int]
    public var toyRows: Int
    /// Permutations of the MMD tests.
    public var permutations: Int

    public init(trainSteps: Int, vaeSteps: Int, hidden: Int, blocks: Int, batchSize: Int, timesteps: Int, samples: Int,
                trajectoryRows: Int, ddpmRecordEvery: Int, rungs: [Int], toyRows: Int, permutations: Int) {
        self.trainSteps = trainSteps; self.vaeSteps = vaeSteps; self.hidden = hidden; self.blocks = blocks
        self.batchSize = batchSize; self.timesteps = timesteps; self.samples = samples; self.trajectoryRows = trajectoryRows
        self.ddpmRecordEvery = ddpmRecordEvery; self.rungs = rungs; self.toyRows = toyRows; self.permutations = permutations
    }

    public static let full = DemoBudget(trainSteps: 2500, vaeSteps: 3000, hidden: 192, blocks: 3, batchSize: 256, timesteps: 1000, samples: 500,
                                 trajectoryRows: 200, ddpmRecordEvery: 25, rungs: [64, 128, 256, 512, 1024], toyRows: 2000, permutations: 200)
    public static let quick = DemoBudget(trainSteps: 1500, vaeSteps: 600, hidden: 128, blocks: 2, batchSize: 256, timesteps: 1000, samples: 300,
                                  trajectoryRows: 120, ddpmRecordEvery: 50, rungs: [64, 128, 256, 512], toyRows: 800, permutations: 100)
}
