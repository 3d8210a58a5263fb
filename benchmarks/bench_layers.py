"""Layers: the CS231n recipe against gradcheck's check_layer / check_function, full and fast, and
torch.autograd.gradcheck (full and fast_mode) and jax's check_grads on the same layers written in
torch and jax, all timed in one run (this machine is noisy: compare the ratios).

    python benchmarks/bench_layers.py [--repeat N] [--no-peers]     (``make bench`` runs it)

The numpy layers are the user's code: CS231n-style, as a student writes them
(``tests/harness/cs231n.py``: float buffers made with ``np.zeros(shape)``, which a complex step
cannot pass, ``np.var``), and the project's example convolution (``examples/layers.py``), whose
buffer takes the input's dtype.  Sizes are the CS231n notebooks' (the convolutions: the ones of
issue 22).  The recipe is the notebooks' ``gradient_check.py``: a central difference per entry,
h = 1e-5, then the backward and a relative error per input; on the 4x3x16x16 convolution it would
run for minutes, so it is timed on 48 entries of each input and extrapolated (said so in the
table).  torch's full mode builds the whole Jacobian (a numerical column per input entry, an
analytical row per output entry); its fast mode and jax's check_grads (fwd and rev, order 1)
check one random direction.  Every time is the best of ``--repeat`` runs (fewer for the slow
ones), one thread for everything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples")]

import numpy as np  # noqa: E402

from gradcheck import check_function, check_layer  # noqa: E402
from tests.harness import cs231n as C  # noqa: E402
from tests.harness.layer_timing import (eval_numerical_gradient, rel_error,  # noqa: E402
                                        recipe_layer)

#: the recipe is extrapolated from this many entries per input where it would take minutes
RECIPE_SAMPLE = 48
#: a side whose single run takes longer than this is timed once
SLOW = 2.0


@dataclass(frozen=True)
class Case:
    """One row: the numpy layer (forward, backward, inputs) or model, and the peers' versions."""

    name: str
    forward: object
    backward: object
    inputs: tuple
    torch: object = None      # (fn, [float64 arrays]) builder for torch, or None
    jax: object = None        # (fn, [arrays]) builder for jax
    model: object = None      # (model, X, y) for check_function
    big: bool = False


def cases():
    r = np.random.default_rng(231)
    out = []
    x, w, b = r.standard_normal((10, 2, 3)), r.standard_normal((6, 5)), r.standard_normal(5)
    out.append(Case("affine x 10x2x3, w 6x5", C.affine_forward, C.affine_backward, (x, w, b),
                    ("affine", [x, w, b]), ("affine", [x, w, b])))
    x, g, be = 5 * r.standard_normal((4, 5)) + 12, r.standard_normal(5), r.standard_normal(5)
    bn = {"mode": "train"}
    out.append(Case("batch norm 4x5 (staged)", C.batchnorm_forward, C.batchnorm_backward,
                    (x, g, be, bn), ("batchnorm", [x, g, be]), ("batchnorm", [x, g, be])))
    out.append(Case("batch norm 4x5 (np.var)", C.batchnorm_forward_var, C.batchnorm_backward_alt,
                    (x, g, be, dict(bn)), ("batchnorm", [x, g, be]), ("batchnorm", [x, g, be])))
    x, w, b = r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)), r.standard_normal(4)
    small = {"stride": 2, "pad": 1}
    conv = ("conv", [x, w, b], small)
    out.append(Case("conv 2x3x5x5, w 4x3x3x3, s2 p1 (np.zeros buffer)", C.conv_forward_naive,
                    C.conv_backward_naive, (x, w, b, small), conv, conv))
    out.append(Case("conv 2x3x5x5, w 4x3x3x3, s2 p1 (x's dtype buffer)", _example("conv_forward_naive"),
                    _example("conv_backward_naive"), (x, w, b, small), conv, conv))
    x, w, b = r.standard_normal((4, 3, 16, 16)), r.standard_normal((4, 3, 3, 3)), r.standard_normal(4)
    same = {"stride": 1, "pad": 1}
    conv = ("conv", [x, w, b], same)
    out.append(Case("conv 4x3x16x16, w 4x3x3x3, s1 p1 (np.zeros buffer)", C.conv_forward_naive,
                    C.conv_backward_naive, (x, w, b, same), conv, conv, big=True))
    out.append(Case("conv 4x3x16x16, w 4x3x3x3, s1 p1 (x's dtype buffer)",
                    _example("conv_forward_naive"), _example("conv_backward_naive"),
                    (x, w, b, same), conv, conv, big=True))
    x = r.standard_normal((3, 2, 8, 8))
    pool = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out.append(Case("max pool 3x2x8x8, 2x2 s2", C.max_pool_forward_naive, C.max_pool_backward_naive,
                    (x, pool), ("maxpool", [x]), ("maxpool", [x])))
    args = [r.standard_normal(s) for s in ((3, 10), (3, 4), (10, 4), (4, 4), (4,))]
    out.append(Case("RNN step N3 D10 H4", C.rnn_step_forward, C.rnn_step_backward, tuple(args),
                    ("rnn", args), ("rnn", args)))
    model = C.TwoLayerNet(5, 50, 7, weight_scale=1e-1, reg=0.1, rng=r)
    X, y = r.standard_normal((3, 5)), r.integers(0, 7, 3)
    params = [model.params[k] for k in ("W1", "b1", "W2", "b2")]
    out.append(Case("two-layer model N3 D5 H50 C7 (check_function)", None, None, (),
                    ("twolayer", params, (X, y, 0.1)), ("twolayer", params, (X, y, 0.1)),
                    model=(model, X, y)))
    return out


