#!/usr/bin/env python3
"""Reads a safetensors file with nothing but the standard library (json, struct, zlib), as a
PyTorch user without the `safetensors` package would, and prints a JSON summary on stdout:

    {"metadata": {...}, "crc32_ok": true|null,
     "tensors": {"name": {"dtype": "F32", "shape": [2, 3], "values": [...]}, ...},
     "torch": {"name": {"dtype": "torch.float32", "shape": [2, 3], "sum": 1.5}, ...}}

"crc32_ok" is null when the file carries no "ssah.checksum". With --torch, each tensor is also
turned into a torch.Tensor (torch.frombuffer), the way a checkpoint loader would, and "torch"
reports its dtype, shape and sum. Exit status 1, with a message on stderr, for a malformed file.

Usage: read_safetensors.py FILE [--torch]
"""
import json
import struct
import sys
import zlib

FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I32": ("i", 4), "I64": ("q", 8), "U8": ("B", 1),
           "I8": ("b", 1), "BOOL": ("?", 1)}


def load(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    end_max = 0
    for name, info in header.items():
        begin, end = info["data_offsets"]
        code, size = FORMATS[info["dtype"]]
        count = 1
        for e in info["shape"]:
            count *= e
        if end - begin != count * size or end > len(data):
            raise ValueError("tensor %r: bad data_offsets" % name)
        end_max = max(end_max, end)
        values = list(struct.unpack("<%d%s" % (count, code), data[begin:end]))
        tensors[name] = {"dtype": info["dtype"], "shape": info["shape"], "values": values,
                         "raw": data[begin:end]}
    if end_max != len(data):
        raise ValueError("data section has %d bytes, tensors end at %d" % (len(data), end_max))
    crc_ok = None
    if "ssah.checksum" in meta:
        crc_ok = meta["ssah.checksum"] == "crc32:%08x" % zlib.crc32(data)
    return meta, tensors, crc_ok


def to_torch(tensors):
    import torch
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64,
              "U8": torch.uint8, "I8": torch.int8, "BOOL": torch.bool}
    out = {}
    for name, t in tensors.items():
        raw = bytearray(t["raw"])
        x = (torch.frombuffer(raw, dtype=dtypes[t["dtype"]]) if raw else
             torch.empty(0, dtype=dtypes[t["dtype"]])).reshape(t["shape"])
        out[name] = {"dtype": str(x.dtype), "shape": list(x.shape), "sum": x.double().sum().item()}
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        meta, tensors, crc_ok = load(sys.argv[1])
    except (ValueError, KeyError, struct.error, UnicodeDecodeError) as e:
        print("read_safetensors.py: %s: %s" % (sys.argv[1], e), file=sys.stderr)
        return 1
    result = {"metadata": meta, "crc32_ok": crc_ok,
              "tensors": {k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in tensors.items()}}
    if "--torch" in sys.argv[2:]:
        result["torch"] = to_torch(tensors)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
