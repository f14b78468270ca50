#!/usr/bin/env python3
"""Golden fixtures for ssah's SSAH networks and losses, from an independent PyTorch implementation.

Written from the formulas of ../shared/docs/ssah-reference.md (sections 1-2) and docs/model.md,
not from ssah's C++: TF-style LRN, TF1 legacy bilinear resize, the multi-scale text fusion, CNN-F's
geometry with tf.pad-style zero padding, the discriminator, and both objectives (the paper's and the
authors' code's) are implemented explicitly below. Weights are drawn with fixed seeds (NumPy's
legacy RandomState, stable across versions), rounded to float32 (what the C++ tests load), and
everything is then evaluated in float64 with torch autograd.

Writes tests/reference/fixtures/model/ (see tests/reference/README.md for the file list):

    /usr/bin/python3 tests/reference/make_model_fixtures.py

Tiny layer sizes keep the fixtures small (~0.3 MB) while exercising every code path: LRN windows
clipped at the channel edges and with a large alpha * sum x^2, a dead text branch, trailing bag-of-words
cells that do not fill a pooling window, CNN-F's asymmetric pool1 padding, a non-square map before fc6.

Run with --check to regenerate into a temporary folder and compare with the committed fixtures
(exit status 1 when any file differs).
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "fixtures", "model")

# ------------------------------------------------------------------ sizes (mirrored in the C++ tests)
N_TRAIN = 10          # n: training items (rows of the stored LabNet buffers)
C = 5                 # labels
K = 6                 # hash bits
F = 8                 # feature width (SEMANTIC_EMBED, 512 in SSAH)
LAB_HIDDEN = [12, F]                  # LabNet: c -> 12 (ReLU, LRN) -> 8 (ReLU)
FEAT_DIM = 10
FEAT_HIDDEN = [12, 9, F]              # FeatureNet: 10 -> 12 (ReLU, LRN) -> 9 (ReLU) -> 8 (ReLU)
TEXT_DIM = 67                         # dT; 67 = 13 * 5 + 2 leaves trailing cells out of every window
TEXT_WINDOWS = [5, 10, 15, 30, 50]
TEXT_HIDDEN = [8, F]
IMG_SHAPE = (3, 95, 127)              # pool5 map 2 x 3 (non-square), pool1 padding in use
CNN_CHANNELS = [4, 6, 5, 6, 4]
CNN_FC6, CNN_FC7 = 10, 9
DIS_HIDDEN = [7, 5]
WEIGHTS = dict(feature_pairwise=0.7, hash_pairwise=1.3, quantization=0.9, label=1.1, adversarial=0.8)

# LRN as TF's local_response_normalization(depth_radius=2, bias=2, alpha=1e-4, beta=0.75).
LRN_RADIUS, LRN_BIAS, LRN_ALPHA, LRN_BETA = 2, 2.0, 1e-4, 0.75
VERBOSE = False


# ------------------------------------------------------------------ building blocks (from the notes)
def lrn(x):
    """y_d = x_d / (bias + alpha * sum_{d'=d-r..d+r} x_{d'}^2)^beta over axis 1 (window clipped at the edges)."""
    sq = x * x
    ch = x.shape[1]
    if VERBOSE:
        stats("lrn input", x)
    total = torch.stack([sq[:, max(0, d - LRN_RADIUS):min(ch - 1, d + LRN_RADIUS) + 1].sum(dim=1)
                         for d in range(ch)], dim=1)
    return x / (LRN_BIAS + LRN_ALPHA * total) ** LRN_BETA


def legacy_resize_matrix(w_in, w_out):
    """TF1 tf.image.resize_images default (bilinear, align_corners=False, no half-pixel centres) along
    one axis, as a [w_in, w_out] matrix: src = o * (w_in / w_out), lerp between floor(src) and
    min(floor(src) + 1, w_in - 1). The position arithmetic is float32 as in TF's kernel."""
    scale = np.float32(w_in) / np.float32(w_out)
    m = np.zeros((w_in, w_out))
    for o in range(w_out):
        src = np.float32(o) * scale
        lower = int(np.floor(src))
        lerp = float(src - np.float32(lower))
        lower = min(lower, w_in - 1)
        upper = min(lower + 1, w_in - 1)
        m[lower, o] += 1.0 - lerp
        m[upper, o] += lerp
    return torch.tensor(m)


