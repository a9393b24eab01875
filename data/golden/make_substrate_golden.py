#!/usr/bin/env python3
"""Writes data/golden/substrate_golden.json: inputs and numpy/scipy reference values for the Substrate module's
alignment (spec §8), sample-quality (§8b) and drift (§7) measures.

Run from anywhere:  python3 data/golden/make_substrate_golden.py
Deterministic: one fixed seed; the file is rewritten identically on every run (for a given numpy/scipy version).
Read by Tests/SubstrateTests/SubstrateGoldenTests.swift.

Conventions:
  * Inputs are generated here with a fixed seed, rounded to float32 (stored as the float64 of that float32), so a
    Float run sees exactly the same input as a Double run. References are computed in float64.
  * A matrix is {"shape": [rows, cols], "data": [row-major values]}.

Sources of the reference formulas (re-implemented below, not imported):
  * CKA: Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of Neural Network Representations Revisited", and
    their reference notebook https://github.com/google-research/google-research/blob/master/
    representation_similarity/Demo.ipynb — functions gram_linear, gram_rbf, center_gram(unbiased=...), cka,
    _debiased_dot_product_similarity_helper and feature_space_linear_cka(debiased=...). The debiased variant is
    the unbiased HSIC estimator of Song et al. (2012) (U-centring of Székely & Rizzo 2014 in center_gram).
  * SVCCA: Raghu, Gilmer, Yosinski & Sohl-Dickstein (2017): keep the top PCs explaining 99 % of the variance,
    then CCA; canonical correlations are the singular values of Q_xᵀQ_y for orthonormal bases of the two
    (centred) reduced representations.
  * Orthogonal Procrustes: scipy.linalg.orthogonal_procrustes (its `scale` is the nuclear norm ‖AᵀB‖_*).
  * Mutual k-NN: Huh, Cheung, Wang & Isola (2024), "The Platonic Representation Hypothesis".
  * KID: Bińkowski et al. (2018); the estimator of clean-fid's kernel_distance / torch-fidelity's kid
    (polynomial kernel (xᵀy/D + 1)³, unbiased MMD²).
  * Precision/recall: Kynkäänniemi et al. (2019); density/coverage: Naeem et al. (2020), after the prdc reference
    code (https://github.com/clovaai/generative-evaluation-prdc) — with "≤ radius" (spec §8b) where prdc uses "<".
  * KS: scipy.stats.ks_2samp statistic; p = scipy.stats.kstwobign.sf(D·√(mn/(m+n))) (the asymptotic p that
    Drift.ks uses).
"""
import json
import math
import os

import numpy as np
import scipy
import scipy.linalg
import scipy.stats

SEED = 20251126
rng = np.random.default_rng(SEED)


def f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def mat(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.ravel()]}


# ---------------------------------------------------------------------------------------------------------------
# Kornblith et al. reference notebook (re-implemented).

def gram_linear(x):
    return x.dot(x.T)


def gram_rbf(x, threshold=1.0):
    dot_products = x.dot(x.T)
    sq_norms = np.diag(dot_products)
    sq_distances = -2 * dot_products + sq_norms[:, None] + sq_norms[None, :]
    sq_median_distance = np.median(sq_distances)
    return np.exp(-sq_distances / (2 * threshold ** 2 * sq_median_distance))


def center_gram(gram, unbiased=False):
    if not np.allclose(gram, gram.T):
        raise ValueError("Input must be a symmetric matrix.")
    gram = gram.copy()
    if unbiased:
        n = gram.shape[0]
        np.fill_diagonal(gram, 0)
        means = np.sum(gram, 0, dtype=np.float64) / (n - 2)
        means -= np.sum(means) / (2 * (n - 1))
        gram -= means[:, None]
        gram -= means[None, :]
        np.fill_diagonal(gram, 0)
    else:
        means = np.mean(gram, 0, dtype=np.float64)
        means -= np.mean(means) / 2
        gram -= means[:, None]
        gram -= means[None, :]
    return gram


