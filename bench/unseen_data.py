#!/usr/bin/env python3
"""`ssah train`'s default recipe on real data sets that are NOT in ../shared, against classic baselines.

Issue 15 asks that the default recipe (no --recipe, no option that overrides a setting) reach the best
classic baseline on data it was not tuned on. Every data set of ../shared/datasets was used to choose the
recipe, so this script builds cross-modal (two-view) versions of real data sets that scikit-learn ships
inside its package (no download, nothing from ../shared):

  - digits: sklearn.datasets.load_digits, 1,797 8x8 handwritten digits (the optdigits test set of the UCI
    "Optical Recognition of Handwritten Digits" data, pixel counts 0..16), 10 classes. View `top` = pixel
    rows 0-3 (32 values), view `bottom` = rows 4-7 (32 values). This is NOT the UCI Multiple Features
    (mfeat) data of ../shared/datasets/uci_mfeat: other writers, other scans, other features.
  - breast_cancer: sklearn.datasets.load_breast_cancer (Wisconsin diagnostic), 569 x 30, 2 classes.
    View `mean` = the 10 "mean" measurements, view `worst` = the 10 "worst" measurements (the 10
    "standard error" columns are left out).
  - wine: sklearn.datasets.load_wine, 178 x 13, 3 classes. View `chem` = the first 7 measurements
    (alcohol .. flavanoids), view `color` = the last 6 (nonflavanoid phenols .. proline).

Splits (fixed, drawn once with numpy's default_rng(20150), written as int64 query_idx.npy, db_idx.npy,
train_idx.npy and passed with --split): digits 297 query / 1,500 database; breast_cancer 100 / 469;
wine 28 / 150. The database is the training set and the queries are disjoint from it, as in the shared
protocols (Wikipedia, UCI). Labels are one-hot; relevant = shares a label.

Measured, per data set, K and seed:
  - ssah: `ssah train --modality A=... --modality B=... --labels ... --split ... --bits ... --seed S --out DIR`,
    nothing else: the default (recommended) recipe. MAP of A->B and B->A from report.json, whole ranking,
    ties ordered by database index; the script recomputes them from the written codes and checks they match.
  - baselines on the same splits and K (numpy + scikit-learn, the same seed for their random parts):
    supervised linear ITQ: each view standardised with the training rows' mean and sd, ridge regression
    (RidgeCV, alpha by leave-one-out on the training rows only, grid 1e-3..1e3) from the view to the
    centred one-hot label matrix; both views' training projections (C dims, C = classes) are stacked and
    mapped to K dims (K <= C: their PCA; K > C, the case of every set here: a random projection with
    orthonormal rows, C x K, seeded), then ITQ (Gong and Lazebnik; 50 iterations, random orthogonal start)
    learns one rotation for both views; codes = sign. Kernel ITQ is the same on RBF features (Gaussian
    kernel to 300 training anchors, or all training rows when fewer; width = mean anchor distance).
    Query codes of one view are ranked against database codes of the other.
  - random: the exact expected MAP of a uniformly random ranking (mean over queries of
    (H_N + (R-1)/(N-1) (N - H_N)) / N, R relevant of N).
  - the MAP function is checked against `ssah eval` on one baseline code pair (must agree to 1e-9).

Usage (after scripts/demo.sh or scripts/test.sh has built build/examples/cli/ssah):

    PYTHON=... ; $PYTHON bench/unseen_data.py [--ssah PATH] [--work DIR] [--plan digits:16,32,64 ...]
        [--seeds 1,2,3] [--reuse] [--baseline-only] [--report-only]

The ssah program is --ssah, else $SSAH, else build/examples/cli/ssah. --work keeps the data, splits and
run folders (default: a temporary folder, removed); --reuse takes a run folder whose report.json already
has every K instead of training again; --report-only trains nothing and tabulates the run folders that
--work holds, with the K they hold (n in the table = runs per cell). Needs numpy and scikit-learn (for the data and RidgeCV). Prints
Markdown tables on stdout (progress on stderr); exit status 1 when a MAP check fails or a run fails.
One training at a time; each run's wall time (the whole `ssah train` process, all its K) is reported.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

SPLIT_SEED = 20150
DEFAULT_PLAN = ["digits:16,32,64", "breast_cancer:16,32,64", "wine:32"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def load_set(name):
    """(views {name: float32 [N, D]}, one-hot uint8 labels [N, C], n_query)."""
    from sklearn import datasets

    if name == "digits":
        d = datasets.load_digits()
        img = d.images.astype(np.float32)  # [N, 8, 8]
        views = {"top": img[:, :4, :].reshape(len(img), -1), "bottom": img[:, 4:, :].reshape(len(img), -1)}
        y, n_query = d.target, 297
    elif name == "breast_cancer":
        d = datasets.load_breast_cancer()
        x = d.data.astype(np.float32)
        assert d.feature_names[0] == "mean radius" and d.feature_names[20] == "worst radius"
        views = {"mean": x[:, 0:10], "worst": x[:, 20:30]}
        y, n_query = d.target, 100
    elif name == "wine":
        d = datasets.load_wine()
        x = d.data.astype(np.float32)
        views = {"chem": x[:, 0:7], "color": x[:, 7:13]}
        y, n_query = d.target, 28
    else:
        raise SystemExit(f"unknown data set {name}")
    classes = int(y.max()) + 1
    labels = np.zeros((len(y), classes), np.uint8)
    labels[np.arange(len(y)), y] = 1
    return views, labels, n_query


def make_split(n, n_query):
    perm = np.random.default_rng(SPLIT_SEED).permutation(n).astype(np.int64)
    q, db = np.sort(perm[:n_query]), np.sort(perm[n_query:])
    return q, db, db.copy()


# ---------------------------------------------------------------- metrics


def signs(b):
    return np.where(np.asarray(b) > 0, 1, -1).astype(np.int32)


def map_stable(qb, db, ql, dl):
    """MAP over the whole ranking, relevant = shares a label, ties by database index (as ssah / calc_map)."""
    qb, db = signs(qb), signs(db)
    k = qb.shape[1]
    ham = (k - qb @ db.T) // 2
    rel = (ql.astype(np.int64) @ dl.astype(np.int64).T) > 0
    order = np.argsort(ham, axis=1, kind="stable")
    relo = np.take_along_axis(rel, order, axis=1)
    hits = np.cumsum(relo, axis=1)
    pos = np.arange(1, relo.shape[1] + 1)
    r = relo.sum(axis=1)
    ap = (relo * hits / pos).sum(axis=1) / np.maximum(r, 1)
    return float(np.mean(np.where(r > 0, ap, 0.0)))


def map_random(ql, dl):
    rel = (ql.astype(np.int64) @ dl.astype(np.int64).T) > 0
    n = rel.shape[1]
    h = np.sum(1.0 / np.arange(1, n + 1))
    r = rel.sum(axis=1)
    e = (h + (r - 1) / (n - 1) * (n - h)) / n
    return float(np.mean(np.where(r > 0, e, 0.0)))


# ---------------------------------------------------------------- baselines


def itq(v, iters, rng):
    k = v.shape[1]
    r, _ = np.linalg.qr(rng.standard_normal((k, k)))
    for _ in range(iters):
        b = np.where(v @ r > 0, 1.0, -1.0)
        s, _, sh_t = np.linalg.svd(b.T @ v)
        r = (s @ sh_t).T  # R = S_hat S^T (Gong and Lazebnik)
    return r


def rbf_features(x_train, anchors_idx):
    a = x_train[anchors_idx]

    def dist2(u):
        return np.maximum((u * u).sum(1)[:, None] + (a * a).sum(1)[None, :] - 2 * u @ a.T, 0.0)

    sigma = np.sqrt(dist2(x_train)).mean()
    return lambda u: np.exp(-dist2(u) / (2 * sigma * sigma))


def baseline_codes(views, labels, q, db, tr, k, seed, kernel):
    """{view: (query codes, db codes)} of supervised linear (or kernel) ITQ with a shared rotation."""
    from sklearn.linear_model import RidgeCV

    rng = np.random.default_rng(seed)
    y = labels[tr].astype(np.float64)
    y -= y.mean(axis=0)
    proj = {}
    for name, x in views.items():
        x = x.astype(np.float64)
        mu, sd = x[tr].mean(axis=0), x[tr].std(axis=0)
        sd[sd == 0] = 1.0
        z = (x - mu) / sd
        if kernel:
            n_anchor = min(300, len(tr))
            anchors = rng.choice(len(tr), n_anchor, replace=False)
            phi = rbf_features(z[tr], anchors)
            f = phi(z)
            f -= f[tr].mean(axis=0)
        else:
            f = z
        reg = RidgeCV(alphas=np.logspace(-3, 3, 13), fit_intercept=False).fit(f[tr], y)
        proj[name] = reg.predict(f)
    stacked = np.vstack([p[tr] for p in proj.values()])
    c = stacked.shape[1]
    if k <= c:
        _, _, vt = np.linalg.svd(stacked - stacked.mean(0), full_matrices=False)
        m = vt[:k].T  # C x K
    else:
        qm, _ = np.linalg.qr(rng.standard_normal((k, c)))  # K x C, orthonormal columns
        m = qm.T  # C x K, orthonormal rows
    rot = itq(stacked @ m, 50, rng)
    out = {}
    for name, p in proj.items():
        codes = np.where(p @ m @ rot > 0, 1, -1).astype(np.int8)
        out[name] = (codes[q], codes[db])
    return out


# ---------------------------------------------------------------- ssah


def run_ssah(ssah, set_dir, run_dir, names, bits, seed, reuse):
    rep_path = os.path.join(run_dir, "report.json")
    if reuse and os.path.exists(rep_path):
        rep = json.load(open(rep_path))
        if all(f"K{k}" in rep.get("results", {}) for k in bits):
            log(f"  reusing {run_dir}")
            return rep, None
    cmd = [ssah, "train"]
    for n in names:
        cmd += ["--modality", f"{n}={os.path.join(set_dir, n + '.npy')}"]
    cmd += ["--labels", os.path.join(set_dir, "labels.npy"), "--split", os.path.join(set_dir, "split"),
            "--bits", ",".join(map(str, bits)), "--seed", str(seed), "--out", run_dir]
    if os.path.exists(run_dir):
        cmd.append("--overwrite")
    log("  " + " ".join(cmd))
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.time() - t0
    with open(os.path.join(os.path.dirname(run_dir), os.path.basename(run_dir) + ".log"), "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise RuntimeError(f"ssah train failed ({p.returncode}): {p.stderr[-2000:]}")
    rep = json.load(open(rep_path))
    rep["_wall_s"] = wall
    with open(os.path.join(run_dir, "wall_seconds.txt"), "w") as f:
        f.write(f"{wall:.1f}\n")
    return rep, wall


def check_eval(ssah, qb, db, ql, dl, tmp):
    paths = {}
    for key, arr in (("q", qb), ("d", db), ("ql", ql), ("dl", dl)):
        paths[key] = os.path.join(tmp, f"eval_{key}.npy")
        np.save(paths[key], arr)
    out = os.path.join(tmp, "eval.json")
    subprocess.run([ssah, "eval", "--query-codes", paths["q"], "--db-codes", paths["d"], "--query-labels",
                    paths["ql"], "--db-labels", paths["dl"], "--json", out], check=True,
                   stdout=subprocess.DEVNULL)
    return float(json.load(open(out))["map"])


def mean_sd(xs):
    xs = np.asarray(xs, float)
    sd = xs.std(ddof=1) if len(xs) > 1 else float("nan")
    return xs.mean(), sd


def fmt(xs):
    m, sd = mean_sd(xs)
    return f"{m:.3f}" if np.isnan(sd) else f"{m:.3f} +- {sd:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ssah", default=os.environ.get("SSAH", "build/examples/cli/ssah"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--plan", action="append", default=None, help="SET:K,K,... (repeatable)")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--baseline-only", action="store_true")
    ap.add_argument("--report-only", action="store_true",
                    help="train nothing: tabulate the run folders under --work, with whatever K they hold")
    args = ap.parse_args()
    plan = [(p.split(":")[0], [int(k) for k in p.split(":")[1].split(",")]) for p in (args.plan or DEFAULT_PLAN)]
    seeds = [int(s) for s in args.seeds.split(",")]
    ssah = os.path.abspath(args.ssah)
    work = args.work or tempfile.mkdtemp(prefix="ssah-unseen-")
    os.makedirs(work, exist_ok=True)
    ok = True
    eval_checked = False
    rows, walls = [], []
    for set_name, bits in plan:
        views, labels, n_query = load_set(set_name)
        names = list(views)
        n = len(labels)
        q, db, tr = make_split(n, n_query)
        set_dir = os.path.join(work, set_name)
        os.makedirs(os.path.join(set_dir, "split"), exist_ok=True)
        for v, x in views.items():
            np.save(os.path.join(set_dir, v + ".npy"), x)
        np.save(os.path.join(set_dir, "labels.npy"), labels)
        for f, idx in (("query_idx", q), ("db_idx", db), ("train_idx", tr)):
            np.save(os.path.join(set_dir, "split", f + ".npy"), idx)
        dirs = [(names[0], names[1]), (names[1], names[0])]
        rnd = map_random(labels[q], labels[db])
        res = {}  # (k, dir) -> {"ssah": [...], "lin": [...], "ker": [...]}
        log(f"{set_name}: {n} items, views {', '.join(f'{v} {x.shape[1]}' for v, x in views.items())}, "
            f"{labels.shape[1]} classes, query {len(q)}, database = train {len(db)}")
        for seed in seeds:
            for k in bits:
                for kernel in (False, True):
                    codes = baseline_codes(views, labels, q, db, tr, k, seed, kernel)
                    for a, b in dirs:
                        m = map_stable(codes[a][0], codes[b][1], labels[q], labels[db])
                        res.setdefault((k, f"{a}->{b}"), {}).setdefault("ker" if kernel else "lin", []).append(m)
                        if not eval_checked and os.path.exists(ssah):
                            e = check_eval(ssah, codes[a][0], codes[b][1], labels[q], labels[db], set_dir)
                            log(f"  MAP check against ssah eval: numpy {m:.12f}, ssah eval {e:.12f}")
                            if abs(e - m) > 1e-9:
                                ok = False
                                log("  MISMATCH")
                            eval_checked = True
            if args.baseline_only:
                continue
            run_dir = os.path.join(set_dir, f"seed{seed}")
            if args.report_only:
                if not os.path.exists(os.path.join(run_dir, "report.json")):
                    continue
                rep, wall = json.load(open(os.path.join(run_dir, "report.json"))), None
            else:
                rep, wall = run_ssah(ssah, set_dir, run_dir, names, bits, seed, args.reuse)
            if wall is None and os.path.exists(os.path.join(run_dir, "wall_seconds.txt")):
                wall = float(open(os.path.join(run_dir, "wall_seconds.txt")).read())
            done = [k for k in bits if f"K{k}" in rep.get("results", {})]
            walls.append((set_name, seed, wall, {k: rep["results"][f"K{k}"].get("train_seconds") for k in done}))
            for k in done:
                for a, b in dirs:
                    d = f"{a}->{b}"
                    m = float(rep["results"][f"K{k}"]["map"][d])
                    qc = np.load(os.path.join(run_dir, "codes", f"K{k}_{a}_query.npy"))
                    dc = np.load(os.path.join(run_dir, "codes", f"K{k}_{b}_db.npy"))
                    mine = map_stable(qc, dc, labels[q], labels[db])
                    if abs(mine - m) > 1e-9:
                        ok = False
                        log(f"  MISMATCH {set_name} K{k} {d}: report {m} numpy {mine}")
                    res[(k, d)].setdefault("ssah", []).append(m)
            log(f"  seed {seed}: " + ", ".join(
                f"K{k} {d} {res[(k, d)]['ssah'][-1]:.3f}" for k in done for d in (f"{a}->{b}" for a, b in dirs)))
        for (k, d), r in sorted(res.items()):
            rows.append((set_name, k, d, r, rnd))
    print(f"Seeds {','.join(map(str, seeds))}; MAP over the whole ranking, ties by database index; "
          "mean +- sample sd over the n seeds that ran (the baselines: over every seed listed).\n")
    print("| set | K | direction | ssah default | n | supervised linear ITQ | kernel ITQ | best baseline | "
          "ssah - best baseline | ssah >= best baseline | random |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for set_name, k, d, r, rnd in rows:
        best = max(mean_sd(r["lin"])[0], mean_sd(r["ker"])[0])
        s = r.get("ssah")
        if s:
            diff = mean_sd(s)[0] - best
            cells = [fmt(s), str(len(s)), fmt(r["lin"]), fmt(r["ker"]), f"{best:.3f}", f"{diff:+.3f}", "yes" if diff >= 0 else "**no**"]
        else:
            cells = ["", "0", fmt(r["lin"]), fmt(r["ker"]), f"{best:.3f}", "", ""]
        print(f"| {set_name} | {k} | {d} | " + " | ".join(cells) + f" | {rnd:.3f} |")
    if walls:
        print("\n| set | seed | wall s (whole `ssah train`) | training s per K (report.json) |")
        print("|---|---|---|---|")
        for set_name, seed, wall, per_k in walls:
            w = f"{wall:.1f}" if wall is not None else "?"
            pk = ", ".join(f"K{k} {v:.1f}" if isinstance(v, (int, float)) else f"K{k} ?" for k, v in per_k.items())
            print(f"| {set_name} | {seed} | {w} | {pk} |")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