def _example(name):
    import layers
    return getattr(layers, name)


# -- timing -----------------------------------------------------------------------------------------
def best(fn, repeat):
    """(best time, the last result): once only where one run takes longer than SLOW seconds."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if times[-1] > SLOW:
            break
    return min(times), result


def recipe(case, repeat):
    """(seconds, how) of the CS231n recipe on the case, extrapolated where it is big."""
    if case.model is not None:
        model, X, y = case.model

        def run():
            _, grads = model.loss(X, y)
            for k in sorted(model.params):
                rel_error(eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[k]),
                          grads[k])
        return best(run, repeat)[0], ""
    out = case.forward(*case.inputs)[0]
    dout = np.random.default_rng(1).standard_normal(out.shape)
    if not case.big:
        return best(lambda: recipe_layer(case.forward, case.backward, list(case.inputs), dout),
                    repeat)[0], ""
    return _recipe_extrapolated(case, dout), f"extrapolated from {RECIPE_SAMPLE} entries per input"


def _recipe_extrapolated(case, dout):
    """The recipe's cost per entry (two forward calls, the nditer step) on RECIPE_SAMPLE entries of
    each input, times its entries, plus one backward."""
    rng = np.random.default_rng(0)
    total = 0.0
    inputs = list(case.inputs)
    for i, a in enumerate(inputs):
        if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            continue
        picks = rng.choice(a.size, size=min(RECIPE_SAMPLE, a.size), replace=False)
        start = time.perf_counter()
        for k in picks:
            ix = np.unravel_index(k, a.shape)
            old = a[ix]
            a[ix] = old + 1e-5
            pos = case.forward(*inputs)[0].copy()
            a[ix] = old - 1e-5
            neg = case.forward(*inputs)[0].copy()
            a[ix] = old
            _ = np.sum((pos - neg) * dout) / 2e-5
        total += (time.perf_counter() - start) / len(picks) * a.size
    start = time.perf_counter()
    case.backward(dout, case.forward(*inputs)[1])
    return total + time.perf_counter() - start


def ours(case, repeat, mode):
    """(seconds, the report) of gradcheck's check in ``mode``."""
    if case.model is not None:
        model, X, y = case.model
        return best(lambda: check_function(lambda: model.loss(X, y), model.params, mode=mode),
                    repeat)
    return best(lambda: check_layer(case.forward, case.backward, *case.inputs, mode=mode), repeat)