def cka(gram_x, gram_y, debiased=False):
    gram_x = center_gram(gram_x, unbiased=debiased)
    gram_y = center_gram(gram_y, unbiased=debiased)
    scaled_hsic = gram_x.ravel().dot(gram_y.ravel())
    normalization_x = np.linalg.norm(gram_x)
    normalization_y = np.linalg.norm(gram_y)
    return scaled_hsic / (normalization_x * normalization_y)


def _debiased_dot_product_similarity_helper(xty, sum_squared_rows_x, sum_squared_rows_y, squared_norm_x,
                                            squared_norm_y, n):
    return (xty - n / (n - 2.) * sum_squared_rows_x.dot(sum_squared_rows_y)
            + squared_norm_x * squared_norm_y / ((n - 1) * (n - 2)))


def feature_space_linear_cka(features_x, features_y, debiased=False):
    features_x = features_x - np.mean(features_x, 0, keepdims=True)
    features_y = features_y - np.mean(features_y, 0, keepdims=True)
    dot_product_similarity = np.linalg.norm(features_x.T.dot(features_y)) ** 2
    normalization_x = np.linalg.norm(features_x.T.dot(features_x))
    normalization_y = np.linalg.norm(features_y.T.dot(features_y))
    if debiased:
        n = features_x.shape[0]
        sum_squared_rows_x = np.einsum('ij,ij->i', features_x, features_x)
        sum_squared_rows_y = np.einsum('ij,ij->i', features_y, features_y)
        squared_norm_x = np.sum(sum_squared_rows_x)
        squared_norm_y = np.sum(sum_squared_rows_y)
        dot_product_similarity = _debiased_dot_product_similarity_helper(
            dot_product_similarity, sum_squared_rows_x, sum_squared_rows_y, squared_norm_x, squared_norm_y, n)
        normalization_x = np.sqrt(_debiased_dot_product_similarity_helper(
            normalization_x ** 2, sum_squared_rows_x, sum_squared_rows_x, squared_norm_x, squared_norm_x, n))
        normalization_y = np.sqrt(_debiased_dot_product_similarity_helper(
            normalization_y ** 2, sum_squared_rows_y, sum_squared_rows_y, squared_norm_y, squared_norm_y, n))
    return dot_product_similarity / (normalization_x * normalization_y)


# ---------------------------------------------------------------------------------------------------------------
# The other alignment measures (spec §8).

def svcca(x, y, variance=0.99):
    def reduced_basis(a):
        ac = a - a.mean(0)
        u, s, _ = np.linalg.svd(ac, full_matrices=False)
        lam = s ** 2
        ratio = np.cumsum(lam) / lam.sum()
        k = int(np.searchsorted(ratio, variance) + 1)
        k = min(k, 9 * math.ceil(a.shape[1] / 9), len(s))
        return u[:, :k], k
    ux, kx = reduced_basis(x)
    uy, ky = reduced_basis(y)
    # QR of the whitened PC scores (here U already has orthonormal columns; QR keeps the route explicit).
    qx, _ = np.linalg.qr(ux)
    qy, _ = np.linalg.qr(uy)
    rho = np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0, 1)
    return float(rho.mean()), kx, ky, rho


def normalized(a):
    ac = a - a.mean(0)
    return ac / np.linalg.norm(ac)


def procrustes(x, y):
    a, b = normalized(x), normalized(y)
    w = max(a.shape[1], b.shape[1])
    a = np.pad(a, ((0, 0), (0, w - a.shape[1])))
    b = np.pad(b, ((0, 0), (0, w - b.shape[1])))
    _, scale = scipy.linalg.orthogonal_procrustes(a, b)
    nuclear = np.linalg.svd(a.T @ b, compute_uv=False).sum()
    assert abs(scale - nuclear) < 1e-12
    return float(scale), float(math.sqrt(max(0.0, 2 - 2 * scale)))


