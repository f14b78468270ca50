#!/usr/bin/env python3
"""The `ssah` program against FAISS and NumPy, whole process each, in one run; prints the ratios.

What a user runs is what is measured: `ssah search` and `ssah eval` as the README's commands build
them, each a whole process (start, reading the .npy files, the work, writing the results), against
a Python process doing the same with FAISS or NumPy on the same files.

Workloads (written to a temporary directory, read by both sides):
  - k-NN, k = 100: 1,000 queries over 1,000,000 random codes of K = 32, 64 and 128 bits:
    `ssah search` against FAISS `IndexBinaryFlat` (load, add, search, save), same thread count;
    the distances must be identical.
  - mAP@all: 2,000 queries x 18,015 database items, 64-bit codes, 24 labels (MIRFLICKR-25K's real
    labels and split when ../shared/datasets is there, else random): `ssah eval` against the
    reference `calc_map` in NumPy with a stable argsort, whose values ssah reproduces (the
    published quicksort variant differs only in the order of tied items).

Every Python interpreter given (--python, repeatable; default: $PYTHON, else `python3` on PATH, plus
Debian's /usr/bin/python3 when it is another interpreter with faiss) runs the FAISS side, so that
the newest FAISS (pip faiss-cpu) and Debian's are both reported; NumPy runs under the first.

Usage, after `scripts/demo.sh` (or scripts/test.sh) has built build/examples/cli/ssah:

    PYTHON=/path/to/venv/bin/python3 python3 bench/compare_faiss.py [--ssah build/examples/cli/ssah]

Times are the best of --repeats runs of each whole process (NumPy's calc_map, seconds long, runs
once). The last line is `search speedup vs faiss (K=64): X; eval speedup vs numpy: Y`, against the
faster FAISS. Exit status 1 when distances or mAP differ.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.environ.get("SSAH_DATA_DIR", os.path.join(ROOT, "..", "shared", "datasets"))
KNN_N, KNN_Q, KNN_K = 1_000_000, 1_000, 100
MAP_Q, MAP_DB, MAP_BITS = 2_000, 18_015, 64

# The FAISS side, run by each interpreter: load, build the index, search, save; prints its version
# and the search time alone.
FAISS_WORKER = r"""
import sys, time, numpy as np, faiss
db_path, q_path, k, threads, d_out, i_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
faiss.omp_set_num_threads(threads)
db, q = np.load(db_path), np.load(q_path)
index = faiss.IndexBinaryFlat(db.shape[1] * 8)
index.add(db)
t = time.perf_counter()
D, I = index.search(q, k)
t = time.perf_counter() - t
np.save(d_out, D.astype(np.int32)); np.save(i_out, I.astype(np.int64))
print("faiss", faiss.__version__, "search_seconds", t)
"""

# The NumPy side: the reference calc_map (DCMH / SSAH utils) with a stable argsort.
NUMPY_WORKER = r"""
import sys, time, numpy as np
qb, rb = np.load(sys.argv[1]).astype(np.float32), np.load(sys.argv[2]).astype(np.float32)
ql, rl = np.load(sys.argv[3]).astype(np.float32), np.load(sys.argv[4]).astype(np.float32)
t = time.perf_counter()
ap = np.zeros(qb.shape[0])
for it in range(qb.shape[0]):
    gnd = (np.dot(ql[it, :], rl.transpose()) > 0).astype(np.float32)
    tsum = int(np.sum(gnd))
    if tsum == 0:
        continue
    hamm = 0.5 * (rb.shape[1] - np.dot(qb[it, :], rb.transpose()))
    gnd = gnd[np.argsort(hamm, kind="stable")]
    count = np.linspace(1, tsum, tsum)
    tindex = np.asarray(np.where(gnd == 1)) + 1.0
    ap[it] = np.mean(count / tindex)