def avg_pool_valid(t, window):
    """TF avg_pool along the text axis, ksize = stride = window, VALID: trailing cells dropped."""
    n, width = t.shape
    out = width // window
    return t[:, :out * window].reshape(n, out, window).mean(dim=2)


def softplus(x):
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


def sigmoid_ce(logits, target):
    """TF sigmoid_cross_entropy_with_logits: -t log s(x) - (1 - t) log(1 - s(x))."""
    return softplus(logits) - logits * target


def linear(x, p, name):
    return x @ p[name + ".weight"].t() + p[name + ".bias"]


# ------------------------------------------------------------------ networks
def feature_net(x, p, hidden):
    """LabNet / FeatureNet trunk: fc1 (ReLU, LRN) -> ... -> fc_last (ReLU) = F; heads read F."""
    h = x
    for i in range(len(hidden)):
        h = torch.relu(linear(h, p, "fc%d" % (i + 1)))
        if i == 0 and len(hidden) > 1:
            h = lrn(h)
    return {"feature": h}, h


def text_fusion(t, p):
    """MultiScaleTxt (tnet.py): NHWC [N, 1, dT, 6] with channels [t, w5, w10, w15, w30, w50], returned as
    [N, dT, 6] (TF's layout without the unit height)."""
    n, dt = t.shape
    channels = [t]
    for w in TEXT_WINDOWS:
        pooled = avg_pool_valid(t, w)
        branch = torch.relu(pooled * p["ms%d.weight" % w].reshape(()))   # 1x1 conv, one scalar, no bias
        channels.append(branch @ legacy_resize_matrix(pooled.shape[1], dt).to(branch.dtype))
    return torch.stack(channels, dim=2)


def text_net(t, p):
    fused = text_fusion(t, p)                                   # [N, dT, 6]
    # fc1 is TF's VALID conv with kernel [1, dT, 6, out]: a contraction over (position, channel).
    h = torch.relu(torch.einsum("nwc,wco->no", fused, p["fc1.kernel"]) + p["fc1.bias"])
    h = lrn(h)
    feature = torch.relu(linear(h, p, "fc2"))
    return {"feature": feature, "multi_scale": fused.reshape(t.shape[0], -1)}, lrn(feature)


CNN_STAGES = [  # name, kind, kernel, stride, pad [top, bottom, left, right], lrn
    ("conv1", "conv", 11, 4, (0, 0, 0, 0), True),
    ("pool1", "pool", 3, 2, (0, 1, 0, 1), False),
    ("conv2", "conv", 5, 1, (2, 2, 2, 2), True),
    ("pool2", "pool", 3, 2, (0, 0, 0, 0), False),
    ("conv3", "conv", 3, 1, (1, 1, 1, 1), False),
    ("conv4", "conv", 3, 1, (1, 1, 1, 1), False),
    ("conv5", "conv", 3, 1, (1, 1, 1, 1), False),
    ("pool5", "pool", 3, 2, (0, 0, 0, 0), False),
]


def zero_pad(x, pad):
    top, bottom, left, right = pad
    return torch.nn.functional.pad(x, (left, right, top, bottom), mode="constant", value=0.0)


