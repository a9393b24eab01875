// Generative: the eleven families of generative models, their training and sampling, and the evaluation of their
// samples.
//
// Diffusion and flow families (network + loss + samplers, each with a typed configuration of paper defaults):
//   Networks/Denoiser.swift             `Denoiser` protocol (x_t, time, labels → [n, D]) and `MLPDenoiser`
//   Networks/DiT.swift                  DiT: patchify, sin-cos or learned positions, AdaLN-Zero blocks, null class
//   Networks/DenoiserConfiguration.swift  mlp | dit, stored in model files
//   Families/DDPM.swift                 DDPM (ε / x₀ / v, β or β̃, x₀ clipping, ancestral) + DDIM sampling/inversion
//   Families/FlowMatching.swift         flow matching on the linear path with σ_min; ODE sampling
//   Families/OptimalTransport.swift     minibatch OT pairing: exact assignment, Sinkhorn
//   Families/ScoreSDEModel.swift        score SDE (VP / sub-VP / VE): DSM loss, Euler–Maruyama, PC, PF-ODE
//   Families/ScoreSDELikelihood.swift   exact log-likelihood through the PF-ODE (Hutchinson or exact divergence)
//   Families/ConsistencyModel.swift     consistency training (CT, improved CT) and one-/multistep sampling
//   Families/ConsistencyTeacher.swift   distillation (CD) from a DDPM, score-SDE or flow-matching teacher
//   Training/DenoisingFamily.swift      `TrainableFamily`: what a denoising family gives `DenoisingModel`
//   Training/DenoisingModel.swift       `DenoisingModel` (AdamW, warm-up + cosine LR, EMA, divergence stop) and
//                                       `Trainer` (checkpoints and exact resume of one denoising model)
//   Sampling/SamplerName.swift          samplers by name, validated per family; sampling a model file
//
// Latent-variable, adversarial and flow families (each owns its networks and optimisers):
//   Families/VAE.swift                  VAE (Gaussian encoder, ELBO with KL warm-up, IWAE bound)
//   Families/VQVAE.swift                VQ-VAE (straight-through, commitment loss, gradient or EMA codebook)
//   Families/GAN.swift                  non-saturating GAN, WGAN-GP, conditional GAN
//   Families/RealNVP.swift              RealNVP affine couplings: exact log-likelihood and inverse
//   Families/LatentDiffusion.swift      a diffusion model in a trained VAE's latent space
//
// The one contract of every family:
//   Training/GenerativeModel.swift      `GenerativeModel`: named networks and optimisers, a training step, sampling,
//                                       a Codable configuration; `FeedForward`, `ModuleGroup`
//   Training/GenerativeTrainer.swift    `GenerativeTrainer`: the one training loop, progress through a callback
//   Training/GenerativeModelFile.swift  the one model file (`substrate-generative/2`; earlier formats still load)
//
// Evaluation of samples (beyond Substrate's data-space metrics):
//   Evaluation/DigitsClassifier.swift   the bundled digits classifier (data/classifier/) and its penultimate features
//   Evaluation/FeatureQuality.swift     feature-space Fréchet distance and class coverage
//
// What the families share and that needs no network:
//
//   Schedules/BetaSchedule.swift        linear, cosine, scaled-linear betas (DDPM / Nichol & Dhariwal / LDM)
//   Schedules/DiffusionSchedule.swift   α, ᾱ, √ᾱ, √(1 − ᾱ), posterior variance β̃ (and clipped log), posterior mean
//                                       coefficients, SNR; forward noising; the DDPM ancestral step
//   Schedules/PredictionTarget.swift    ε / x₀ / v targets and the conversions between them
//   Schedules/DDIMSchedule.swift        timestep spacing (leading / trailing / linspace, offset), σ_t(η), the step
//   Schedules/ScoreSDE.swift            VP, sub-VP, VE SDEs: marginals, drift, diffusion, λ(t), reverse drifts
//   Schedules/ConsistencySchedule.swift EDM c_skip / c_out / c_in, Karras σ's, the N(k) and μ(k) curricula
//   Solvers/                            Euler, Heun, RK4, adaptive Dormand–Prince 5(4), Euler–Maruyama
//   Data/                               digits in [−1, 1], 2-D toys, orthogonal lifting to D, splits, DataSource
//   Trajectory/TrajectoryRecorder.swift every k-th state of a batch → T×n×D `.npy` for `vst trajectory`
//   Sampling/NoiseSource.swift          injectable noise: sample i's noise depends only on (seed, i, step, stream)
//
// Timesteps of the discrete schedules are 0-based (t = 0 … T − 1) as in diffusers and the papers' code.
// Schedules are computed in Double; tensors may be Float or Double.
