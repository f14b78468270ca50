"""Writes the hostile inputs of tests/hostile/run.sh into a folder (Python standard library only).

Usage: make_inputs.py DIR   (DIR already holds the tiny data set of ssah_cli_make_train_data:
img.npy [240, 32] float32, txt.npy [240, 64] uint8, labels.npy [240, 6] uint8, split/.)
"""
import json
import os
import random
import struct
import zlib
import sys


def write_npy(path, descr, shape, data, header_extra=""):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }%s" % (
        descr, "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0], header_extra)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + data)


def write_split(folder, query, database, train):
    os.makedirs(folder, exist_ok=True)
    for name, rows in (("query_idx", query), ("db_idx", database), ("train_idx", train)):
        write_npy(os.path.join(folder, name + ".npy"), "<i8", [len(rows)], struct.pack("<%dq" % len(rows), *rows))


def main(d):
    items, classes = 240, 6
    # Labels: none at all; and some rows without a label (a warning, not an error).
    write_npy(os.path.join(d, "labels_zero.npy"), "|u1", [items, classes], bytes(items * classes))
    with open(os.path.join(d, "labels.npy"), "rb") as f:
        raw = f.read()
    body = bytearray(raw[-items * classes:])
    for row in range(30, 40):
        body[row * classes:(row + 1) * classes] = bytes(classes)
    write_npy(os.path.join(d, "labels_some_empty.npy"), "|u1", [items, classes], bytes(body))
    # Two of three classes per item: every pair of items shares a label, no class is on all items.
    pairs = [b"\x01\x01\x00", b"\x00\x01\x01", b"\x01\x00\x01"]
    write_npy(os.path.join(d, "labels_pairs.npy"), "|u1", [items, 3], b"".join(pairs[i % 3] for i in range(items)))
    # Labels that make every database item relevant to every query (for ssah eval: 24 queries, 216 items).
    for rows in (24, 216):
        write_npy(os.path.join(d, "ones_%d.npy" % rows), "|u1", [rows, classes], b"\x01" * (rows * classes))
    # Round 5. Queries (rows 0-23 of split/) with a class no other item has: no query shares a label
    # with the database. Multi-hot labels of 2; class ids far beyond any table; codes that are one
    # code, or none. Images scaled by 1e30 (every unit saturates: one code for every item).
    body = bytearray(raw[-items * classes:])
    for row in range(items):
        body[row * classes:(row + 1) * classes] = bytes([1 if (c == 0) == (row < 24) else 0 for c in range(classes)])
    write_npy(os.path.join(d, "labels_apart.npy"), "|u1", [items, classes], bytes(body))
    write_npy(os.path.join(d, "labels_two_216.npy"), "|u1", [216, classes], b"\x02" * (216 * classes))
    write_npy(os.path.join(d, "ids_huge_24.npy"), "<i8", [24], struct.pack("<24q", *([2 ** 40] * 24)))
    write_npy(os.path.join(d, "ids_216.npy"), "<i8", [216], struct.pack("<216q", *([1] * 216)))
    write_npy(os.path.join(d, "codes_one_216.npy"), "|i1", [216, 16], b"\x01" * (216 * 16))
    write_npy(os.path.join(d, "codes_none.npy"), "|i1", [0, 16], b"")
    with open(os.path.join(d, "img.npy"), "rb") as f:
        img = f.read()
    values = struct.unpack("<%df" % (items * 32), img[-items * 32 * 4:])
    write_npy(os.path.join(d, "img_1e30.npy"), "<f4", [items, 32], struct.pack("<%df" % len(values), *(v * 1e30 for v in values)))
    # Round 8. A finite value far outside the training rows' spread, in query row 5: standardised, it
    # would exceed float's range. Images of 8 x 8 pixels, too small for CNN-F's first layer.
    big = list(values)
    big[5 * 32 + 5] = 3e38
    write_npy(os.path.join(d, "img_3e38.npy"), "<f4", [items, 32], struct.pack("<%df" % len(big), *big))
    write_npy(os.path.join(d, "img_8x8.npy"), "|u1", [items, 3, 8, 8], bytes(items * 3 * 64))
    # Round 9. Every item from row 24 on (the database and training rows of split/) has class 0:
    # every training pair is similar.
    body = bytearray(raw[-items * classes:])
    for row in range(24, items):
        body[row * classes] = 1
    write_npy(os.path.join(d, "labels_train_one_class.npy"), "|u1", [items, classes], bytes(body))
    # A training set of 72,000 rows (the 216 database items, repeated): batches as large as asked.
    write_split(os.path.join(d, "split_many"), list(range(24)), list(range(24, items)),
                [24 + i % 216 for i in range(72000)])
    # Splits: the query set equal to the database (and the training set); a partial overlap;
    # a query listed twice.
    everything = list(range(items))
    write_split(os.path.join(d, "split_same"), everything, everything, everything)
    write_split(os.path.join(d, "split_overlap"), list(range(24)), list(range(12, items)), list(range(24, items)))
    write_split(os.path.join(d, "split_dup"), [0, 1, 2, 2], list(range(24, items)), list(range(24, items)))
    # .npy headers that lie: 10^12 rows in a small file, and a shape product that overflows.
    write_npy(os.path.join(d, "huge_rows.npy"), "<f4", [10 ** 12, 32], bytes(64))
    write_npy(os.path.join(d, "overflow.npy"), "<f4", [2 ** 62, 2 ** 62], bytes(64))
    # A "JSON" report of raw bytes (as a crash or an editor could leave), for --resume.
    rng = random.Random(7)
    os.makedirs(os.path.join(d, "bad_run"), exist_ok=True)
    with open(os.path.join(d, "bad_run", "report.json"), "wb") as f:
        f.write(b"{\"results\": " + bytes(rng.randrange(256) for _ in range(6000)))
    # .mat files: a v5 header followed by garbage; a v7.3 header without HDF5 behind it.
    header = b"MATLAB 5.0 MAT-file, hostile test".ljust(116, b" ") + bytes(8)
    with open(os.path.join(d, "garbage_v5.mat"), "wb") as f:
        f.write(header + b"\x00\x01IM" + bytes(rng.randrange(256) for _ in range(4096)))
    with open(os.path.join(d, "garbage_v73.mat"), "wb") as f:
        f.write(header + b"\x00\x02IM" + bytes(rng.randrange(256) for _ in range(4096)))


