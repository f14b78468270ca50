#!/usr/bin/env python3
"""Renders docs/results.md from the JSON files that scripts/results.sh collects (standard library only).

Each file is `<set>-<recipe>-seed<seed>.json` as written by ssah_experiments --json. The reference figures are
those of issue 3 (a PyTorch SSAH reference with the paper objective and the default schedule, and the
best classic baseline, on the same fixed splits).
"""
import argparse
import datetime
import json
import os

# set -> (title, [(direction, {bits: (pytorch_ssah, best_baseline)})], random ranking)
REFERENCE = {
    "wiki": ("Wikipedia (SIFT-128 image vs LDA-10 text; query 693, database = train 2,173)", [
        ("img->txt", {16: (.135, .238), 32: (.150, .262), 64: (.145, .284)}),
        ("txt->img", {16: (.210, .236), 32: (.200, .257), 64: (.260, .271)}),
    ], .111),
    "mir730": ("MIRFLICKR 730 photos, colour + gradient features vs tags (query 100, database = train 630)", [
        ("img->txt", {32: (.631, .615)}),
        ("txt->img", {32: (.763, .674)}),
    ], .495),
    "uci": ("UCI multiple features, three views (query 500, database = train 1,500)", [
        ("fourier->kl", {32: (.619, .735)}),
        ("kl->fourier", {32: (.663, .744)}),
        ("pixel->kl", {32: (.917, .925)}),
    ], .104),
    "mirtext": ("MIRFLICKR-25K tags + labels (query 2,000, database 18,015, train 10,000)", [
        ("txt->txt", {32: (.693, .685)}),
        ("label->txt", {32: (.769, .775)}),
    ], .554),
    "photos": ("MIRFLICKR 730 real 64x64 photos through a small CNN-F vs tags (query 100, database = train 630)", [],
               .495),
}
ORDER = ["wiki", "mir730", "uci", "mirtext", "photos"]


def recipe_of(run):
    """The recipe a run used (files written before recipes existed name a profile)."""
    return run.get("recipe", run.get("profile"))


def mean_sd(vals):
    """Mean and sample standard deviation (None for a single value)."""
    mean = sum(vals) / len(vals)
    if len(vals) < 2:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5


def maps(runs, recipe, bits, direction):
    """MAP of `direction` at `bits` in every paper-objective run of `recipe` (one per seed)."""
    out = []
    for r in runs:
        b = r["bits"].get(str(bits))
        if recipe_of(r) == recipe and r.get("objective") == "paper" and b is not None and direction in b["map"]:
            out.append(b["map"][direction])
    return out


def text(vals):
    if not vals:
        return ""
    m, sd = mean_sd(vals)
    return "%.3f" % m if sd is None else "%.3f +- %.3f" % (m, sd)