t = time.perf_counter() - t
np.save(sys.argv[5], ap)
print("numpy", np.__version__, "map_seconds", t, "map", repr(float(np.mean(ap))))
"""


def interpreters(given):
    if given:
        return given
    found = []
    first = os.environ.get("PYTHON") or shutil.which("python3")
    if first:
        found.append(first)
    debian = "/usr/bin/python3"
    if os.path.exists(debian) and all(os.path.realpath(debian) != os.path.realpath(p) for p in found):
        if subprocess.run([debian, "-c", "import faiss"], capture_output=True).returncode == 0:
            found.append(debian)
    return found


def timed(cmd, env, repeats):
    """Best wall time of `repeats` whole-process runs of cmd, and the last run's output."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if r.returncode != 0:
            sys.exit("failed (%d): %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
        best, out = min(best, elapsed), r
    return best, out


def write_workloads(d, seed):
    rng = np.random.RandomState(seed)
    for bits in (32, 64, 128):
        np.save(os.path.join(d, "db_k%d.npy" % bits), rng.randint(0, 256, size=(KNN_N, bits // 8), dtype=np.uint8))
        np.save(os.path.join(d, "q_k%d.npy" % bits), rng.randint(0, 256, size=(KNN_Q, bits // 8), dtype=np.uint8))
    labels = os.path.join(DATA, "mirflickr25k", "full", "labels_u8.npy")
    if os.path.exists(labels):
        lab = np.load(labels)
        ql = lab[np.load(os.path.join(DATA, "splits", "mirfull_q_idx_i32.npy"))]
        dl = lab[np.load(os.path.join(DATA, "splits", "mirfull_db_idx_i32.npy"))]
        source = "MIRFLICKR-25K labels and split"
    else:
        ql = (rng.rand(MAP_Q, 24) < 0.15).astype(np.uint8)
        dl = (rng.rand(MAP_DB, 24) < 0.15).astype(np.uint8)
        source = "random labels (MIRFLICKR-25K not found)"
    # Codes that carry some label information (a random projection of the labels plus noise), so
    # that the mAP is not trivial; what matters for timing is the shape.
    proj = rng.randn(ql.shape[1], MAP_BITS)
    qb = np.where(ql @ proj + 1.5 * rng.randn(ql.shape[0], MAP_BITS) > 0, 1, -1).astype(np.int8)
    rb = np.where(dl @ proj + 1.5 * rng.randn(dl.shape[0], MAP_BITS) > 0, 1, -1).astype(np.int8)
    for name, a in (("map_qb", qb), ("map_rb", rb), ("map_ql", ql), ("map_rl", dl)):
        np.save(os.path.join(d, name + ".npy"), a)
    return source


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ssah", default=os.path.join(ROOT, "build", "examples", "cli", "ssah"),
                    help="the ssah program (default: build/examples/cli/ssah)")
    ap.add_argument("--python", action="append", default=[],
                    help="an interpreter with faiss (repeatable; default: $PYTHON or python3, and Debian's)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="threads for every side (default: all CPUs)")
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args()

    threads = args.threads or os.cpu_count()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # they slow a current NumPy (see env notes)
        env.pop(v, None)
    pythons = interpreters(args.python)
    if not pythons:
        sys.exit("no Python interpreter found: set PYTHON or put python3 on PATH")
    ssah = os.path.abspath(args.ssah)
    version = subprocess.run([ssah, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    load = os.getloadavg()[0]
    print("machine: %d CPUs, load average %.2f; threads: %d" % (os.cpu_count(), load, threads))
    print("ssah: %s (%s)" % (ssah, version))
    ok = True
    with tempfile.TemporaryDirectory() as d:
        source = write_workloads(d, args.seed)
        p = lambda name: os.path.join(d, name)  # noqa: E731
        worker = p("faiss_worker.py")
        with open(worker, "w") as f:
            f.write(FAISS_WORKER)
        numpy_worker = p("numpy_worker.py")
        with open(numpy_worker, "w") as f:
            f.write(NUMPY_WORKER)

        print()
        print("k-NN, k = %d, %d queries x %d codes; whole process (in-process search in brackets), best of %d" %
              (KNN_K, KNN_Q, KNN_N, args.repeats))
        ratio64 = None
        for bits in (32, 64, 128):
            db, q = p("db_k%d.npy" % bits), p("q_k%d.npy" % bits)
            t_ssah, r = timed([ssah, "search", "--db-codes", db, "--query-codes", q, "-k", str(KNN_K), "--threads",
                               str(threads), "--out", p("ssah_i.npy"), "--distances", p("ssah_d.npy")], env,
                              args.repeats)
            m = re.search(r": ([0-9.]+) s, \d+ queries/s \(host, Hamming kernel (.*)\)\s*$", r.stderr)
            kernel = m.group(2) if m else "?"
            ours = "%.3f s (%.3f s)" % (t_ssah, float(m.group(1))) if m else "%.3f s" % t_ssah
            sd, si = np.load(p("ssah_d.npy")), np.load(p("ssah_i.npy"))
            print("  K = %d: ssah search %s, kernel %s" % (bits, ours, kernel))
            best_faiss = float("inf")
            for py in pythons:
                t_faiss, r = timed([py, worker, db, q, str(KNN_K), str(threads), p("f_d.npy"), p("f_i.npy")], env,
                                   args.repeats)
                fields = r.stdout.split()
                fd, fi = np.load(p("f_d.npy")), np.load(p("f_i.npy"))
                same = np.array_equal(sd, fd)
                ok &= same
                best_faiss = min(best_faiss, t_faiss)
                print("         FAISS %-7s %.3f s (%.3f s)  ratio %5.1fx  same distances: %s (ids equal %.1f%%)  [%s]" %
                      (fields[1], t_faiss, float(fields[3]), t_faiss / t_ssah, "yes" if same else "NO",
                       100 * float(np.mean(si == fi)), py))
            if bits == 64:
                ratio64 = best_faiss / t_ssah

        print()
        print("mAP@all, %d queries x %d items, %d bits, %d labels (%s); whole process" %
              (MAP_Q, MAP_DB, MAP_BITS, np.load(p("map_ql.npy")).shape[1], source))
        t_eval, r = timed([ssah, "eval", "--query-codes", p("map_qb.npy"), "--db-codes", p("map_rb.npy"),
                           "--query-labels", p("map_ql.npy"), "--db-labels", p("map_rl.npy"), "--threads",
                           str(threads), "--json", p("eval.json")], env, args.repeats)
        with open(p("eval.json")) as f:
            report = json.load(f)
        t_np, r_np = timed([pythons[0], numpy_worker, p("map_qb.npy"), p("map_rb.npy"), p("map_ql.npy"),
                            p("map_rl.npy"), p("np_ap.npy")], env, 1)
        fields = r_np.stdout.split()
        ap_np = np.load(p("np_ap.npy"))
        ap_ssah = np.asarray(report["per_query"]["ap"])
        d_map = abs(report["map"] - float(fields[5]))
        d_ap = float(np.max(np.abs(ap_ssah - ap_np)))
        same = d_map <= 1e-12 and d_ap <= 1e-12
        ok &= same
        print("  ssah eval              %.3f s   mAP %.15f  kernel %s" %
              (t_eval, report["map"], report.get("hamming_kernel", "?")))
        print("  numpy %-6s calc_map  %.3f s (%.3f s in calc_map)   mAP %s" % (fields[1], t_np, float(fields[3]),
                                                                              fields[5]))
        print("  |ssah - numpy|: mAP %.2e, largest per-query AP difference %.2e: %s" %
              (d_map, d_ap, "identical (to 1e-12)" if same else "DIFFERENT"))
        print()
        print("search speedup vs faiss (K=64): %.1f; eval speedup vs numpy: %.0f" % (ratio64, t_np / t_eval))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
