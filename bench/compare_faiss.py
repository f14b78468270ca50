#!/usr/bin/python3
"""ssah vs FAISS and NumPy on the same retrieval workloads, in one run; prints the ratios.

Workloads (written to a temporary directory, read by both sides):
  - k-NN, k = 100: 1,000 queries over 1,000,000 random codes of K = 32, 64 and 128 bits
    (ssah HammingIndex vs FAISS IndexBinaryFlat, same thread count);
  - mAP@all: 2,000 queries x 18,015 database items, 64-bit codes, 24 labels (MIRFLICKR-25K's real
    labels and split when ../shared/datasets is there, else random), ssah vs the reference
    `calc_map` in NumPy (as published, np.argsort; and with a stable argsort, whose values ssah
    must reproduce).

Usage (after building the benchmark program, see docs/benchmarks.md):

    /usr/bin/python3 bench/compare_faiss.py --bench build/bench/retrieval/ssah_bench_retrieval

Timings are the best of --repeats runs on each side (NumPy's calc_map, which takes seconds, runs
once per variant). Needs numpy and faiss (Debian: python3-numpy python3-faiss).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "shared", "datasets")
KNN_N, KNN_Q, KNN_K = 1_000_000, 1_000, 100
MAP_Q, MAP_DB, MAP_BITS = 2_000, 18_015, 64


def calc_hamming_dist(b1, b2):
    q = b2.shape[1]
    return 0.5 * (q - np.dot(b1, b2.transpose()))


def calc_map(qb, rb, query_l, retrieval_l, kind="quicksort"):
    """The reference calc_map (DCMH / SSAH utils), the sort kind being the only parameter."""
    num_query = query_l.shape[0]
    m = 0
    ap = np.zeros(num_query)
    for it in range(num_query):
        gnd = (np.dot(query_l[it, :], retrieval_l.transpose()) > 0).astype(np.float32)
        tsum = int(np.sum(gnd))
        if tsum == 0:
            continue
        hamm = calc_hamming_dist(qb[it, :], rb)
        ind = np.argsort(hamm, kind=kind)
        gnd = gnd[ind]
        count = np.linspace(1, tsum, tsum)
        tindex = np.asarray(np.where(gnd == 1)) + 1.0
        ap[it] = np.mean(count / tindex)
        m = m + ap[it]
    return m / num_query, ap


def write_workloads(d, seed):
    rng = np.random.RandomState(seed)
    for bits in (32, 64, 128):
        np.save(os.path.join(d, "knn_db_k%d.npy" % bits), rng.randint(0, 256, size=(KNN_N, bits // 8), dtype=np.uint8))
        np.save(os.path.join(d, "knn_queries_k%d.npy" % bits),
                rng.randint(0, 256, size=(KNN_Q, bits // 8), dtype=np.uint8))
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
    np.save(os.path.join(d, "map_query_codes.npy"), qb)
    np.save(os.path.join(d, "map_db_codes.npy"), rb)
    np.save(os.path.join(d, "map_query_labels.npy"), ql)
    np.save(os.path.join(d, "map_db_labels.npy"), dl)
    return qb, rb, ql, dl, source


def run_ssah(bench, d, repeats):
    out = subprocess.run(
        [bench, "--workload_dir=" + d, "--benchmark_filter=BM_(Knn|MapAll)", "--benchmark_format=json",
         "--benchmark_repetitions=%d" % repeats, "--benchmark_report_aggregates_only=false"],
        check=True, stdout=subprocess.PIPE, text=True).stdout
    res = json.loads(out)
    best, best_cpu = {}, {}
    for b in res["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        name = b["run_name"]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        best[name] = min(best.get(name, float("inf")), b["real_time"] * unit)
        best_cpu[name] = min(best_cpu.get(name, float("inf")), b["cpu_time"] * unit)
    return best, best_cpu, res["context"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="path of the ssah_bench_retrieval program")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="threads for both sides (default: all)")
    ap.add_argument("--seed", type=int, default=2018)
    args = ap.parse_args()

    import faiss

    threads = args.threads or os.cpu_count()
    faiss.omp_set_num_threads(threads)
    env_threads = str(threads)
    os.environ["OMP_NUM_THREADS"] = env_threads

    with tempfile.TemporaryDirectory() as d:
        qb, rb, ql, dl, source = write_workloads(d, args.seed)
        ssah_times, ssah_cpu, context = run_ssah(os.path.abspath(args.bench), d, args.repeats)
        print("machine: %d CPUs, %s; ssah Hamming kernel: %s; threads: %d" %
              (os.cpu_count(), context.get("host_name", "?"), context.get("ssah.hamming_kernel", "?"), threads))
        print("faiss %s, numpy %s" % (faiss.__version__, np.__version__))
        print()
        print("k-NN, k = %d, %d queries x %d codes" % (KNN_K, KNN_Q, KNN_N))
        print("%5s %14s %14s %8s  %s" % ("bits", "ssah q/s", "FAISS q/s", "ratio", "same distances"))
        for bits in (32, 64, 128):
            db = np.load(os.path.join(d, "knn_db_k%d.npy" % bits))
            q = np.load(os.path.join(d, "knn_queries_k%d.npy" % bits))
            index = faiss.IndexBinaryFlat(bits)
            index.add(db)
            best = float("inf")
            for _ in range(args.repeats):
                t = time.perf_counter()
                D, I = index.search(q, KNN_K)
                best = min(best, time.perf_counter() - t)
            ours = ssah_times["BM_Knn<%d>/real_time" % bits]
            sd = np.load(os.path.join(d, "ssah_knn_distances_k%d.npy" % bits))
            si = np.load(os.path.join(d, "ssah_knn_ids_k%d.npy" % bits))
            same_d = np.array_equal(sd, D)
            # Ids agree except in the order or choice among codes tied at the same distance.
            same_i = float(np.mean(si == I))
            print("%5d %14.0f %14.0f %7.1fx  %s (ids equal: %.1f%%)" %
                  (bits, KNN_Q / ours, KNN_Q / best, best / ours, "yes" if same_d else "NO", 100 * same_i))
        print()
        print("mAP@all, %d queries x %d items, %d bits, %d labels (%s)" % (MAP_Q, MAP_DB, MAP_BITS, ql.shape[1], source))
        qf, rf = qb.astype(np.float32), rb.astype(np.float32)
        lq, lr = ql.astype(np.float32), dl.astype(np.float32)
        t = time.perf_counter()
        m_quick, _ = calc_map(qf, rf, lq, lr, "quicksort")
        t_quick = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        m_stable, ap_stable = calc_map(qf, rf, lq, lr, "stable")
        t_stable, c_stable = time.perf_counter() - t, time.process_time() - c
        with open(os.path.join(d, "ssah_map.txt")) as f:
            m_ssah, m_tie = (float(v) for v in f.read().split())
        ap_ssah = np.load(os.path.join(d, "ssah_map_ap.npy"))
        ours = ssah_times["BM_MapAll/real_time"]
        print("  ssah                      %.3f s   mAP %.15f  (tie-aware %.6f)" % (ours, m_ssah, m_tie))
        print("  numpy calc_map, stable    %.3f s   mAP %.15f  ratio %.0fx" % (t_stable, m_stable, t_stable / ours))
        print("  numpy calc_map, as published (quicksort) %.3f s  mAP %.15f  ratio %.0fx" %
              (t_quick, m_quick, t_quick / ours))
        ours_cpu = ssah_cpu["BM_MapAllOneThread"]
        print("  CPU time (ssah on one thread; NumPy process time; little affected by other load): ssah %.3f s, "
              "numpy stable %.3f s, "
              "ratio %.0fx" % (ours_cpu, c_stable, c_stable / ours_cpu))
        print("  |ssah - numpy stable|: mAP %.2e, largest per-query AP difference %.2e" %
              (abs(m_ssah - m_stable), float(np.max(np.abs(ap_ssah - ap_stable)))))
        ok = abs(m_ssah - m_stable) <= 1e-12 and float(np.max(np.abs(ap_ssah - ap_stable))) <= 1e-12
        print("  values identical to numpy with a stable sort (to 1e-12): %s" % ("yes" if ok else "NO"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