def cnnf(images, p):
    """ImgNet (CNN-F): minus the mean image, tf.pad zeros + VALID conv/max-pool, fc6/fc7 as convolutions
    over the remaining map, then fc8 (Linear, ReLU) = F; heads read F."""
    h = images - p["mean_image"]
    for name, kind, k, s, pad, use_lrn in CNN_STAGES:
        h = zero_pad(h, pad)
        if kind == "pool":
            h = torch.nn.functional.max_pool2d(h, kernel_size=k, stride=s)
            continue
        h = torch.relu(torch.nn.functional.conv2d(h, p[name + ".weight"], p[name + ".bias"], stride=s))
        if use_lrn:
            h = lrn(h)
    h = torch.relu(torch.nn.functional.conv2d(h, p["fc6.weight"], p["fc6.bias"]))
    h = torch.relu(torch.nn.functional.conv2d(h, p["fc7.weight"], p["fc7.bias"]))
    h = h.reshape(h.shape[0], -1)
    feature = torch.relu(linear(h, p, "fc8"))
    return {"feature": feature}, feature


def heads(head_input, p):
    logits = linear(head_input, p, "label")
    return {"hash": torch.tanh(linear(head_input, p, "hash")), "label_logits": logits,
            "label": torch.sigmoid(logits)}


def discriminator(feature, p):
    h = feature
    for i in range(len(DIS_HIDDEN)):
        h = torch.relu(linear(h, p, "fc%d" % (i + 1)))
    return linear(h, p, "out")


# ------------------------------------------------------------------ objectives (section 2 of the notes)
def pairwise(anchors, x, s, squared):
    theta = 0.5 * anchors @ x.t()                              # [n, b]
    nll = softplus(theta) - s * theta
    return 0.5 * (nll * nll).sum() if squared else nll.sum()


def supervised_terms(out, anchor_f, anchor_h, s, codes, labels, objective):
    squared = objective == "reference"
    norm = 0.5 if objective == "reference" else 1.0
    w = WEIGHTS
    return {
        "feature_pairwise": w["feature_pairwise"] * pairwise(anchor_f, out["feature"], s, squared),
        "hash_pairwise": w["hash_pairwise"] * pairwise(anchor_h, out["hash"], s, squared),
        "quantization": w["quantization"] * norm * ((out["hash"] - codes) ** 2).sum(),
        "label": w["label"] * norm * ((out["label"] - labels) ** 2).sum(),
    }


# ------------------------------------------------------------------ parameters
class Params:
    """Named parameters, float32-exact: `arrays` in ssah's layout (what the C++ tests load), `sources`
    in the layout the reference computes with (the same, except the text net's fc1 kernel)."""

    def __init__(self):
        self.arrays = {}
        self.sources = {}

    def add(self, name, array, source_name=None, source_array=None):
        a = np.asarray(array, dtype=np.float32)
        self.arrays[name] = a
        self.sources[source_name or name] = a if source_array is None else np.asarray(source_array, np.float32)

    def linear(self, rng, name, n_in, n_out, gain, bias_sd):
        self.add(name + ".weight", rng.standard_normal((n_out, n_in)) * gain / np.sqrt(n_in))
        self.add(name + ".bias", rng.standard_normal(n_out) * bias_sd)

    def trainable(self):
        return [n for n in self.arrays if n != "mean_image"]

    def leaves(self, dtype):
        """Fresh autograd leaves of `dtype` (the mean image is a constant)."""
        return {n: torch.tensor(a, dtype=dtype, requires_grad=(n != "mean_image")) for n, a in self.sources.items()}

    def grads(self, leaves):
        """Gradients of the trainable parameters in ssah's layout, as float64 arrays."""
        out = {}
        for name in self.trainable():
            if name == "fc1.weight" and "fc1.kernel" in leaves:
                g = leaves["fc1.kernel"].grad                 # [dT, 6, out] -> [out, dT * 6]
                g = g.reshape(-1, g.shape[-1]).t()
            else:
                g = leaves[name].grad
            out[name] = np.zeros(self.arrays[name].shape) if g is None else g.detach().double().numpy()
        return out


