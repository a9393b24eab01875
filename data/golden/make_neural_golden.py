#!/usr/bin/env python3
"""Reference values for the Neural module's forward passes, computed with numpy in float64.

Writes data/golden/neural_golden.json with the inputs, weights and outputs of:
  - multi-head self-attention (qkv fused [3d, d] as q, k, v stacked; heads contiguous; causal mask; out proj),
  - multi-head cross-attention (q [d, d], kv fused [2d, ctx]),
  - conv2d (stride 2, padding 1) and conv_transpose2d (stride 2, padding 1, output_padding 1) by direct loops,
  - layer norm (eps 1e-5) with affine, GELU (tanh form), sinusoidal timestep embedding ([cos, sin]).
Run from anywhere: python3 data/golden/make_neural_golden.py
"""
import json
import os

import numpy as np

rng = np.random.default_rng(20240603)
out = {}


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def heads_split(x, h):  # [b, t, d] -> [b, h, t, d/h]
    b, t, d = x.shape
    return x.reshape(b, t, h, d // h).transpose(0, 2, 1, 3)


def attention(q, k, v, h, mask=None):
    qh, kh, vh = heads_split(q, h), heads_split(k, h), heads_split(v, h)
    s = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(qh.shape[-1])
    if mask is not None:
        s = s + (mask - 1.0) * 1e9
    o = softmax(s) @ vh  # [b, h, t, dh]
    b, _, t, _ = o.shape
    return o.transpose(0, 2, 1, 3).reshape(b, t, -1)


# Self-attention.
b, t, d, h = 2, 5, 8, 2
x = rng.standard_normal((b, t, d))
wqkv, bqkv = rng.standard_normal((3 * d, d)) * 0.3, rng.standard_normal(3 * d) * 0.1
wo, bo = rng.standard_normal((d, d)) * 0.3, rng.standard_normal(d) * 0.1
mask = np.tril(np.ones((t, t)))
qkv = x @ wqkv.T + bqkv
q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
y = attention(q, k, v, h, mask) @ wo.T + bo
out["self_attention"] = dict(b=b, t=t, d=d, heads=h, x=x.ravel().tolist(), qkv_weight=wqkv.ravel().tolist(),
                             qkv_bias=bqkv.tolist(), proj_weight=wo.ravel().tolist(), proj_bias=bo.tolist(),
                             mask=mask.ravel().tolist(), output=y.ravel().tolist())

# Cross-attention.
s, c = 3, 6
ctx = rng.standard_normal((b, s, c))
wq, bq = rng.standard_normal((d, d)) * 0.3, rng.standard_normal(d) * 0.1
wkv, bkv = rng.standard_normal((2 * d, c)) * 0.3, rng.standard_normal(2 * d) * 0.1
q = x @ wq.T + bq
kv = ctx @ wkv.T + bkv
y = attention(q, kv[..., :d], kv[..., d:], h) @ wo.T + bo
out["cross_attention"] = dict(s=s, c=c, context=ctx.ravel().tolist(), q_weight=wq.ravel().tolist(), q_bias=bq.tolist(),
                              kv_weight=wkv.ravel().tolist(), kv_bias=bkv.tolist(), output=y.ravel().tolist())


def conv2d(x, w, bias, stride, pad):
    n, ci, hh, ww = x.shape
    o, _, kk, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (hh + 2 * pad - kk) // stride + 1, (ww + 2 * pad - kk) // stride + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kk, j * stride:j * stride + kk]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return y + bias[None, :, None, None]


def conv_transpose2d(x, w, bias, stride, pad, opad):
    n, ci, hh, ww = x.shape
    _, o, kk, _ = w.shape
    full = np.zeros((n, o, (hh - 1) * stride + kk + opad, (ww - 1) * stride + kk + opad))
    for i in range(hh):
        for j in range(ww):
            full[:, :, i * stride:i * stride + kk, j * stride:j * stride + kk] += np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
    oh, ow = (hh - 1) * stride - 2 * pad + kk + opad, (ww - 1) * stride - 2 * pad + kk + opad
    return full[:, :, pad:pad + oh, pad:pad + ow] + bias[None, :, None, None]


xc = rng.standard_normal((2, 3, 5, 5))
wc, bc = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
out["conv2d"] = dict(x_shape=list(xc.shape), x=xc.ravel().tolist(), weight_shape=list(wc.shape), weight=wc.ravel().tolist(),
                     bias=bc.tolist(), stride=2, padding=1, output_shape=None, output=None)
yc = conv2d(xc, wc, bc, 2, 1)
out["conv2d"]["output_shape"], out["conv2d"]["output"] = list(yc.shape), yc.ravel().tolist()

xt = rng.standard_normal((2, 3, 3, 3))
wt, bt = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(2)
yt = conv_transpose2d(xt, wt, bt, 2, 1, 1)
out["conv_transpose2d"] = dict(x_shape=list(xt.shape), x=xt.ravel().tolist(), weight_shape=list(wt.shape), weight=wt.ravel().tolist(),
                               bias=bt.tolist(), stride=2, padding=1, output_padding=1, output_shape=list(yt.shape),
                               output=yt.ravel().tolist())

xl = rng.standard_normal((4, 7)) * 3 + 1
gl, bl = rng.standard_normal(7), rng.standard_normal(7)
mu, var = xl.mean(-1, keepdims=True), xl.var(-1, keepdims=True)
out["layer_norm"] = dict(x=xl.ravel().tolist(), shape=list(xl.shape), weight=gl.tolist(), bias=bl.tolist(),
                         output=(((xl - mu) / np.sqrt(var + 1e-5)) * gl + bl).ravel().tolist())

xg = np.linspace(-6, 6, 25)
out["gelu_tanh"] = dict(x=xg.tolist(), output=(0.5 * xg * (1 + np.tanh(np.sqrt(2 / np.pi) * (xg + 0.044715 * xg ** 3)))).tolist())

ts = np.array([0.0, 1.0, 17.5, 999.0])
half = 4
freqs = np.exp(-np.log(10000.0) * np.arange(half) / half)
args = ts[:, None] * freqs[None]
out["sinusoidal"] = dict(t=ts.tolist(), dimension=8, output=np.concatenate([np.cos(args), np.sin(args)], 1).ravel().tolist())

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "neural_golden.json")
with open(path, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