def signal_rank(a):
    """Gavish–Donoho hard threshold with unknown noise (spec §3)."""
    ac = a - a.mean(0)
    s = np.linalg.svd(ac, compute_uv=False)
    n, d = a.shape
    beta = min(n, d) / max(n, d)
    omega = 0.56 * beta ** 3 - 0.95 * beta ** 2 + 1.82 * beta + 1.43
    tau = omega * np.median(s)
    return int((s > tau).sum())


def core_coordinates(a, c):
    """Top-c PC scores with the sign convention of Projection (largest-magnitude entry of each direction > 0)."""
    ac = a - a.mean(0)
    _, _, vt = np.linalg.svd(ac, full_matrices=False)
    v = vt[:c].T.copy()
    for j in range(c):
        i = np.argmax(np.abs(v[:, j]))
        if v[i, j] < 0:
            v[:, j] = -v[:, j]
    return ac @ v


def core_procrustes(x, y):
    c = max(1, min(signal_rank(x), signal_rank(y), 9))
    zx, zy = normalized(core_coordinates(x, c)), normalized(core_coordinates(y, c))
    r, scale = scipy.linalg.orthogonal_procrustes(zx, zy)   # argmin ‖zx·R − zy‖_F
    return c, float(scale), r


def mutual_knn(x, y, k=10):
    def knn(a):
        an = a / np.linalg.norm(a, axis=1, keepdims=True)
        s = an @ an.T
        np.fill_diagonal(s, -np.inf)
        return np.argsort(-s, axis=1, kind="stable")[:, :k]
    nx, ny = knn(x), knn(y)
    return float(np.mean([len(set(nx[i]) & set(ny[i])) / k for i in range(x.shape[0])]))


def linear_predictivity(x, y, train, test):
    xtr, ytr = x[train], y[train]
    mx, my = xtr.mean(0), ytr.mean(0)
    xc, yc = xtr - mx, ytr - my
    lam = 1e-3 * np.trace(xc.T @ xc) / x.shape[1]
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ yc)
    pred = (x[test] - mx) @ w + my
    yt = y[test]
    r2 = 1 - ((yt - pred) ** 2).sum() / ((yt - yt.mean(0)) ** 2).sum()
    return float(lam), float(r2)


def alignment_case(name, x, y):
    n = x.shape[0]
    lin = feature_space_linear_cka(x, y)
    lin_gram = cka(gram_linear(x - x.mean(0)), gram_linear(y - y.mean(0)))
    deb = feature_space_linear_cka(x, y, debiased=True)
    deb_gram = cka(gram_linear(x - x.mean(0)), gram_linear(y - y.mean(0)), debiased=True)
    assert abs(lin - lin_gram) < 1e-12 and abs(deb - deb_gram) < 1e-12
    rbf = cka(gram_rbf(x, 0.5), gram_rbf(y, 0.5))
    sv, kx, ky, rho = svcca(x, y)
    ps, pd = procrustes(x, y)
    c, cps, rot = core_procrustes(x, y)
    perm = rng.permutation(n)
    n_test = max(2, n - int(round(0.8 * n)))
    train, test = sorted(perm[n_test:].tolist()), sorted(perm[:n_test].tolist())
    lam, r2 = linear_predictivity(x, y, train, test)
    return {
        "name": name, "x": mat(x), "y": mat(y),
        "linear_cka": float(lin), "debiased_cka": float(deb), "rbf_cka": float(rbf),
        "svcca": sv, "svcca_components_x": kx, "svcca_components_y": ky,
        "svcca_correlations": [float(v) for v in rho],
        "procrustes_similarity": ps, "procrustes_distance": pd,
        "signal_rank_x": signal_rank(x), "signal_rank_y": signal_rank(y),
        "core_dimension": c, "core_procrustes_similarity": cps, "core_rotation": mat(rot),
        "mutual_knn": mutual_knn(x, y, 10),
        "predictivity_train_rows": train, "predictivity_test_rows": test,
        "ridge_lambda": lam, "linear_predictivity_r2": r2,
    }


# ---------------------------------------------------------------------------------------------------------------
# Sample quality (spec §8b) and drift (§7).