def make_feature_params(seed, n_in, hidden, gains, head_gains):
    rng = np.random.RandomState(seed)
    p = Params()
    for i, width in enumerate(hidden):
        p.linear(rng, "fc%d" % (i + 1), n_in, width, gains[i], 0.1)
        n_in = width
    p.linear(rng, "hash", F, K, head_gains[0], 0.2)
    p.linear(rng, "label", F, C, head_gains[1], 0.3)
    return p


def make_text_params(seed):
    rng = np.random.RandomState(seed)
    p = Params()
    # Scalar branch weights; ms10 < 0 is a dead branch (bag-of-words >= 0, ReLU kills it for good).
    for w, v in zip(TEXT_WINDOWS, [0.9, -0.4, 1.3, 0.7, 1.1]):
        p.add("ms%d.weight" % w, np.full((1, 1, 1, 1), v))
    # fc1 as TF holds it: kernel [1, dT, 6, out] (the unit height dropped here). ssah's documented
    # layout (docs/model.md, text_net.hpp) is fc1.weight[o, w * 6 + c] = kernel[0, w, c, o]: the
    # kernel reshaped to [dT * 6, out] and transposed. The reference computes with the kernel.
    kernel = rng.standard_normal((TEXT_DIM, 1 + len(TEXT_WINDOWS), TEXT_HIDDEN[0])) * 12.0 / np.sqrt(TEXT_DIM * 6)
    kernel = kernel.astype(np.float32)
    p.add("fc1.weight", kernel.reshape(-1, TEXT_HIDDEN[0]).T, source_name="fc1.kernel", source_array=kernel)
    p.add("fc1.bias", rng.standard_normal(TEXT_HIDDEN[0]) * 0.5)
    p.linear(rng, "fc2", TEXT_HIDDEN[0], F, 1.0, 0.3)
    p.linear(rng, "hash", F, K, 0.8, 0.2)
    p.linear(rng, "label", F, C, 1.0, 0.3)
    return p


def make_cnnf_params(seed, fc6_map):
    rng = np.random.RandomState(seed)
    p = Params()
    c_in = IMG_SHAPE[0]
    gains = [3.0, 1.5, 1.2, 1.2, 1.2]
    for i, (name, _, k, _, _, _) in enumerate(s for s in CNN_STAGES if s[1] == "conv"):
        c_out = CNN_CHANNELS[i]
        p.add(name + ".weight", rng.standard_normal((c_out, c_in, k, k)) * gains[i] / np.sqrt(c_in * k * k))
        p.add(name + ".bias", rng.standard_normal(c_out) * 0.5)
        c_in = c_out
    mh, mw = fc6_map
    p.add("fc6.weight", rng.standard_normal((CNN_FC6, c_in, mh, mw)) * 0.3 / np.sqrt(c_in * mh * mw))
    p.add("fc6.bias", rng.standard_normal(CNN_FC6) * 0.2)
    p.add("fc7.weight", rng.standard_normal((CNN_FC7, CNN_FC6, 1, 1)) * 1.2 / np.sqrt(CNN_FC6))
    p.add("fc7.bias", rng.standard_normal(CNN_FC7) * 0.2)
    p.linear(rng, "fc8", CNN_FC7, F, 0.6, 0.3)
    p.linear(rng, "hash", F, K, 0.5, 0.2)
    p.linear(rng, "label", F, C, 1.0, 0.3)
    return p


def make_discriminator_params(seed):
    rng = np.random.RandomState(seed)
    p = Params()
    n_in = F
    for i, width in enumerate(DIS_HIDDEN):
        p.linear(rng, "fc%d" % (i + 1), n_in, width, 1.4, 0.2)
        n_in = width
    p.linear(rng, "out", n_in, 1, 1.0, 0.2)
    return p


def cnnf_map_size():
    h, w = IMG_SHAPE[1:]
    for _, _, k, s, pad, _ in CNN_STAGES:
        h = (h + pad[0] + pad[1] - k) // s + 1
        w = (w + pad[2] + pad[3] - k) // s + 1
    return h, w