def edit_checkpoint(src, dst, key, value):
    """Copies a safetensors checkpoint with one entry of its stored configuration (the JSON
    metadata 'ssah.spec', which the checksum does not cover) replaced in every modality."""
    with open(src, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    spec = json.loads(header["__metadata__"]["ssah.spec"])
    for m in spec["modalities"]:
        m[key] = value
    header["__metadata__"]["ssah.spec"] = json.dumps(spec)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def poison_checkpoint(src, dst, mode):
    """Copies a safetensors checkpoint with its data changed and its checksum recomputed (as any
    tool that writes safetensors would): mode 'nan' makes the first value of the first
    parameter tensor NaN; 'huge' sets every parameter to 3e38 (finite; the products overflow); 'epoch-meta' makes
    the metadata 'ssah.epoch' disagree with the spec; 'deep-spec' nests the spec 200,000 deep; 'extra' appends a tensor the model does not describe; 'zero-rng' gives
    the training state an all-zero sampler state (well formed; drawing from it never ends)."""
    with open(src, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    if mode == "zero-rng":
        state = json.loads(header["__metadata__"]["ssah.state"])
        state["rng"] = " ".join(["0"] * 312 + ["312"])
        header["__metadata__"]["ssah.state"] = json.dumps(state)
    elif mode == "deep-spec":  # 200,000 nested lists in the stored configuration
        header["__metadata__"]["ssah.spec"] = '{"bits": ' + "[" * 200000 + "]" * 200000 + "}"
    elif mode == "epoch-meta":  # the plain metadata disagree with the spec
        header["__metadata__"]["ssah.epoch"] = "5"
    elif mode == "huge":  # finite, but every product overflows
        for name, entry in header.items():
            if name != "__metadata__" and not name.startswith(("state.", "standardize.")) and entry["dtype"] == "F32":
                begin, end = entry["data_offsets"]
                data[begin:end] = struct.pack("<f", 3e38) * ((end - begin) // 4)
    elif mode == "nan":
        name = sorted(k for k in header if k != "__metadata__" and not k.startswith(("state.", "standardize.")))[0]
        begin = header[name]["data_offsets"][0]
        data[begin:begin + 4] = struct.pack("<f", float("nan"))
    else:
        header["evil.extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [len(data), len(data) + 4]}
        data += struct.pack("<f", 1.0)
    header["__metadata__"]["ssah.checksum"] = "crc32:%08x" % zlib.crc32(bytes(data))
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


if __name__ == "__main__":
    if sys.argv[1] == "edit-checkpoint":
        edit_checkpoint(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
    elif sys.argv[1] == "poison-checkpoint":
        poison_checkpoint(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "sparse-npy":  # float32 [rows, cols] of zeros, the data a hole in the file
        path, rows, cols = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        write_npy(path, "<f4", [rows, cols], b"")
        os.truncate(path, os.path.getsize(path) + rows * cols * 4)
    else:
        main(sys.argv[1])
