#!/usr/bin/env python3
"""Reference values for the Generative module's schedules, computed with numpy in float64.

Writes data/golden/generative_golden.json with, at a set of probe timesteps / times / noise levels:
  - DDPM schedules (T = 1000): linear 1e-4 -> 0.02 (Ho et al. 2020), cosine s = 0.008 with betas clipped at 0.999
    (Nichol & Dhariwal 2021, `betas_for_alpha_bar` of improved-diffusion), scaled-linear 0.00085 -> 0.012
    (latent diffusion: linspace of sqrt(beta), squared): betas, alphas_cumprod, posterior variance
    beta_t (1 - abar_{t-1}) / (1 - abar_t), its log clipped (t = 0 uses t = 1), posterior mean coefficients,
    SNR = abar / (1 - abar);
  - DDIM (diffusers' conventions): timesteps for spacing leading (with steps_offset), trailing and linspace;
    variance(t, p) = (1 - abar_p)/(1 - abar_t) * (1 - abar_t/abar_p) with abar_p of the previous *sampling*
    timestep (abar_{-1} = 1, "set_alpha_to_one");
  - score SDEs of Song et al. 2021 (VP and sub-VP beta 0.1 -> 20, VE sigma 0.01 -> 50): marginal mean coefficient,
    std, diffusion g(t), drift coefficient, as in score_sde's `sde_lib.py`;
  - consistency models (Song et al. 2023, EDM parameterisation): c_skip, c_out, c_in, Karras boundaries,
    N(k) and mu(k) of consistency training (s0 = 2, s1 = 150, mu0 = 0.9);
  - the largest pairwise distance of a small random matrix (scipy.spatial.distance.pdist);
  - statistics of the bundled digits scaled to [-1, 1] (x / 8 - 1).
Run from anywhere: python3 data/golden/make_generative_golden.py
"""
import json
import math
import os

import numpy as np
from scipy.spatial.distance import pdist

here = os.path.dirname(os.path.abspath(__file__))
out = {}
T = 1000
probe = [0, 1, 2, 3, 10, 100, 250, 487, 500, 750, 900, 998, 999]


def betas_for_alpha_bar(n, alpha_bar, max_beta=0.999):
    return np.array([min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), max_beta) for i in range(n)])


def schedule(betas):
    alphas = 1.0 - betas
    abar = np.cumprod(alphas)
    abar_prev = np.append(1.0, abar[:-1])
    post_var = betas * (1.0 - abar_prev) / (1.0 - abar)
    return dict(
        betas=betas[probe].tolist(),
        alphas_cumprod=abar[probe].tolist(),
        sqrt_one_minus_alphas_cumprod=np.sqrt(1 - abar)[probe].tolist(),
        posterior_variance=post_var[probe].tolist(),
        posterior_log_variance_clipped=np.log(np.append(post_var[1], post_var[1:]))[probe].tolist(),
        posterior_mean_coef1=(betas * np.sqrt(abar_prev) / (1.0 - abar))[probe].tolist(),
        posterior_mean_coef2=((1.0 - abar_prev) * np.sqrt(alphas) / (1.0 - abar))[probe].tolist(),
        snr=(abar / (1 - abar))[probe].tolist(),
    ), abar


out["probe_timesteps"] = probe
lin_betas = np.linspace(1e-4, 0.02, T, dtype=np.float64)
out["linear"], abar_lin = schedule(lin_betas)
s = 0.008
out["cosine"], _ = schedule(betas_for_alpha_bar(T, lambda t: math.cos((t + s) / (1 + s) * math.pi / 2) ** 2))
out["scaled_linear"], _ = schedule(np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=np.float64) ** 2)


# DDIM (diffusers DDIMScheduler.set_timesteps and _get_variance).
def ddim_timesteps(n, spacing, offset):
    if spacing == "linspace":
        return np.linspace(0, T - 1, n).round()[::-1].astype(np.int64).tolist()
    if spacing == "leading":
        ratio = T // n
        return ((np.arange(0, n) * ratio).round()[::-1].astype(np.int64) + offset).tolist()
    ratio = T / n
    return (np.round(np.arange(T, 0, -ratio)).astype(np.int64) - 1).tolist()