# -- the peers --------------------------------------------------------------------------------------
def torch_peers(case, repeat):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return {}
    torch.set_num_threads(1)
    kind, arrays, *extra = case.torch
    ts = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]

    def fn(*t):
        if kind == "affine":
            return t[0].reshape(t[0].shape[0], -1) @ t[1] + t[2]
        if kind == "batchnorm":
            mu, var = t[0].mean(0), t[0].var(0, unbiased=False)
            return t[1] * (t[0] - mu) / torch.sqrt(var + 1e-5) + t[2]
        if kind == "conv":
            p = extra[0]
            return F.conv2d(t[0], t[1], t[2], stride=p["stride"], padding=p["pad"])
        if kind == "maxpool":
            return F.max_pool2d(t[0], 2, 2)
        if kind == "rnn":
            return torch.tanh(t[1] @ t[3] + t[0] @ t[2] + t[4])
        X, y, reg = extra[0]
        scores = torch.relu(torch.tensor(X) @ t[0] + t[1]) @ t[2] + t[3]
        return (F.cross_entropy(scores, torch.tensor(y)) + 0.5 * reg * ((t[0] ** 2).sum()
                                                                        + (t[2] ** 2).sum()))

    return {"torch full": best(lambda: torch.autograd.gradcheck(fn, ts), repeat)[0],
            "torch fast": best(lambda: torch.autograd.gradcheck(fn, ts, fast_mode=True),
                               repeat)[0]}


def jax_peers(case, repeat):
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    kind, arrays, *extra = case.jax
    args = tuple(jnp.asarray(a, dtype=jnp.float64) for a in arrays)

    def fn(*t):
        if kind == "affine":
            return t[0].reshape(t[0].shape[0], -1) @ t[1] + t[2]
        if kind == "batchnorm":
            mu, var = t[0].mean(0), t[0].var(0)
            return t[1] * (t[0] - mu) / jnp.sqrt(var + 1e-5) + t[2]
        if kind == "conv":
            p = extra[0]
            out = jax.lax.conv_general_dilated(t[0], t[1], (p["stride"],) * 2,
                                               [(p["pad"], p["pad"])] * 2)
            return out + t[2][None, :, None, None]
        if kind == "maxpool":
            N, Cc, H, W = t[0].shape
            return t[0].reshape(N, Cc, H // 2, 2, W // 2, 2).max(axis=(3, 5))
        if kind == "rnn":
            return jnp.tanh(t[1] @ t[3] + t[0] @ t[2] + t[4])
        X, y, reg = extra[0]
        scores = jax.nn.relu(jnp.asarray(X) @ t[0] + t[1]) @ t[2] + t[3]
        logp = jax.nn.log_softmax(scores)
        return (-logp[jnp.arange(len(y)), jnp.asarray(y)].mean()
                + 0.5 * reg * ((t[0] ** 2).sum() + (t[2] ** 2).sum()))

    check_grads(fn, args, order=1, modes=("fwd", "rev"))  # first call: tracing, compiling
    return {"jax check_grads": best(lambda: check_grads(fn, args, order=1, modes=("fwd", "rev")),
                                    repeat)[0]}


# -- the table --------------------------------------------------------------------------------------
def _t(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:,.2f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def run(repeat=10, peers=True, stream=sys.stdout):
    """Time every case and print the markdown table; the rows as dicts."""
    print("\n## Layers: the CS231n recipe, gradcheck, torch and jax (one thread, best of "
          f"{repeat}, fewer where slow)\n", file=stream)
    print("| layer | recipe | ours full | ours fast | torch full | torch fast | jax check_grads "
          "| recipe / ours full | ours: method, evaluations |", file=stream)
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", file=stream)
    rows = []
    first = cases()[0]
    check_layer(first.forward, first.backward, *first.inputs)  # warm: imports, the heap
    for case in cases():
        n = 1 if case.big else repeat
        t_recipe, how = recipe(case, n)
        t_full, report = ours(case, n, "full")
        t_fast, fast = ours(case, n, "fast")
        peer = {}
        if peers:
            peer.update(torch_peers(case, n))
            peer.update(jax_peers(case, n))
        note = " (extrapolated)" if how else ""
        row = dict(layer=case.name, recipe=t_recipe, full=t_full, fast=t_fast,
                   method=report.method, evaluations=report.evaluations, passed=report.passed,
                   fast_passed=fast.passed, **peer)
        rows.append(row)
        print(f"| {case.name} | {_t(t_recipe)}{note} | {_t(t_full)} | {_t(t_fast)} | "
              f"{_t(peer.get('torch full'))} | {_t(peer.get('torch fast'))} | "
              f"{_t(peer.get('jax check_grads'))} | {t_recipe / t_full:,.1f}x | "
              f"{report.method.replace('_', ' ')}, {report.evaluations} |", file=stream, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="best of this many runs (default 10)")
    parser.add_argument("--no-peers", action="store_true", help="skip torch and jax")
    args = parser.parse_args(argv)
    run(args.repeat, peers=not args.no_peers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
