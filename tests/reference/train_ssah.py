#!/usr/bin/env python3
"""An independent SSAH training run in PyTorch, for checking ssah's `faithful` figures end to end.

issue 3's reference column is "a PyTorch SSAH reference (paper objective, default schedule)". This
script is such a reference, written from ../shared/docs/ssah-reference.md (sections 2-4) and
docs/model.md, not from ssah's C++: the networks and loss terms are make_model_fixtures.py's (the
golden-fixture model the C++ tests compare with), the schedule is the reference's (LabNet 10 + 5
passes, discriminators 1 + 1, each modality network 15 + 7 + 5 with the early-stop rules, the
learning-rate tables, n // batch steps a pass of the first `batch` items of a fresh permutation, F/H
buffers starting as N(0, 1), B = sign(H_label + sum of H_modality) refreshed after every pass) and
every layer starts from PyTorch's default initialisation (U(+-1/sqrt(fan_in)) weights and biases):
the `faithful` recipe of ssah/recipes.hpp. MAP is calc_map with a stable sort (the `map` of
ssah/eval). It prints one line of MAPs like ssah_experiments and, with --json, writes them.

    /usr/bin/python3 tests/reference/train_ssah.py --set mir730 --bits 32 --seed 1
    /usr/bin/python3 tests/reference/train_ssah.py --set mirtext --bits 32 --text-backbone text

Sets: wiki, uci (three views: Fourier and Karhunen-Loeve at the image table, pixel at the text table,
as ssah's faithful recipe), mir730 (image = colour histogram ++ gradient grid,
standardised on the training rows; text = 0/1 bag-of-words), mirtext (text only). Needs numpy and torch (Debian: python3-torch).
"""
import argparse
import functools
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model_fixtures as ref  # noqa: E402  (sets float64 and deterministic algorithms: undone below)

torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(False)
ref.DIS_HIDDEN = [512, 256]
ref.WEIGHTS = dict(feature_pairwise=1.0, hash_pairwise=1.0, quantization=1.0, label=1.0, adversarial=1.0)

FEAT, HID = 512, 4096
LABEL_PASSES, DIS_PASSES, MODALITY_PASSES = [10, 5], [1, 1], [15, 7, 5]
LR_START = dict(label=3.0, discriminator=3.0, image=4.5, text=3.5)   # faithful: LabNet at 1e-3


def fast_lrn(x):
    """TF LRN (radius 2, bias 2, alpha 1e-4, beta 0.75) over axis 1; PyTorch's divides alpha by the size."""
    size = 2 * ref.LRN_RADIUS + 1
    return torch.nn.functional.local_response_norm(x.unsqueeze(2), size, alpha=ref.LRN_ALPHA * size,
                                                   beta=ref.LRN_BETA, k=ref.LRN_BIAS).squeeze(2)


