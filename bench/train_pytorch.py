#!/usr/bin/env python3
"""PyTorch side of bench/compare_pytorch.sh: one training step of each SSAH network on the issue-6
workload (n = 10,000 buffered items, batch 128, K = 64, c = 24, objective Paper; image = 4,096-d
features through FeatureNet 4096 -> 4096 -> 512, text = 1,386-d bag-of-words through the multi-scale
text net (6 channels -> 4096 -> 512), discriminators 512 -> 512 -> 256 -> 1), timed per step.

The networks and losses are tests/reference/make_model_fixtures.py's independent PyTorch model
(imported through tests/reference/train_ssah.py, with the workload's sizes and unit loss weights), with
two of its helpers swapped for equivalent fast forms so PyTorch is not slowed by test-oriented code
(train_ssah.py does the swap, for its training runs too): its per-channel LRN loop
becomes torch.nn.functional.local_response_norm (alpha scaled by the window, as TF and the
reference define it; checked equal on import), and the TF1 resize matrices are built once, not on
every forward. Each step mirrors ssah's BasicSsah step: draw a batch, forward, write F and H into the
buffers, S over all n items, supervised terms (+ the adversarial term for modality steps), backward,
Adam; the discriminator step runs every network forward without gradients first.

Usage: train_pytorch.py [--threads 2] [--min-time 2.0] [--json out.json]
Prints one line per step: `pytorch <network> <ms per step> ms`.
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import train_ssah  # noqa: E402  (make_model_fixtures' model, float32, with the fast LRN and resize forms)

ref = train_ssah.ref  # train_ssah checks its fast LRN against the fixtures' on import

N, B, K, C = 10000, 128, 64, 24
IMG, TXT, FEAT, HID = 4096, 1386, 512, 4096
LR = 3e-5


def params(shapes, gen):
    return {k: (torch.randn(s, generator=gen) * 0.01).requires_grad_(True) for k, s in shapes.items()}


def linear_shapes(prefix_in_out):
    out = {}
    for name, i, o in prefix_in_out:
        out[name + ".weight"] = (o, i)
        out[name + ".bias"] = (o,)
    return out


def make_adam(ps):
    leaves = list(ps.values())
    for kw in (dict(fused=True), dict(foreach=True), {}):
        try:
            return torch.optim.Adam(leaves, lr=LR, **kw), (next(iter(kw)) if kw else "for-loop")
        except (RuntimeError, TypeError, ValueError):
            continue
    raise RuntimeError("no Adam")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=2.0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)

    # Data.
    labels = torch.zeros(N, C)
    for i in range(N):
        labels[i, torch.randint(0, C, (int(torch.randint(1, 5, (1,), generator=gen)),), generator=gen)] = 1
    image = torch.rand(N, IMG, generator=gen) * 2
    text = (torch.rand(N, TXT, generator=gen) < 0.02).float()

    # Networks (ssah's layouts; the text fc1 as the reference's [dT, 6, out] kernel).
    lab = params({**linear_shapes([("fc1", C, HID), ("fc2", HID, FEAT), ("hash", FEAT, K), ("label", FEAT, C)])}, gen)
    img = params({**linear_shapes([("fc1", IMG, HID), ("fc2", HID, FEAT), ("hash", FEAT, K), ("label", FEAT, C)])},
                 gen)
    txt_shapes = linear_shapes([("fc2", HID, FEAT), ("hash", FEAT, K), ("label", FEAT, C)])
    txt_shapes["fc1.kernel"] = (TXT, 6, HID)
    txt_shapes["fc1.bias"] = (HID,)
    for w in ref.TEXT_WINDOWS:
        txt_shapes["ms%d.weight" % w] = (1, 1, 1, 1)
    txt = params(txt_shapes, gen)
    with torch.no_grad():
        for w in ref.TEXT_WINDOWS:
            txt["ms%d.weight" % w].abs_()  # live branches (a negative one is dead, as in the reference)
    dis = [params(linear_shapes([("fc1", FEAT, 512), ("fc2", 512, 256), ("out", 256, 1)]), gen) for _ in range(2)]
    opt_lab, adam_kind = make_adam(lab)
    opt_img, _ = make_adam(img)
    opt_txt, _ = make_adam(txt)
    opt_dis = [make_adam(d)[0] for d in dis]

    lab_f, lab_h = torch.randn(N, FEAT, generator=gen), torch.randn(N, K, generator=gen)
    mod_f = [torch.randn(N, FEAT, generator=gen) for _ in range(2)]
    mod_h = [torch.randn(N, K, generator=gen) for _ in range(2)]
    codes = torch.sign(lab_h + mod_h[0] + mod_h[1])

    lab_fwd = lambda x_, p: ref.feature_net(x_, p, [HID, FEAT])  # noqa: E731
    img_fwd = lab_fwd
    txt_fwd = ref.text_net

    def run(forward, p, x_):
        trunk, head_input = forward(x_, p)
        out = dict(trunk)
        out.update(ref.heads(head_input, p))
        return out

    def supervised(out, idx, batch_labels):
        s = (labels @ batch_labels.t() > 0.5).float()
        terms = ref.supervised_terms(out, lab_f, lab_h, s, codes[idx], batch_labels, "paper")
        return sum(terms.values())

    def zero(*ps):
        for p in ps:
            for v in p.values():
                v.grad = None

    def label_step():
        idx = torch.randperm(N, generator=gen)[:B]
        bl = labels[idx]
        out = run(lab_fwd, lab, bl)
        lab_f[idx] = out["feature"].detach()
        lab_h[idx] = out["hash"].detach()
        total = supervised(out, idx, bl)
        zero(lab)
        total.backward()
        opt_lab.step()
        return total.item()

    def modality_step(m, forward, p, opt, data):
        idx = torch.randperm(N, generator=gen)[:B]
        bl = labels[idx]
        out = run(forward, p, data[idx])
        mod_f[m][idx] = out["feature"].detach()
        mod_h[m][idx] = out["hash"].detach()
        total = supervised(out, idx, bl)
        logit = ref.discriminator(out["feature"], dis[m])
        total = total + ref.WEIGHTS["adversarial"] * ref.sigmoid_ce(logit, torch.ones_like(logit)).mean()
        zero(p, dis[m])
        total.backward()
        opt.step()
        return total.item()

    def discriminator_step():
        idx = torch.randperm(N, generator=gen)[:B]
        bl = labels[idx]
        with torch.no_grad():
            f_l = run(lab_fwd, lab, bl)["feature"]
            f_m = [run(img_fwd, img, image[idx])["feature"], run(txt_fwd, txt, text[idx])["feature"]]
        total = 0
        for m in range(2):
            lm = ref.discriminator(f_m[m], dis[m])
            ll = ref.discriminator(f_l, dis[m])
            total = total + 0.25 * (ref.sigmoid_ce(lm, torch.zeros_like(lm)).mean() +
                                    ref.sigmoid_ce(ll, torch.ones_like(ll)).mean())
            zero(dis[m])
        total.backward()
        for o in opt_dis:
            o.step()
        return total.item()

    steps = {
        "label": label_step,
        "image": lambda: modality_step(0, img_fwd, img, opt_img, image),
        "text": lambda: modality_step(1, txt_fwd, txt, opt_txt, text),
        "discriminator": discriminator_step,
    }
    results = {}
    for name, fn in steps.items():
        fn()
        fn()  # warm-up
        count, start = 0, time.perf_counter()
        while True:
            fn()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= args.min_time and count >= 3:
                break
        results[name] = elapsed / count * 1e3
        print("pytorch %s %.3f ms (%d steps)" % (name, results[name], count), flush=True)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "adam": adam_kind,
            "mkl": torch.backends.mkl.is_available(), "mkldnn": torch.backends.mkldnn.is_available(),
            "blas": next((part.split("=")[1] for part in torch.__config__.show().replace(",", " ").split()
                          if part.startswith("BLAS_INFO=")), "?"),
            "cpu_capability": torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "?",
            "ms_per_step": results}
    print("pytorch build: torch %s, BLAS %s, MKL %s, oneDNN %s, CPU capability %s, %d threads, Adam %s" %
          (info["torch"], info["blas"], info["mkl"], info["mkldnn"], info["cpu_capability"], info["threads"],
           info["adam"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(info, f)


if __name__ == "__main__":
    main()
