// Generative: the diffusion and flow family (issue #5). This part holds what the families share and that needs
// no network; the families themselves (network + loss + sampler) build on Neural and come next.
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