# The fixtures' forms are written for clarity (a per-channel LRN loop, the TF1 resize matrix built on
# every forward); training swaps in equivalent fast ones.
reference_lrn = ref.lrn
_probe = torch.rand(3, 37, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 300
assert torch.allclose(fast_lrn(_probe), reference_lrn(_probe), rtol=1e-12, atol=0), "fast LRN differs"
ref.lrn = fast_lrn
_reference_resize = ref.legacy_resize_matrix
ref.legacy_resize_matrix = functools.lru_cache(maxsize=None)(lambda a, b: _reference_resize(a, b).float())


def lr_table(start, epoch, stage):
    return 0.1 ** (start + 0.5 * (epoch + stage))


# ------------------------------------------------------------------ data
def load_set(name, root):
    """(modalities [(name, array, kind)], labels, query, database, train) with row indices into them."""
    ld = lambda p: np.load(os.path.join(root, p))  # noqa: E731
    split = lambda s: [ld("splits/%s_%s_idx_i32.npy" % (s, part)).astype(np.int64) for part in ("q", "db", "tr")]  # noqa
    if name == "wiki":
        cat = lambda a, b: np.concatenate([ld("wikipedia/npy/test_" + a), ld("wikipedia/npy/train_" + b)])  # noqa
        mods = [("img", cat("img_sift128_f32.npy", "img_sift128_f32.npy"), "dense"),
                ("txt", cat("txt_lda10_f32.npy", "txt_lda10_f32.npy"), "dense")]
        labels = cat("label_onehot_u8.npy", "label_onehot_u8.npy")
        return mods, labels, split("wiki")
    if name == "uci":
        cat = lambda a: np.concatenate([ld("uci_mfeat/test_" + a), ld("uci_mfeat/train_" + a)])  # noqa: E731
        ids = cat("label_i32.npy")
        labels = np.eye(10, dtype=np.float32)[ids - ids.min()]
        mods = [(v, cat(f), "dense") for v, f in (("fourier", "fourier76_f32.npy"), ("kl", "karhunenloeve64_f32.npy"),
                                                  ("pixel", "pixel240_u8.npy"))]
        return mods, labels, split("uci")
    if name == "mir730":
        d = "mirflickr25k/subset730/"
        img = np.concatenate([ld(d + "img_colorhist512_f32.npy"), ld(d + "img_gridorient144_f32.npy")], axis=1)
        return [("img", img, "dense"), ("txt", ld(d + "text_bow1386_u8.npy"), "bow")], ld(d + "labels_u8.npy"), \
            split("mir730")
    if name == "mirtext":
        d = "mirflickr25k/full/"
        return [("txt", ld(d + "text_bow1386_u8.npy"), "bow")], ld(d + "labels_u8.npy"), split("mirfull")
    raise SystemExit("unknown set " + name)


def standardise(x, train):
    """Training rows' mean and (population) standard deviation; a constant column is only centred."""
    x = x.astype(np.float64)
    mean = x[train].mean(axis=0)
    sd = np.sqrt(((x[train] - mean) ** 2).mean(axis=0))
    sd[sd == 0] = 1.0
    return ((x - mean) / sd).astype(np.float32)


# ------------------------------------------------------------------ parameters (PyTorch's default init)
def uniform(gen, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return ((torch.rand(shape, generator=gen) * 2 - 1) * bound).requires_grad_(True)


def linear_params(gen, p, name, n_in, n_out):
    p[name + ".weight"] = uniform(gen, (n_out, n_in), n_in)
    p[name + ".bias"] = uniform(gen, (n_out,), n_in)


def feature_params(gen, n_in, c, k):
    p = {}
    linear_params(gen, p, "fc1", n_in, HID)
    linear_params(gen, p, "fc2", HID, FEAT)
    linear_params(gen, p, "hash", FEAT, k)
    linear_params(gen, p, "label", FEAT, c)
    return p


def text_params(gen, dt, c, k):
    p = {}
    for w in ref.TEXT_WINDOWS:                       # 1x1 convolution, one input channel: fan_in 1
        p["ms%d.weight" % w] = uniform(gen, (1, 1, 1, 1), 1)
    p["fc1.kernel"] = uniform(gen, (dt, 1 + len(ref.TEXT_WINDOWS), HID), dt * 6)
    p["fc1.bias"] = uniform(gen, (HID,), dt * 6)
    linear_params(gen, p, "fc2", HID, FEAT)
    linear_params(gen, p, "hash", FEAT, k)
    linear_params(gen, p, "label", FEAT, c)
    return p


def discriminator_params(gen):
    p = {}
    linear_params(gen, p, "fc1", FEAT, 512)
    linear_params(gen, p, "fc2", 512, 256)
    linear_params(gen, p, "out", 256, 1)
    return p


def run(forward, p, x):
    trunk, head_input = forward(x, p)
    out = dict(trunk)
    out.update(ref.heads(head_input, p))
    return out


def feature_forward(x, p):
    return ref.feature_net(x, p, [HID, FEAT])


def sign(x):
    return torch.where(x > 0, torch.ones_like(x), -torch.ones_like(x))


# ------------------------------------------------------------------ evaluation
def calc_map(qb, rb, ql, rl):
    """calc_map of the reference with a stable sort; queries without a relevant item count 0."""
    k = qb.shape[1]
    total = 0.0
    for i in range(qb.shape[0]):
        gnd = (ql[i] @ rl.T > 0).astype(np.float64)
        tsum = gnd.sum()
        if tsum == 0:
            continue
        hamm = 0.5 * (k - qb[i] @ rb.T)
        gnd = gnd[np.argsort(hamm, kind="stable")]
        count = np.arange(1, int(tsum) + 1)
        tindex = np.nonzero(gnd)[0] + 1.0
        total += np.mean(count / tindex)
    return total / qb.shape[0]


# ------------------------------------------------------------------ training
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", required=True, choices=["wiki", "uci", "mir730", "mirtext"])
    ap.add_argument("--bits", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--text-backbone", choices=["feature", "text"], default="feature",
                    help="the bag-of-words network: FeatureNet or the multi-scale TxtNet")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps-per-pass", type=int, default=0, help="0: n // batch, the reference's rule")
    ap.add_argument("--batches", metavar="NPY", default=None,
                    help="take the batches' rows from this [steps, batch] array in order (a replay of ssah's draws)")
    ap.add_argument("--save-init", metavar="DIR", default=None,
                    help="write the training rows (x<m>), every row (all<m>, to encode), the initial parameters and "
                         "the buffers as .npy, for a replay in ssah (tests/reference/replay.sh)")
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    k = args.bits

    mods, labels_all, (q_idx, db_idx, tr_idx) = load_set(args.set, args.data)
    labels_all = labels_all.astype(np.float32)
    c = labels_all.shape[1]
    data, forwards, params, starts = [], [], [], []
    for m, (name, x, kind) in enumerate(mods):
        x = standardise(x, tr_idx) if kind == "dense" else x.astype(np.float32)
        data.append(torch.from_numpy(x))
        last = m + 1 == len(mods)
        starts.append(LR_START["text" if last else "image"])   # as ssah's faithful recipe
        if kind == "bow" and args.text_backbone == "text":
            forwards.append(ref.text_net)
            params.append(text_params(gen, x.shape[1], c, k))
        else:
            forwards.append(feature_forward)
            params.append(feature_params(gen, x.shape[1], c, k))
    lab = feature_params(gen, c, c, k)
    dis = [discriminator_params(gen) for _ in mods]
    adam = lambda p: torch.optim.Adam(list(p.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)  # noqa: E731
    opt_lab, opt_mod, opt_dis = adam(lab), [adam(p) for p in params], [adam(d) for d in dis]

    tr = torch.from_numpy(tr_idx)
    labels = torch.from_numpy(labels_all)[tr]
    train_x = [x[tr] for x in data]
    n = labels.shape[0]
    batch = min(args.batch, n)
    steps = args.steps_per_pass or max(1, n // batch)
    lab_f, lab_h = torch.randn(n, FEAT, generator=gen), torch.randn(n, k, generator=gen)
    mod_f = [torch.randn(n, FEAT, generator=gen) for _ in mods]
    mod_h = [torch.randn(n, k, generator=gen) for _ in mods]
    codes = sign(lab_h + sum(mod_h))

    if args.save_init:
        os.makedirs(args.save_init, exist_ok=True)
        arrays = {"labels": labels, "buf.label_features": lab_f, "buf.label_hashes": lab_h, "buf.codes": codes}
        for m in range(len(mods)):
            arrays.update({"x%d" % m: train_x[m], "all%d" % m: data[m], "buf.features%d" % m: mod_f[m],
                           "buf.hashes%d" % m: mod_h[m]})
        for net, p in [("label", lab)] + [("modality%d" % m, q) for m, q in enumerate(params)] + \
                [("discriminator%d" % m, d) for m, d in enumerate(dis)]:
            arrays.update({"%s.%s" % (net, name): v for name, v in p.items()})
        for name, v in arrays.items():
            np.save(os.path.join(args.save_init, name + ".npy"), v.detach().numpy().astype(np.float32))

    def refresh():
        codes.copy_(sign(lab_h + sum(mod_h)))

    given_batches = iter(torch.from_numpy(np.load(args.batches).astype(np.int64))) if args.batches else None

    def draw():
        if given_batches is not None:
            return next(given_batches)[:batch]
        return torch.randperm(n, generator=gen)[:batch]

    def zero(*ps):
        for p in ps:
            for v in p.values():
                v.grad = None

    def set_lr(opt, lr):
        for g in opt.param_groups:
            g["lr"] = lr

    def supervised(out, idx):
        bl = labels[idx]
        s = (labels @ bl.t() > 0.5).float()
        return sum(ref.supervised_terms(out, lab_f, lab_h, s, codes[idx], bl, "paper").values())

    def label_step():
        idx = draw()
        out = run(feature_forward, lab, labels[idx])
        lab_f[idx] = out["feature"].detach()
        lab_h[idx] = out["hash"].detach()
        total = supervised(out, idx)
        zero(lab)
        total.backward()
        opt_lab.step()
        return total.item()

    def discriminator_step():
        idx = draw()
        with torch.no_grad():
            f_l = run(feature_forward, lab, labels[idx])["feature"]
            f_m = [run(forwards[m], params[m], train_x[m][idx])["feature"] for m in range(len(mods))]
        total = 0
        for m in range(len(mods)):
            lm, ll = ref.discriminator(f_m[m], dis[m]), ref.discriminator(f_l, dis[m])
            total = total + (ref.sigmoid_ce(lm, torch.zeros_like(lm)).mean() +
                             ref.sigmoid_ce(ll, torch.ones_like(ll)).mean()) / (2 * len(mods))
            zero(dis[m])
        total.backward()
        for o in opt_dis:
            o.step()
        return total.item()

    def modality_step(m):
        idx = draw()
        out = run(forwards[m], params[m], train_x[m][idx])
        mod_f[m][idx] = out["feature"].detach()
        mod_h[m][idx] = out["hash"].detach()
        logit = ref.discriminator(out["feature"], dis[m])
        total = supervised(out, idx) + ref.sigmoid_ce(logit, torch.ones_like(logit)).mean()
        zero(params[m], dis[m])
        total.backward()
        opt_mod[m].step()
        return total.item()

    def a_pass(step, where):
        loss = sum(step() for _ in range(steps)) / steps
        refresh()
        print("  epoch %d %-14s stage %d pass %d: loss %.7g" % ((e,) + where + (loss,)), file=sys.stderr, flush=True)
        return loss

    start = time.time()
    for e in range(args.epochs):
        for idx, passes in enumerate(LABEL_PASSES):
            set_lr(opt_lab, lr_table(LR_START["label"], e, idx))
            previous = 0.0
            for kk in range(passes):
                loss = a_pass(label_step, ("label", idx, kk))
                if kk > 1 and loss >= previous:
                    break
                previous = loss
        for idx, passes in enumerate(DIS_PASSES):
            for o in opt_dis:
                set_lr(o, lr_table(LR_START["discriminator"], e, idx))
            for kk in range(passes):
                loss = sum(discriminator_step() for _ in range(steps)) / steps
                print("  epoch %d %-14s stage %d pass %d: loss %.7g" % (e, "discriminator", idx, kk, loss),
                      file=sys.stderr, flush=True)
        for m in range(len(mods)):
            for idx, passes in enumerate(MODALITY_PASSES):
                set_lr(opt_mod[m], lr_table(starts[m], e, idx))
                previous, have_previous = 0.0, False
                for kk in range(passes):
                    loss = a_pass(lambda: modality_step(m), ("modality %d" % m, idx, kk))
                    if kk % 2:
                        continue
                    if kk > 2 and have_previous and loss >= previous:
                        break
                    previous, have_previous = loss, True
        refresh()
        print("epoch %d done (%.0f s)" % (e, time.time() - start), file=sys.stderr, flush=True)
    seconds = time.time() - start

    # Codes of every modality (and of the label vectors) for the query and database rows.
    def encode(m, rows):
        with torch.no_grad():
            if m is None:
                h = run(feature_forward, lab, torch.from_numpy(labels_all[rows]))["hash"]
            else:
                h = run(forwards[m], params[m], data[m][torch.from_numpy(rows)])["hash"]
        return sign(h).numpy().astype(np.float64)

    ql, dl = labels_all[q_idx], labels_all[db_idx]
    names = [name for name, _, _ in mods]
    q_codes = {name: encode(m, q_idx) for m, name in enumerate(names)}
    q_codes["label"] = encode(None, q_idx)
    d_codes = {name: encode(m, db_idx) for m, name in enumerate(names)}
    result = {}
    for qn in names + ["label"]:
        for dn in names:
            result["%s->%s" % (qn, dn)] = calc_map(q_codes[qn], d_codes[dn], ql, dl)
    line = "  ".join("%s %.3f" % (key, v) for key, v in result.items())
    print("K=%d (%.1fs training, %d epochs, %d steps a pass):  %s" % (k, seconds, args.epochs, steps, line))
    if args.json:  # written whole or not at all
        with open(args.json + ".tmp", "w") as f:
            json.dump(dict(vars(args), map=result, seconds=seconds, torch=torch.__version__), f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
