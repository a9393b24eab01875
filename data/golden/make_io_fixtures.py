#!/usr/bin/env python3
"""Writes the small .npy and .safetensors fixtures under data/golden/io/ that the Swift tests read.

The .npy files are written by numpy itself (so the tests check compatibility with the real thing); the
.safetensors files are written by hand with struct and json, so the `safetensors` package is not needed.
Values are chosen to be exactly representable, so the tests compare them with ==.

Run from anywhere:  python3 data/golden/make_io_fixtures.py
"""
import json
import os
import struct

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io")


def path(name):
    return os.path.join(OUT, name)


def write_npy():
    # Plain little-endian C-order arrays of every supported dtype; values are i/4 - 1.5, i/8, etc.
    np.save(path("f4_3x4.npy"), (np.arange(12, dtype=np.float32) / 4 - 1.5).reshape(3, 4))
    np.save(path("f8_2x3x4.npy"), (np.arange(24, dtype=np.float64) / 8 - 1).reshape(2, 3, 4))
    np.save(path("i4_5.npy"), np.array([-3, -1, 0, 2, 2147483647], dtype=np.int32))
    np.save(path("i8_2x2.npy"), np.array([[2**40, -(2**40)], [0, 7]], dtype=np.int64))
    np.save(path("bool_2x3.npy"), np.array([[True, False, True], [True, False, False]]))
    # A 0-d array and an empty one.
    np.save(path("f8_scalar.npy"), np.array(3.25))
    np.save(path("f4_0x3.npy"), np.zeros((0, 3), dtype=np.float32))
    # Fortran order: C-order values are 0..23 after reading.
    np.save(path("f8_fortran_2x3x4.npy"), np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)))
    np.save(path("i4_fortran_3x2.npy"), np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2)))
    # Big-endian.
    np.save(path("f8_bigendian_2x3.npy"), (np.arange(6) / 2 - 1).astype(">f8").reshape(2, 3))
    np.save(path("i4_bigendian_4.npy"), np.array([1, -2, 65536, -2147483648], dtype=">i4"))
    # Format versions 2.0 and 3.0.
    with open(path("f4_v2_2x2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype=np.float32), version=(2, 0))
    with open(path("i8_v3_3.npy"), "wb") as f:
        np.lib.format.write_array(f, np.array([5, 6, 7], dtype=np.int64), version=(3, 0))
    # Types that are widened on read.
    np.save(path("f2_9.npy"), np.array([0, 1, -2, 0.5, 65504, 2**-24, 2**-14, np.inf, -np.inf], dtype=np.float16))
    np.save(path("u1_3.npy"), np.array([0, 200, 255], dtype=np.uint8))
    np.save(path("i2_2.npy"), np.array([-32768, 32767], dtype=np.int16))
    # A type that is refused.
    np.save(path("c16_2.npy"), np.array([1 + 2j, 3 - 4j], dtype=np.complex128))


def write_safetensors(name, entries, metadata=None, order=None):
    """entries: {name: (dtype code, shape, raw little-endian bytes)}; data laid out in `order` (default: given)."""
    order = order or list(entries)
    header, buf = {}, b""
    for key in order:
        code, shape, raw = entries[key]
        header[key] = {"dtype": code, "shape": list(shape), "data_offsets": [len(buf), len(buf) + len(raw)]}
        buf += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + buf)


def main():
    os.makedirs(OUT, exist_ok=True)
    write_npy()
    le = lambda a, dt: np.asarray(a, dtype=dt).tobytes()
    # Data deliberately not in name order, and the metadata key last.
    write_safetensors(
        "mixed.safetensors",
        {
            "weight": ("F32", (2, 2), le([[0.5, -1], [2, 4]], "<f4")),
            "bias": ("F64", (3,), le([0.25, -0.125, 1e-300], "<f8")),
            "labels": ("I64", (4,), le([0, 1, -1, 2**40], "<i8")),
            "counts": ("I32", (2, 1), le([[7], [-8]], "<i4")),
            "mask": ("BOOL", (3,), le([True, False, True], "?")),
            "step": ("I64", (), le(42, "<i8")),
            "empty": ("F32", (0, 4), b""),
        },
        metadata={"format": "pt", "note": "written by make_io_fixtures.py"},
        order=["mask", "weight", "empty", "labels", "bias", "step", "counts"],
    )
    # Half precision (widened to float32 on read): 1, -2, 0.5, 65504 in F16 and BF16.
    half = [1, -2, 0.5, 65504]
    bf16 = struct.pack("<4H", *[struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in [1, -2, 0.5, 3.0]])
    write_safetensors(
        "half.safetensors",
        {"h": ("F16", (4,), le(half, "<f2")), "b": ("BF16", (2, 2), bf16)},
    )


if __name__ == "__main__":
    main()
