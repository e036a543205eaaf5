"""Minimal safetensors reader/writer on numpy (Debian has no python3-safetensors).

Format: 8-byte little-endian header length, JSON header, raw little-endian tensor bytes.
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        out[name] = np.frombuffer(data[base + begin : base + end], dtype=_DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out, meta


def write_entries(path, entries, meta=None):
    """The file from `entries`: name -> (dtype name, shape, raw little-endian bytes), names sorted."""
    header = {}
    if meta:
        header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    blobs = []
    offset = 0
    for name in sorted(entries):
        dtype, shape, b = entries[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def numpy_entry(array):
    """(dtype name, shape, bytes) of a numpy array (np.ascontiguousarray makes a 0-d array [1])."""
    a = np.ascontiguousarray(array)
    dtype = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}[a.dtype]
    return dtype, list(a.shape), a.tobytes()


def write(path, tensors, meta=None):
    write_entries(path, {name: numpy_entry(t) for name, t in tensors.items()}, meta)