def summary(runs):
    """One row per reference figure: the recommended recipe (what `ssah train` runs by default) beside
    the better of the PyTorch reference and the best baseline, which it should reach; the faithful
    recipe beside the PyTorch reference it should reproduce. Means over seeds."""
    lines = ["## Summary: every direction with a reference figure", "",
             "`recommended` is `ssah train`'s default and should reach the better of the PyTorch SSAH reference",
             "and the best classic baseline (mean over seeds, +- the sample sd; n = runs); `faithful` should",
             "reproduce the PyTorch SSAH reference (difference near 0; the independent PyTorch implementation's",
             "table below says whether a difference is ssah's).", "",
             "| set | K | direction | recommended | n | better of ref. and baseline | recommended >= | faithful | n | "
             "PyTorch SSAH ref. | faithful - ref. | best baseline | random |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in ORDER:
        if s not in runs:
            continue
        _, ref, rnd = REFERENCE[s]
        for d, by_bits in ref:
            for bits, (pt, base) in sorted(by_bits.items()):
                rec, fai = maps(runs[s], "recommended", bits, d), maps(runs[s], "faithful", bits, d)
                if not rec and not fai:
                    continue
                goal = max(pt, base)
                verdict = "" if not rec else ("yes" if mean_sd(rec)[0] >= goal else "**no**")
                lines.append("| %s | %d | %s | %s | %d | %.3f | %s | %s | %d | %.3f | %s | %.3f | %.3f |" % (
                    s, bits, d, text(rec), len(rec), goal, verdict, text(fai), len(fai), pt,
                    "" if not fai else "%+.3f" % (mean_sd(fai)[0] - pt), base, rnd))
    return lines + [""]


def seed_spread(runs):
    """Every recipe over its seeds at K = 32: where the reference figure falls."""
    rows = []
    for recipe in ("recommended", "faithful"):
        for s in ORDER:
            if s not in runs:
                continue
            for d, by_bits in REFERENCE[s][1]:
                if 32 not in by_bits:
                    continue
                vals = maps(runs[s], recipe, 32, d)
                seeds = sorted(r.get("seed", 1) for r in runs[s]
                               if recipe_of(r) == recipe and r.get("objective") == "paper" and "32" in r["bits"])
                if len(vals) < 2:
                    continue
                mean, sd = mean_sd(vals)
                pt = by_bits[32][0]
                rows.append("| %s | %s | %s | %s | %.3f | %.3f | %.3f - %.3f | %.3f | %+.1f |" % (
                    recipe, s, d, ",".join(map(str, seeds)), mean, sd, min(vals), max(vals), pt,
                    (pt - mean) / sd if sd > 0 else 0))
    if not rows:
        return []
    return ["## Over seeds (K = 32)", "",
            "The reference figure is one run of one seed; so is each of ours. The same configuration with",
            "other seeds (weights, batches) shows how far one run moves; the last column is the reference's",
            "distance from our mean in our standard deviations.", "",
            "| recipe | set | direction | seeds | mean MAP | sd | min - max | PyTorch SSAH ref. | (ref. - mean) / sd |",
            "|---|---|---|---|---|---|---|---|---|"] + rows + [""]


def independent(runs, pytorch):
    """ssah's faithful runs beside the same configuration trained by tests/reference/train_ssah.py."""
    rows = []
    for s in ORDER:
        theirs = pytorch.get(s, [])
        ours = [r["bits"]["32"]["map"] for r in runs.get(s, [])
                if recipe_of(r) == "faithful" and r.get("objective") == "paper" and "32" in r["bits"]]
        if not theirs or not ours:
            continue
        for d, by_bits in REFERENCE[s][1]:
            a = [m[d] for m in ours if d in m]
            b = [r["map"][d] for r in theirs if d in r["map"]]
            if not a or not b or 32 not in by_bits:
                continue
            rows.append("| %s | %s | %d | %s | %d | %s | %+.3f | %.3f |" % (
                s, d, len(a), text(a), len(b), text(b), mean_sd(a)[0] - mean_sd(b)[0], by_bits[32][0]))
    if not rows:
        return []
    return ["## ssah against an independent PyTorch implementation (faithful, K = 32)", "",
            "`tests/reference/train_ssah.py` trains the faithful configuration (paper objective, the reference",
            "schedule and tables, PyTorch's default initialisation, multi-scale TxtNet for bag-of-words) in",
            "PyTorch, written from the reference notes and the golden-fixture model, not from ssah's C++. Its",
            "random streams are PyTorch's, so compare means over seeds (mean +- sd over the runs counted). From",
            "the same start (parameters, buffers and batches) the two agree pass for pass through an epoch",
            "(`tests/reference/replay.sh`; docs/model.md), so a difference here comes from the random draws.", "",
            "| set | direction | ssah runs | ssah faithful | PyTorch runs | PyTorch (train_ssah.py) | ssah - PyTorch | "
            "issue 3's PyTorch SSAH ref. |",
            "|---|---|---|---|---|---|---|---|"] + rows + [""]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--machine", default="")
    p.add_argument("--note", default="", help="a paragraph added under the header (e.g. which build produced the runs)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    runs, pytorch = {}, {}
    for name in sorted(os.listdir(a.results)):
        if name.endswith(".json"):
            with open(os.path.join(a.results, name)) as f:
                r = json.load(f)
            if name.startswith("pytorch-"):  # tests/reference/train_ssah.py
                pytorch.setdefault(r["set"], []).append(r)
            else:
                runs.setdefault(r["set"], []).append(r)
    lines = [
        "# Results on real data",
        "",
        "Produced by `scripts/results.sh` (do not edit by hand): SSAH trained by `ssah_experiments` on the",
        "data sets of `../shared/datasets` with the fixed splits of `../shared/datasets/splits`, with the",
        "library's recipes (`ssah/recipes.hpp`, docs/model.md) as they are, seeds 1, 2 and 3. MAP over the whole",
        "ranking, relevant = shares at least one label, ties in Hamming distance ordered by database index.",
        "Reference columns: a PyTorch SSAH reference (paper objective, default schedule) and the best classic",
        "baseline (supervised linear / kernel ITQ) on the same splits, from issue 3; `random` is the MAP of a",
        "random ranking. When a run collapses (every code equal), the stable-tie MAP only reflects the",
        "database's order and can sit above `random`; the tie-aware MAP (the expectation over tie orders) then",
        "equals the random ranking's, so read both columns. `training s` is wall-clock time on the machine",
        "named below, with whatever else ran on it then (timings belong in `bench/` and docs/benchmarks.md).",
        "",
        "Recipes: **recommended** (what `ssah train` and `ssah_experiments` run by default) = Xavier",
        "initialisation, every network from 1e-3 (then /sqrt(10) per stage as the tables do), FeatureNet on",
        "bags of words, ceil(6,500 / training items) epochs between 1 and 3 (3 on Wikipedia, UCI and the 730",
        "sets, 1 on mirtext); **faithful** = the PyTorch reference as it was run: PyTorch's default layer",
        "initialisation (U(+-1/sqrt(fan_in)) weights and biases), LabNet at 1e-3, the reference's tables for the",
        "modality networks (image 10^-4.5 for every modality but the last, text 10^-3.5 for the last: UCI's",
        "pixel view), the multi-scale TxtNet on bags of words, one epoch; **authors** (where present) = the",
        "authors' TensorFlow code as written: N(0, 0.01^2) weights and biases, LabNet at 1e-2, one epoch.",
        "",
        "Generated %s UTC on %s." % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), a.machine or "?"),
        "",
    ]
    if a.note:
        lines += [a.note, ""]
    lines += summary(runs)
    lines += seed_spread(runs)
    lines += independent(runs, pytorch)
    for s in ORDER + sorted(set(runs) - set(ORDER)):
        if s not in runs:
            continue
        title, ref, rnd = REFERENCE.get(s, (s, [], None))
        lines += ["## " + title, ""]
        lines += ["Seed 1:", "", "| recipe | objective | K | direction | ssah MAP | tie-aware | PyTorch SSAH ref. | best baseline | random | training s |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        refs = dict(ref)
        for r in sorted((r for r in runs[s] if r.get("seed", 1) == 1), key=lambda r: (recipe_of(r), r["objective"])):
            for bits, b in sorted(r["bits"].items(), key=lambda kv: int(kv[0])):
                for d, m in b["map"].items():
                    pt, base = refs.get(d, {}).get(int(bits), (None, None))
                    fmt = lambda v: "" if v is None else "%.3f" % v
                    lines.append("| %s | %s | %s | %s | **%.3f** | %.3f | %s | %s | %s | %.1f |" % (
                        recipe_of(r), r["objective"], bits, d, m, b["map_tie_aware"][d], fmt(pt), fmt(base),
                        fmt(rnd), b["train_seconds"]))
        lines.append("")
    with open(a.out + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
