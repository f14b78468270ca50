#!/usr/bin/env python3
"""Golden fixtures for ssah's retrieval metrics, from NumPy implementations of the reference code.

`calc_map` below is DCMH's / SSAH's `calc_map` (utils/calc_hammingranking.py) with one change: the
argsort is stable (`kind='stable'`), which is the tie convention ssah documents (ties in Hamming
distance are ordered by database index). `calc_map_k` is the common `calculate_top_map` (AP over
the top R, normalised by the relevant items found there), `p_topk` and `pr_curve` follow AGAH's
`utils.py` (also with a stable sort). None of this shares code with ssah's C++.

Writes tests/reference/fixtures/retrieval/<case>/ with the inputs (query/database codes and labels,
in the dtypes `ssah eval` accepts) and the expected values, and fixtures/retrieval/bad/ with broken
inputs for the `ssah` program's tests:

    /usr/bin/python3 tests/reference/make_retrieval_fixtures.py

Run with --check to regenerate into a temporary folder and compare with the committed fixtures
(exit status 1 when any file differs). Inputs are drawn with fixed seeds (NumPy's legacy
RandomState, stable across NumPy versions).
"""
import argparse
import filecmp
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "fixtures", "retrieval")

# N of precision@N, R of mAP@R (mirrored in tests/eval/test_reference_fixtures.cpp through the files).
P_AT_N = [1, 5, 10, 50, 100, 500, 1000]
TOP_R = 50


def calc_hamming_dist(b1, b2):
    q = b2.shape[1]
    return 0.5 * (q - np.dot(b1, b2.transpose()))


def calc_map(qb, rb, query_l, retrieval_l):
    """Per-query AP and mAP over the whole ranking (queries without relevant items count 0)."""
    num_query = query_l.shape[0]
    ap = np.zeros(num_query)
    for it in range(num_query):
        gnd = (np.dot(query_l[it, :], retrieval_l.transpose()) > 0).astype(np.float64)
        tsum = int(np.sum(gnd))
        if tsum == 0:
            continue
        hamm = calc_hamming_dist(qb[it, :], rb)
        ind = np.argsort(hamm, kind="stable")
        gnd = gnd[ind]
        count = np.linspace(1, tsum, tsum)
        tindex = np.asarray(np.where(gnd == 1)) + 1.0
        ap[it] = np.mean(count / tindex)
    return ap, np.sum(ap) / num_query


def calc_map_k(qb, rb, query_l, retrieval_l, topk):
    num_query = query_l.shape[0]
    ap = np.zeros(num_query)
    for it in range(num_query):
        gnd = (np.dot(query_l[it, :], retrieval_l.transpose()) > 0).astype(np.float64)
        hamm = calc_hamming_dist(qb[it, :], rb)
        ind = np.argsort(hamm, kind="stable")
        tgnd = gnd[ind][0:topk]
        tsum = int(np.sum(tgnd))
        if tsum == 0:
            continue
        count = np.linspace(1, tsum, tsum)
        tindex = np.asarray(np.where(tgnd == 1)) + 1.0
        ap[it] = np.mean(count / tindex)
    return ap, np.sum(ap) / num_query


def p_topk(qb, rb, query_l, retrieval_l, ks):
    num_query = query_l.shape[0]
    p = np.zeros(len(ks))
    for it in range(num_query):
        gnd = (np.dot(query_l[it, :], retrieval_l.transpose()) > 0).astype(np.float64)
        if np.sum(gnd) == 0:
            continue
        hamm = calc_hamming_dist(qb[it, :], rb)
        ind = np.argsort(hamm, kind="stable")
        for i, k in enumerate(ks):
            total = min(k, retrieval_l.shape[0])
            p[i] += gnd[ind[:total]].sum() / total
    return p / num_query


def pr_curve(qb, rb, query_l, retrieval_l):
    num_query, num_bit = qb.shape
    P = np.zeros((num_query, num_bit + 1))
    R = np.zeros((num_query, num_bit + 1))
    for i in range(num_query):
        gnd = (np.dot(query_l[i], retrieval_l.T) > 0).astype(np.float64)
        tsum = np.sum(gnd)
        if tsum == 0:
            continue
        hamm = calc_hamming_dist(qb[i, :], rb)
        tmp = (hamm <= np.arange(0, num_bit + 1).reshape(-1, 1)).astype(np.float64)
        total = tmp.sum(axis=-1)
        total = total + (total == 0).astype(np.float64) * 0.1
        t = gnd * tmp
        count = t.sum(axis=-1)
        P[i] = count / total
        R[i] = count / tsum
    mask = (P > 0).astype(np.float64).sum(axis=0)
    mask = mask + (mask == 0).astype(np.float64) * 0.1
    return P.sum(axis=0) / mask, R.sum(axis=0) / mask


def signs(rng, n, bits, pool=None, flips=0):
    """n codes of ±1; drawn from `pool` distinct codes (then `flips` random bits flipped) for ties."""
    if pool is None:
        return np.where(rng.rand(n, bits) > 0.5, 1, -1)
    base = np.where(rng.rand(pool, bits) > 0.5, 1, -1)
    b = base[rng.randint(0, pool, size=n)].copy()
    for _ in range(flips):
        rows, cols = np.arange(n), rng.randint(0, bits, size=n)
        b[rows, cols] = -b[rows, cols]
    return b


def labels(rng, n, classes, p, empty_every=0):
    lab = (rng.rand(n, classes) < p).astype(np.uint8)
    if empty_every:
        lab[empty_every - 1::empty_every] = 0
    return lab