# ------------------------------------------------------------------ the computations, for a dtype
def t_(a, dtype):
    return torch.tensor(np.asarray(a), dtype=dtype)


def network_run(p, forward, x, probes, dtype, input_grad):
    """Outputs, probe loss P = sum(F * R_F) + sum(H * R_H) + sum(L_hat * R_L), and gradients."""
    leaves = p.leaves(dtype)
    xt = t_(x, dtype).requires_grad_(input_grad)
    trunk, head_input = forward(xt, leaves)
    out = dict(trunk)
    out.update(heads(head_input, leaves))
    probe = sum((out[k] * t_(probes[k], dtype)).sum() for k in ("feature", "hash", "label"))
    probe.backward()
    grads = p.grads(leaves)
    if input_grad:
        grads["input"] = xt.grad.double().numpy()
    outs = {k: v.detach().double().numpy() for k, v in out.items()}
    return outs, probe.item(), grads


def discriminator_run(dis, f_label, f_mod, dtype):
    """Logits and L_D = 1/2 [mean CE(D(F_m), 0) + mean CE(D(F_l), 1)] (1/(2M), M = 1), and gradients."""
    leaves = dis.leaves(dtype)
    logit_l = discriminator(t_(f_label, dtype), leaves)
    logit_m = discriminator(t_(f_mod, dtype), leaves)
    ce_l = sigmoid_ce(logit_l, torch.ones_like(logit_l)).mean()
    ce_m = sigmoid_ce(logit_m, torch.zeros_like(logit_m)).mean()
    loss = 0.5 * (ce_m + ce_l)
    loss.backward()
    outs = {"label_logits": logit_l.detach().double().numpy(), "modality_logits": logit_m.detach().double().numpy()}
    return outs, [ce_l.item(), ce_m.item(), loss.item()], dis.grads(leaves)


def objective_run(p, dis, forward, x, anchor_f, anchor_h, s, shared_codes, batch_labels, objective, with_adv, dtype):
    """One network step: supervised terms, the adversarial term, the total, and gradients of the
    network (through the total) and of the discriminator (through the adversarial term)."""
    leaves, dleaves = p.leaves(dtype), dis.leaves(dtype)
    trunk, head_input = forward(t_(x, dtype), leaves)
    out = dict(trunk)
    out.update(heads(head_input, leaves))
    h = out["hash"].detach()
    assert h.abs().min() > 1e-3, "a hash output is too close to 0 for a stable sign: change a seed"
    # Quantisation target: the paper's shared B (constant, from the stored buffers) or, as the
    # authors' code, sign of this forward pass's own H (a numpy constant there).
    codes = torch.sign(h) if objective == "reference" else t_(shared_codes, dtype)
    terms = supervised_terms(out, t_(anchor_f, dtype), t_(anchor_h, dtype), t_(s, dtype), codes,
                             t_(batch_labels, dtype), objective)
    total = sum(terms.values())
    adv = torch.zeros((), dtype=dtype)
    if with_adv:
        if objective == "paper":   # the gradient reaches the modality network
            logit = discriminator(out["feature"], dleaves)
        else:                      # built on a copy of the features: only D is pulled towards "label"
            logit = discriminator(out["feature"].detach(), dleaves)
        adv = WEIGHTS["adversarial"] * sigmoid_ce(logit, torch.ones_like(logit)).mean()
    if objective == "paper":
        total = total + adv
        total.backward()
    else:
        total.backward()
        if with_adv:
            adv.backward()
    values = [terms[k].item() for k in ("feature_pairwise", "hash_pairwise", "quantization", "label")]
    values += [adv.item(), total.item()]
    return values, codes.double().numpy(), p.grads(leaves), (dis.grads(dleaves) if with_adv else {})


# ------------------------------------------------------------------ checks and writing
def max_normalised_error(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-6)


