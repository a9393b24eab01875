// Generative: the diffusion and flow family (issue #5).
//
// The families (network + loss + samplers, each with a typed configuration of paper defaults):
//   Networks/Denoiser.swift             `Denoiser` protocol (x_t, time, labels → [n, D]) and `MLPDenoiser`
//   Families/DDPM.swift                 DDPM (ε / x₀ / v, β or β̃, x₀ clipping, ancestral) + DDIM sampling/inversion
//   Families/FlowMatching.swift         flow matching on the linear path with σ_min; ODE sampling
//   Families/OptimalTransport.swift     minibatch OT pairing: exact assignment, Sinkhorn
//   Families/ScoreSDEModel.swift        score SDE (VP / sub-VP / VE): DSM loss, Euler–Maruyama, PC, PF-ODE
//   Training/                           `Trainer` (AdamW, EMA, progress, checkpoints, resume), model files
//   Sampling/SamplerName.swift          samplers by name, validated per family; sampling a model file
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