def write_case(out, name, qb, rb, ql, rl, code_dtype, label_dtype, packed=False):
    """Inputs as ssah reads them, expected values from the ±1 codes."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    qf, rf = qb.astype(np.float64), rb.astype(np.float64)
    lq, lr = ql.astype(np.float64), rl.astype(np.float64)
    ap, m = calc_map(qf, rf, lq, lr)
    apk, mk = calc_map_k(qf, rf, lq, lr, TOP_R)
    pn = p_topk(qf, rf, lq, lr, P_AT_N)
    pr_p, pr_r = pr_curve(qf, rf, lq, lr)
    if packed:
        np.save(os.path.join(d, "query_codes.npy"), np.packbits(qb > 0, axis=1))
        np.save(os.path.join(d, "db_codes.npy"), np.packbits(rb > 0, axis=1))
    else:
        np.save(os.path.join(d, "query_codes.npy"), qb.astype(code_dtype))
        np.save(os.path.join(d, "db_codes.npy"), rb.astype(code_dtype))
    np.save(os.path.join(d, "query_labels.npy"), ql.astype(label_dtype))
    np.save(os.path.join(d, "db_labels.npy"), rl.astype(label_dtype))
    np.save(os.path.join(d, "bits.npy"), np.array([qb.shape[1]], dtype=np.int64))
    np.save(os.path.join(d, "expected_map.npy"), np.array([m]))
    np.save(os.path.join(d, "expected_ap.npy"), ap)
    np.save(os.path.join(d, "top_r.npy"), np.array([TOP_R], dtype=np.int64))
    np.save(os.path.join(d, "expected_map_at_r.npy"), np.array([mk]))
    np.save(os.path.join(d, "expected_ap_at_r.npy"), apk)
    np.save(os.path.join(d, "precision_n.npy"), np.array(P_AT_N, dtype=np.int64))
    np.save(os.path.join(d, "expected_precision_at_n.npy"), pn)
    np.save(os.path.join(d, "expected_pr_precision.npy"), pr_p)
    np.save(os.path.join(d, "expected_pr_recall.npy"), pr_r)
    return m


def generate(out):
    # The __main__ example of utils/calc_hammingranking.py: 0.704167.
    qb = np.array([[1, -1, 1, 1], [-1, -1, -1, 1], [1, 1, -1, 1], [1, 1, 1, -1]])
    rb = np.array([[1, -1, 1, -1], [-1, -1, 1, -1], [-1, -1, 1, -1], [1, 1, -1, -1], [-1, 1, -1, -1], [1, 1, -1, 1]])
    ql = np.array([[0, 1, 0, 0], [1, 1, 0, 0], [1, 0, 0, 1], [0, 1, 0, 1]])
    rl = np.array([[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]])
    m = write_case(out, "toy_k4", qb, rb, ql, rl, np.int8, np.int32)
    assert abs(m - 0.704167) < 5e-7, m

    rng = np.random.RandomState(20180618)
    # 16 bits drawn from 60 codes: most distances tie, so the stable order matters.
    write_case(out, "k16_ties", signs(rng, 40, 16, pool=10, flips=1), signs(rng, 600, 16, pool=60, flips=1),
               labels(rng, 40, 24, 0.1), labels(rng, 600, 24, 0.1), np.int8, np.uint8)
    # 32 bits as float32, 80 classes (two label words).
    write_case(out, "k32_c80", signs(rng, 30, 32), signs(rng, 400, 32, pool=120, flips=2),
               labels(rng, 30, 80, 0.04), labels(rng, 400, 80, 0.04), np.float32, np.float32)
    # 64 bits as packed uint8, 130 classes (three words), every 6th query without labels.
    write_case(out, "k64_c130_packed", signs(rng, 25, 64), signs(rng, 600, 64, pool=200, flips=3),
               labels(rng, 25, 130, 0.03, empty_every=6), labels(rng, 600, 130, 0.03), None, np.uint8,
               packed=True)
    write_bad_inputs(out)


def write_bad_inputs(out):
    """Broken or inconsistent inputs for the `ssah` program's tests (examples/cli/tests)."""
    d = os.path.join(out, "bad")
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(7)
    with open(os.path.join(d, "not_npy.npy"), "wb") as f:
        f.write(b"query codes, one per line\n1 -1 1 1\n")
    path = os.path.join(d, "truncated.npy")
    np.save(path, signs(rng, 10, 16).astype(np.int8))
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-20])
    np.save(os.path.join(d, "codes_int64.npy"), signs(rng, 4, 16).astype(np.int64))
    np.save(os.path.join(d, "codes_3d.npy"), signs(rng, 4, 16).astype(np.int8).reshape(2, 2, 16))
    nan_codes = signs(rng, 4, 16).astype(np.float32)
    nan_codes[2, 5] = np.nan
    np.save(os.path.join(d, "codes_nan.npy"), nan_codes)
    np.save(os.path.join(d, "codes_k8.npy"), signs(rng, 40, 8).astype(np.int8))
    np.save(os.path.join(d, "labels_39_rows.npy"), labels(rng, 39, 24, 0.1))
    np.save(os.path.join(d, "labels_21_classes.npy"), labels(rng, 40, 21, 0.1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="compare a fresh generation with the committed files")
    args = ap.parse_args()
    if not args.check:
        if os.path.isdir(args.out):
            shutil.rmtree(args.out)
        generate(args.out)
        print("wrote", args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        bad = []
        for root, _, files in os.walk(tmp):
            for f in files:
                rel = os.path.relpath(os.path.join(root, f), tmp)
                committed = os.path.join(args.out, rel)
                if not os.path.exists(committed) or not filecmp.cmp(os.path.join(root, f), committed, shallow=False):
                    bad.append(rel)
        if bad:
            print("differs:", ", ".join(sorted(bad)))
            return 1
        print("fixtures up to date")
        return 0


if __name__ == "__main__":
    sys.exit(main())