# A float32 run of this same reference must agree with the float64 goldens to this max-normalised
# error, a twentieth of the C++ tests' float tolerance (1e-4): otherwise some golden value is so
# cancellation-prone that float32 code, summing in another order, may miss it (a scalar gradient
# that is a sum of terms ~2600 times larger than itself did: torch float32 1.7e-5, ssah 1.1e-4).
CONDITIONING_LIMIT = 5e-6


def check_conditioning(what, pairs):
    worst = max((max_normalised_error(a32, a64), k) for k, (a32, a64) in pairs.items())
    print("  float32 vs float64 reference: worst %.2e (%s)" % worst)
    if worst[0] > CONDITIONING_LIMIT:
        raise SystemExit("%s: '%s' is ill-conditioned in float32 (%.2e > %.0e); change a seed or a scale"
                         % (what, worst[1], worst[0], CONDITIONING_LIMIT))


def scalars(values):
    return {"scalar %d" % i: v for i, v in enumerate(values)}


class Writer:
    def __init__(self, root):
        self.root = root
        self.files = []

    def save(self, rel, array, dtype):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, np.ascontiguousarray(np.asarray(array, dtype=dtype)))
        self.files.append(rel)

    def f32(self, rel, a):
        """Inputs and parameters: float32 values, exactly what the C++ tests load."""
        self.save(rel, a, np.float32)

    def f64(self, rel, a):
        """Scalar goldens (loss terms)."""
        self.save(rel, a, np.float64)

    def gold(self, rel, a):
        """Tensor goldens: computed in float64, stored as float32 (rounding <= 6e-8 of each value)."""
        self.save(rel, a, np.float32)

    def text(self, rel, lines):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.files.append(rel)


def stats(tag, t):
    t = np.asarray(t.detach() if isinstance(t, torch.Tensor) else t)
    print("  %-28s shape %-16s min % .3e  max % .3e  std %.3e" % (tag, tuple(t.shape), t.min(), t.max(), t.std()))


def write_params(wr, group, p):
    for name, a in p.arrays.items():
        if name == "mean_image":
            wr.save(group + "/mean_image.npy", a, np.uint8)
        else:
            wr.f32(group + "/param.%s.npy" % name, a)
    wr.text(group + "/params.txt", p.trainable())