def sq_dist(a, b):
    return np.maximum(0, (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T)


def median_bandwidth2(a):
    """h² = ½ · median of the pairwise squared distances within a, diagonal excluded (alibi-detect)."""
    d2 = sq_dist(a, a)
    iu = np.triu_indices(a.shape[0], 1)
    return 0.5 * float(np.median(d2[iu]))


def unbiased_mmd2(kxx, kyy, kxy):
    m, n = kxx.shape[0], kyy.shape[0]
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())


def rbf_mmd2(a, b):
    h2 = median_bandwidth2(a)
    k = lambda p, q: np.exp(-sq_dist(p, q) / (2 * h2))
    return float(unbiased_mmd2(k(a, a), k(b, b), k(a, b))), h2


def poly_mmd2(a, b):
    d = a.shape[1]
    k = lambda p, q: (p @ q.T / d + 1) ** 3
    return float(unbiased_mmd2(k(a, a), k(b, b), k(a, b)))


def clean_fid_kid_one_subset(feats1, feats2):
    """clean-fid's kernel_distance with one subset of size m = n (so the subset is the whole set)."""
    n = feats1.shape[1]
    m = feats1.shape[0]
    assert feats2.shape[0] == m
    x, y = feats2, feats1
    a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
    b = (x @ y.T / n + 1) ** 3
    t = (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    return float(t / m)


def kth_radius(a, k):
    d = np.sqrt(sq_dist(a, a))
    return np.sort(d, axis=1)[:, k]       # column 0 is the point itself (distance 0)


def prdc(real, fake, k):
    rr, fr = kth_radius(real, k), kth_radius(fake, k)
    d = np.sqrt(sq_dist(real, fake))                         # real × fake
    inside_real = d <= rr[:, None]
    precision = inside_real.any(axis=0).mean()
    recall = (d <= fr[None, :]).any(axis=1).mean()
    density = inside_real.sum(axis=0).mean() / k
    coverage = (d.min(axis=1) <= rr).mean()
    return float(precision), float(recall), float(density), float(coverage)


def frechet(a, b):
    ma, mb = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(sa)
    root = (v * np.sqrt(np.maximum(w, 0))) @ v.T
    m = root @ sb @ root
    m = (m + m.T) / 2
    tr_sqrt = np.sqrt(np.maximum(np.linalg.eigvalsh(m), 0)).sum()
    return float(max(0.0, ((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * tr_sqrt))


def ks_case(a, b):
    m, n = len(a), len(b)
    d = scipy.stats.ks_2samp(a, b).statistic
    lam = d * math.sqrt(m * n / (m + n))
    return {"a": [float(v) for v in a], "b": [float(v) for v in b], "statistic": float(d),
            "lambda": float(lam), "p_value": float(scipy.stats.kstwobign.sf(lam))}


def main():
    cases = []
    # Case 1: a nonlinear, partly shared low-rank structure, n = 80, Dx = 12, Dy = 7.
    n = 80
    z = rng.standard_normal((n, 3))
    x = f32(z @ rng.standard_normal((3, 12)) * 2 + 0.5 * rng.standard_normal((n, 12)) + 1.5)
    y = f32(np.tanh(z @ rng.standard_normal((3, 7))) * 3 + 0.8 * rng.standard_normal((n, 7)) - 2.0)
    cases.append(alignment_case("shared_nonlinear", x, y))
    # Case 2: the wide side wider than the narrow one by 4×, n = 60, Dx = 5, Dy = 20.
    n = 60
    z = rng.standard_normal((n, 2))
    x = f32(z @ rng.standard_normal((2, 5)) * 3 + rng.standard_normal((n, 5)))
    y = f32(z @ rng.standard_normal((2, 20)) + 0.7 * rng.standard_normal((n, 20)))
    cases.append(alignment_case("wide_y", x, y))
    # Case 3: independent noise, n = 100, D = 8 each.
    x = f32(rng.standard_normal((100, 8)))
    y = f32(rng.standard_normal((100, 8)))
    cases.append(alignment_case("independent", x, y))

    # Sample quality: a curved (ring) real set and a slightly-off generated set, D = 6.
    def ring(m, radius, noise):
        t = rng.uniform(0, 2 * np.pi, m)
        base = np.stack([radius * np.cos(t), radius * np.sin(t)], 1)
        emb = np.concatenate([base, 0.3 * rng.standard_normal((m, 4))], 1)
        return emb + noise * rng.standard_normal((m, 6))
    real = f32(ring(150, 2.0, 0.1))
    fake = f32(ring(120, 2.2, 0.25) + np.array([0.2, 0, 0, 0, 0, 0]))
    mmd, h2 = rbf_mmd2(real, fake)
    p3 = prdc(real, fake, 3)
    p5 = prdc(real, fake, 5)
    fd = frechet(real, fake)
    # Cross-check the eigh route against scipy's sqrtm.
    sa, sb = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    covmean = np.real(scipy.linalg.sqrtm(sa @ sb))
    fd_sqrtm = ((real.mean(0) - fake.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * covmean)
    assert abs(fd - fd_sqrtm) < 1e-8 * max(1, fd)
    real_eq = real[:120]
    sample_quality = {
        "real": mat(real), "generated": mat(fake),
        "bandwidth2": h2, "mmd2": mmd,
        "polynomial_mmd2": poly_mmd2(fake, real),
        "kid_equal_sizes": clean_fid_kid_one_subset(real_eq, fake),   # real[:120] vs generated, m = 120
        "precision": p3[0], "recall": p3[1], "density": p5[2], "coverage": p5[3],
        "precision_k5": p5[0], "recall_k5": p5[1], "density_k3": p3[2], "coverage_k3": p3[3],
        "frechet_distance": fd,
    }

    # Fréchet distance with a singular covariance (rank 3 in D = 5).
    a = f32(rng.standard_normal((50, 3)) @ rng.standard_normal((3, 5)))
    b = f32(rng.standard_normal((70, 5)) * 0.7 + 0.3)
    frechet_singular = {"a": mat(a), "b": mat(b), "frechet_distance": frechet(a, b), "frechet_distance_ba": frechet(b, a)}

    # KS.
    ks = [
        ks_case(f32(rng.standard_normal(40)), f32(rng.standard_normal(55) + 0.4)),
        ks_case(f32(rng.standard_normal(200)), f32(rng.standard_normal(180) * 1.3)),
        ks_case(f32(np.round(rng.standard_normal(60) * 2)), f32(np.round(rng.standard_normal(70) * 2 + 0.5))),  # ties
        ks_case(f32(rng.standard_normal(30)), f32(rng.standard_normal(30))),
    ]
    lambdas = [0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0, 1.36, 2.0, 3.0]
    survival = [{"lambda": l, "sf": float(scipy.stats.kstwobign.sf(l))} for l in lambdas]
    ka = f32(rng.standard_normal((45, 3)))
    kb = f32(rng.standard_normal((50, 3)) + np.array([0.0, 0.9, 0.2]))
    ks_matrix = {"a": mat(ka), "b": mat(kb), "statistics": [], "p_values_bonferroni": []}
    for f in range(3):
        c = ks_case(ka[:, f], kb[:, f])
        ks_matrix["statistics"].append(c["statistic"])
        ks_matrix["p_values_bonferroni"].append(min(1.0, 3 * c["p_value"]))

    out = {
        "generator": "data/golden/make_substrate_golden.py",
        "seed": SEED, "numpy": np.__version__, "scipy": scipy.__version__,
        "alignment": cases, "sample_quality": sample_quality, "frechet_singular": frechet_singular,
        "ks": ks, "kolmogorov_survival": survival, "ks_matrix": ks_matrix,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "substrate_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    for c in cases:
        print(c["name"], {k: c[k] for k in ["linear_cka", "debiased_cka", "rbf_cka", "svcca", "procrustes_similarity",
                                             "core_dimension", "core_procrustes_similarity", "mutual_knn",
                                             "linear_predictivity_r2"]})
    print({k: v for k, v in sample_quality.items() if not isinstance(v, dict)})


if __name__ == "__main__":
    main()