cases = []
for spacing in ["leading", "trailing", "linspace"]:
    for n, offset in [(1, 0), (3, 0), (5, 0), (5, 1), (7, 0), (10, 1), (50, 0), (50, 1), (999, 0), (1000, 0)]:
        if spacing != "leading" and offset != 0:
            continue
        cases.append(dict(spacing=spacing, steps=n, offset=offset, timesteps=ddim_timesteps(n, spacing, offset)))
out["ddim_timesteps"] = cases


def ddim_variance(t, p):
    at = abar_lin[t]
    ap = abar_lin[p] if p >= 0 else 1.0
    return (1 - ap) / (1 - at) * (1 - at / ap)


pairs = [[420, 400], [980, 960], [0, -1], [487, 486], [999, 998], [801, 601], [1, -1], [500, 0]]
out["ddim_variance"] = dict(pairs=pairs, variance=[ddim_variance(t, p) for t, p in pairs])

# Score SDEs (score_sde/sde_lib.py).
times = [1e-5, 1e-3, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
bmin, bmax = 0.1, 20.0
smin, smax = 0.01, 50.0
tt = np.array(times)
log_mean = -0.25 * tt ** 2 * (bmax - bmin) - 0.5 * tt * bmin
beta_t = bmin + tt * (bmax - bmin)
out["sde"] = dict(
    times=times,
    vp_mean=np.exp(log_mean).tolist(),
    vp_std=np.sqrt(1 - np.exp(2 * log_mean)).tolist(),
    vp_diffusion=np.sqrt(beta_t).tolist(),
    vp_drift_coefficient=(-0.5 * beta_t).tolist(),
    subvp_std=(1 - np.exp(2 * log_mean)).tolist(),
    subvp_diffusion=np.sqrt(beta_t * (1 - np.exp(-2 * bmin * tt - (bmax - bmin) * tt ** 2))).tolist(),
    ve_std=(smin * (smax / smin) ** tt).tolist(),
    ve_diffusion=(smin * (smax / smin) ** tt * np.sqrt(2 * (np.log(smax) - np.log(smin)))).tolist(),
)

# Consistency models (consistency_models/cm/karras_diffusion.py get_scalings_for_boundary_condition).
sigma_min, sigma_max, rho, sigma_data = 0.002, 80.0, 7.0, 0.5
sig = np.array([0.002, 0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 80.0])
c_skip = sigma_data ** 2 / ((sig - sigma_min) ** 2 + sigma_data ** 2)
c_out = (sig - sigma_min) * sigma_data / (sig ** 2 + sigma_data ** 2) ** 0.5
c_in = 1 / (sig ** 2 + sigma_data ** 2) ** 0.5


def karras(n):
    i = np.arange(n)
    return (sigma_min ** (1 / rho) + i / (n - 1) * (sigma_max ** (1 / rho) - sigma_min ** (1 / rho))) ** rho


K, s0, s1, mu0 = 800000, 2, 150, 0.9
ks = [0, 1, 1000, 100000, 400000, 799999, 800000]
N = [int(np.ceil(np.sqrt(k / K * ((s1 + 1) ** 2 - s0 ** 2) + s0 ** 2) - 1) + 1) for k in ks]
out["consistency"] = dict(
    sigmas=sig.tolist(), c_skip=c_skip.tolist(), c_out=c_out.tolist(), c_in=c_in.tolist(),
    karras18=karras(18).tolist(), karras40=karras(40).tolist(),
    total_steps=K, ks=ks, N=N, mu=[math.exp(s0 * math.log(mu0) / n) for n in N],
)

# Largest pairwise distance.
rng = np.random.default_rng(20240605)
x = rng.standard_normal((37, 5)) * np.array([1, 2, 3, 0.5, 0.1]) + 10
out["pairwise"] = dict(rows=37, cols=5, x=x.ravel().tolist(), largest=float(pdist(x).max()))

# Digits scaled to [-1, 1].
raw = np.loadtxt(os.path.join(here, "..", "digits.csv"), delimiter=",", comments="#")
pix = raw[:, :64] / 8.0 - 1.0
out["digits"] = dict(rows=int(raw.shape[0]), mean=float(pix.mean()), std=float(pix.std()),
                     column_means=pix.mean(axis=0)[[0, 10, 20, 36, 63]].tolist(), columns=[0, 10, 20, 36, 63],
                     label_counts=np.bincount(raw[:, 64].astype(int)).tolist())

with open(os.path.join(here, "generative_golden.json"), "w") as f:
    json.dump(out, f)
print("wrote", os.path.join(here, "generative_golden.json"))