def generate(root):
    wr = Writer(root)
    rng = np.random.RandomState(20180401)

    # Training labels: 1-2 labels per item, so that similar and dissimilar pairs both occur.
    labels = np.zeros((N_TRAIN, C), np.float32)
    for i in range(N_TRAIN):
        labels[i, rng.choice(C, size=1 + (i % 3 == 0), replace=False)] = 1
    batches = {"labnet": [7, 2, 9, 4], "featurenet": [1, 5, 8, 3], "textnet": [0, 6, 2, 9], "cnnf": [4, 8]}

    lab = make_feature_params(11, C, LAB_HIDDEN, [25.0, 0.5], [1.2, 1.5])
    feat = make_feature_params(12, FEAT_DIM, FEAT_HIDDEN, [30.0, 0.5, 1.0], [0.6, 0.8])
    text = make_text_params(13)
    cnn = make_cnnf_params(14, cnnf_map_size())
    dis = make_discriminator_params(15)

    feat_x = (rng.standard_normal((len(batches["featurenet"]), FEAT_DIM)) * 2.0).astype(np.float32)
    # Bag-of-words counts, sparse and >= 0.
    text_x = rng.poisson(0.6, size=(len(batches["textnet"]), TEXT_DIM)).astype(np.float32)
    images = rng.randint(0, 256, size=(len(batches["cnnf"]),) + IMG_SHAPE).astype(np.uint8)
    # Integer-valued mean image, stored as uint8 like the images (CNN-F's is fractional; no matter here).
    mean_image = np.clip(np.round(120.0 + rng.standard_normal(IMG_SHAPE) * 15.0), 0, 255).astype(np.uint8)
    cnn.add("mean_image", mean_image)

    nets = {  # group: (parameters, forward, batch input, has an input gradient)
        "labnet": (lab, lambda x, p: feature_net(x, p, LAB_HIDDEN), labels[batches["labnet"]], False),
        "featurenet": (feat, lambda x, p: feature_net(x, p, FEAT_HIDDEN), feat_x, True),
        "textnet": (text, text_net, text_x, True),
        "cnnf": (cnn, cnnf, images, False),
    }

    # ---- networks: forward outputs and gradients of the probe loss
    outs64 = {}
    # Seeds of the probe arrays R; textnet's 102 gave a gradient of ms30.weight 2600 times smaller
    # than its terms (see CONDITIONING_LIMIT).
    probe_seeds = {"labnet": 100, "featurenet": 101, "textnet": 104, "cnnf": 103}
    for group, (p, fwd, x, input_grad) in nets.items():
        print(group)
        probe_rng = np.random.RandomState(probe_seeds[group])
        shapes = {"feature": (len(x), F), "hash": (len(x), K), "label": (len(x), C)}
        probes = {k: probe_rng.standard_normal(shapes[k]).astype(np.float32) for k in ("feature", "hash", "label")}
        out64, probe64, grads64 = network_run(p, fwd, x, probes, torch.float64, input_grad)
        out32, probe32, grads32 = network_run(p, fwd, x, probes, torch.float32, input_grad)
        pairs = {"out." + k: (out32[k], out64[k]) for k in out64}
        pairs.update({"grad." + k: (grads32[k], grads64[k]) for k in grads64})
        pairs["probe"] = (probe32, probe64)
        for k, v in out64.items():
            stats("out." + k, v)
        check_conditioning(group, pairs)
        outs64[group] = out64
        wr.save(group + "/input.npy", x, np.uint8 if x.dtype == np.uint8 else np.float32)
        write_params(wr, group, p)
        for k in ("feature", "hash", "label"):
            wr.f32(group + "/probe.%s.npy" % k, probes[k])
        for k, v in out64.items():
            wr.gold(group + "/out.%s.npy" % k, v)
        wr.f64(group + "/probe_loss.npy", [probe64])
        for k, v in grads64.items():
            wr.gold(group + "/grad.%s.npy" % k, v)

    # ---- discriminator
    print("discriminator")
    f_label = (np.abs(rng.standard_normal((5, F))) * 2.0).astype(np.float32)
    f_mod = (np.abs(rng.standard_normal((5, F))) * 1.5).astype(np.float32)
    out64, loss64, grads64 = discriminator_run(dis, f_label, f_mod, torch.float64)
    out32, loss32, grads32 = discriminator_run(dis, f_label, f_mod, torch.float32)
    pairs = {k: (out32[k], out64[k]) for k in out64}
    pairs.update({k: (grads32[k], grads64[k]) for k in grads64})
    pairs.update({k: (a, b) for (k, a), b in zip(scalars(loss32).items(), loss64)})
    for k, v in out64.items():
        stats("out." + k, v)
    check_conditioning("discriminator", pairs)
    wr.f32("discriminator/input.label_feature.npy", f_label)
    wr.f32("discriminator/input.modality_feature.npy", f_mod)
    write_params(wr, "discriminator", dis)
    for k, v in out64.items():
        wr.gold("discriminator/out.%s.npy" % k, v)
    wr.f64("discriminator/loss.npy", loss64)
    for k, v in grads64.items():
        wr.gold("discriminator/grad.%s.npy" % k, v)

    # ---- objectives
    # Stored buffers (the reference starts them as N(0, 1) noise): LabNet's F and H of all n items, and
    # each modality's H for the paper's shared codes B = sign(H_label + sum_m H_m) (three modalities).
    anchor_f = (rng.standard_normal((N_TRAIN, F)) * 0.8).astype(np.float32)
    anchor_h = np.tanh(rng.standard_normal((N_TRAIN, K)) * 1.5).astype(np.float32)
    modality_h = [np.tanh(rng.standard_normal((N_TRAIN, K)) * 1.5).astype(np.float32) for _ in range(3)]
    shared = np.sign(anchor_h.astype(np.float64) + sum(h.astype(np.float64) for h in modality_h))
    assert np.all(shared != 0)
    wr.f32("objective/train_labels.npy", labels)
    # LossWeights order: feature_pairwise (alpha), hash_pairwise (gamma), quantization, label, adversarial (delta)
    wr.f64("objective/loss_weights.npy", [WEIGHTS[k] for k in ("feature_pairwise", "hash_pairwise",
                                                               "quantization", "label", "adversarial")])
    for group, (p, fwd, x, _) in nets.items():
        idx = batches[group]
        af, ah = anchor_f.copy(), anchor_h.copy()
        if group == "labnet":
            # The LabNet step writes its current outputs into its own buffers before the loss.
            af[idx] = outs64[group]["feature"].astype(np.float32)
            ah[idx] = outs64[group]["hash"].astype(np.float32)
        wr.save("objective/%s/batch_index.npy" % group, np.array(idx), np.int64)
        wr.f32("objective/%s/anchor_features.npy" % group, af)
        wr.f32("objective/%s/anchor_hashes.npy" % group, ah)
        wr.f32("objective/%s/codes_shared.npy" % group, shared[idx])
        with_adv = group != "labnet"    # the LabNet step has no adversarial term
        for objective in ("paper", "reference"):
            print("objective %s / %s" % (objective, group))
            sub = "objective/%s/%s" % (group, objective)
            s = (labels.astype(np.float64) @ labels[idx].T.astype(np.float64) > 0) * (
                0.999 if objective == "reference" else 1.0)
            s = s.astype(np.float32)
            args = (p, dis, fwd, x, af, ah, s, shared[idx], labels[idx], objective, with_adv)
            v64, codes64, g64, d64 = objective_run(*args, dtype=torch.float64)
            v32, codes32, g32, d32 = objective_run(*args, dtype=torch.float32)
            assert np.array_equal(codes32, codes64)
            pairs = {k: (a, b) for (k, a), b in zip(scalars(v32).items(), v64)}
            pairs.update({"grad." + k: (g32[k], g64[k]) for k in g64})
            pairs.update({"dgrad." + k: (d32[k], d64[k]) for k in d64})
            print("  terms (fp, hp, q, l, adv, total):", ", ".join("%.6g" % v for v in v64))
            check_conditioning("objective %s / %s" % (objective, group), pairs)
            wr.f32(sub + "/similarity.npy", s)
            wr.f32(sub + "/codes.npy", codes64)
            wr.f64(sub + "/terms.npy", v64)
            for k, v in g64.items():
                wr.gold(sub + "/grad.%s.npy" % k, v)
            for k, v in d64.items():
                wr.gold(sub + "/dgrad.%s.npy" % k, v)
    return wr.files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    ap.add_argument("--verbose", action="store_true", help="also print statistics of every LRN input")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare byte for byte with --out")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    if args.check:
        tmp = tempfile.mkdtemp()
        try:
            files = generate(tmp)
            bad = []
            for rel in files:
                with open(os.path.join(tmp, rel), "rb") as a:
                    new = a.read()
                try:
                    with open(os.path.join(args.out, rel), "rb") as b:
                        old = b.read()
                except FileNotFoundError:
                    old = None
                if new != old:
                    bad.append(rel)
            extra = []
            for dirpath, _, names in os.walk(args.out):
                for n in names:
                    rel = os.path.relpath(os.path.join(dirpath, n), args.out)
                    if rel not in files:
                        extra.append(rel)
            print("%d files, %d differ, %d not generated%s" % (len(files), len(bad), len(extra),
                                                               (": " + ", ".join(bad + extra)) if bad or extra else ""))
            return 1 if bad or extra else 0
        finally:
            shutil.rmtree(tmp)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    files = generate(args.out)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in files)
    print("wrote %d files, %.1f kB, under %s" % (len(files), size / 1024.0, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
