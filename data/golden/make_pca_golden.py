"""Golden values for Substrate's spectrum statistics and projection (vst-spec §2, §3), from scikit-learn and numpy.

Writes data/golden/pca_golden.json. Run: python3 data/golden/make_pca_golden.py (needs numpy and scikit-learn).
Components are compared after the spec's sign rule (each component's largest-magnitude entry positive).
TwoNN follows Facco et al. 2017 (discard the largest 10 % of mu; fit through the origin).
"""
import json
import pathlib

import numpy as np
from sklearn.decomposition import PCA

rng = np.random.default_rng(20251125)


def orient(components):
    out = components.copy()
    for i, row in enumerate(out):
        if row[np.argmax(np.abs(row))] < 0:
            out[i] = -row
    return out


def gavish_donoho(x):
    xc = x - x.mean(axis=0)
    s = np.linalg.svd(xc, compute_uv=False)
    n, d = x.shape
    beta = min(n, d) / max(n, d)
    omega = 0.56 * beta**3 - 0.95 * beta**2 + 1.82 * beta + 1.43
    tau = omega * np.median(s)
    return int((s > tau).sum()), float(tau), s


def twonn(x, discard=0.1):
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    part = np.sort(d2, axis=1)[:, :2]
    r1, r2 = np.sqrt(part[:, 0]), np.sqrt(part[:, 1])
    keep = r1 > 0
    mu = np.sort(r2[keep] / r1[keep])
    n = len(mu)
    k = int(np.floor(n * (1 - discard)))
    f = np.arange(1, n + 1) / n
    xs, ys = np.log(mu[:k]), -np.log(1 - f[:k])
    return float((xs * ys).sum() / (xs * xs).sum())


cases = []
for name, n, d, r, s in [("tall", 150, 12, 3, 5.0), ("square", 40, 40, 4, 6.0), ("wide", 20, 35, 2, 8.0)]:
    z = rng.standard_normal((n, r))
    a = np.linalg.qr(rng.standard_normal((d, r)))[0].T * s
    x = z @ a + rng.standard_normal((n, d)) + rng.standard_normal(d) * 3
    x = np.round(x, 6)  # exactly representable inputs in the JSON
    pca = PCA(n_components=min(n, d), svd_solver="full").fit(x)
    k, tau, sv = gavish_donoho(x)
    lam = sv**2 / (n - 1)
    lam_full = np.concatenate([lam, np.zeros(d - len(lam))])
    cases.append({
        "name": name, "n": n, "d": d, "x": x.ravel().tolist(),
        "mean": pca.mean_.tolist(),
        "explained_variance": pca.explained_variance_.tolist(),
        "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
        "singular_values": pca.singular_values_.tolist(),
        "components": orient(pca.components_).ravel().tolist(),
        "participation_ratio": float(lam_full.sum() ** 2 / (lam_full**2).sum()),
        "signal_rank": k, "threshold": tau,
        "signal_energy": float(lam[:k].sum() / lam.sum()) if k > 0 else 0.0,
        "core_energy": {str(c): float(lam_full[:c].sum() / lam_full.sum()) for c in (3, 6, 9)},
        "twonn": twonn(x),
    })

out = pathlib.Path(__file__).with_name("pca_golden.json")
out.write_text(json.dumps({"generator": "make_pca_golden.py", "cases": cases}, indent=None))
print(f"wrote {out} ({out.stat().st_size} bytes)")
