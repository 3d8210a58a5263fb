"""Why code (2) seemed to train better: the learning-rate experiment on real handwritten digits.

    python experiments/learning_rate.py [--epochs 30] [--etas 0.03 0.1 ...] [--out results/experiment]

Trains the seeds' kind of network (sigmoid, two hidden layers, no biases, 1/2 squared error) with
code (1) (the correct pass) and code (2) over a grid of learning rates, from the same initial
weights, on scikit-learn's bundled 8x8 digits (1,797 images; nothing is downloaded).  It reports
the test accuracy of every (variant, eta), the best of each, the ratio of delta norms per layer
between the two at the same weights, and the finding in one sentence computed from those numbers.
It writes summary.json, summary.md and, with matplotlib installed, accuracy.png and deltas.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from gradcheck.backprop import Network
from gradcheck.backprop.training import accuracy, sgd
from gradcheck.backprop.variants import VARIANTS

__all__ = ["load_digits", "run_experiment", "main"]

LABELS = {"correct": "code (1)", "code2": "code (2)"}


def load_digits(seed=0, test=500):
    """(x_train, y_train, x_test, labels_test): 8x8 digits scaled to [0, 1], one-hot targets."""
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise RuntimeError("the experiment needs scikit-learn's bundled digits: "
                           "pip install -e '.[digits]'") from None
    digits = sk_load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = digits.data[order].T / 16.0
    labels = digits.target[order]
    y = np.eye(10)[:, labels]
    return x[:, test:], y[:, test:], x[:, :test], labels[:test]


def delta_norms(net, x, y, variant):
    """||delta^l|| (Frobenius, over the batch) for l = 1 ... L under the named pass."""
    return [float(np.linalg.norm(d)) for d in VARIANTS[variant].deltas(net, x, y)]


def run_experiment(*, layers=(64, 30, 20, 10), etas=(0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0), epochs=30,
                   mini_batch_size=10, seed=0, variants=("correct", "code2"), progress=None):
    """All the numbers of the experiment, as a dict (see the module docstring)."""
    x_train, y_train, x_test, labels_test = load_digits(seed)
    initial = Network(list(layers), "sigmoid", "half_squared_error", bias=False, seed=seed)
    accuracies = {v: {} for v in variants}
    total, done = len(variants) * len(etas), 0
    for variant in variants:
        for eta in etas:
            net = initial.copy()
            sgd(net, x_train, y_train, epochs=epochs, eta=eta, mini_batch_size=mini_batch_size,
                variant=variant, seed=seed)
            accuracies[variant][eta] = accuracy(net, x_test, labels_test)
            done += 1
            if progress:
                progress(f"{done}/{total}: {LABELS.get(variant, variant)} eta = {eta:g}: "
                         f"test accuracy {accuracies[variant][eta]:.3f}")
    norms = {v: delta_norms(initial, x_train[:, :100], y_train[:, :100], v) for v in variants}
    best = {v: max(etas, key=lambda e: (accuracies[v][e], -e)) for v in variants}
    result = {
        "layers": list(layers), "epochs": epochs, "mini_batch_size": mini_batch_size, "seed": seed,
        "etas": list(etas), "train_size": x_train.shape[1], "test_size": x_test.shape[1],
        "accuracy": {v: {str(e): a for e, a in accuracies[v].items()} for v in variants},
        "best": {v: {"eta": best[v], "accuracy": accuracies[v][best[v]]} for v in variants},
        "delta_norms": norms,
    }
    if "correct" in variants and "code2" in variants:
        result["delta_ratio"] = [b / a if a > 0 else float("inf")
                                 for a, b in zip(norms["correct"], norms["code2"])]
        result["finding"] = finding(result)
    return result


def finding(r):
    """The finding in one sentence, from the numbers."""
    ratios = r["delta_ratio"][:-1]  # hidden layers; the output layer's delta is the same
    b1, b2 = r["best"]["correct"], r["best"]["code2"]
    low = b2["eta"]
    lead = r["accuracy"]["code2"][str(low)] - r["accuracy"]["correct"][str(low)]
    ratio_text = ", ".join(f"{q:.1f}x at layer {l}" for l, q in enumerate(ratios, start=1))
    if b2["eta"] < b1["eta"]:
        mechanism = (f"so code (2) does best at a lower learning rate (eta = {b2['eta']:g}, "
                     f"accuracy {b2['accuracy']:.3f}) than code (1) (eta = {b1['eta']:g}, "
                     f"accuracy {b1['accuracy']:.3f})")
    else:
        mechanism = (f"yet code (2)'s best learning rate (eta = {b2['eta']:g}, accuracy "
                     f"{b2['accuracy']:.3f}) is not below code (1)'s (eta = {b1['eta']:g}, "
                     f"accuracy {b1['accuracy']:.3f})")
    verdict = ("code (1) is the better trainer once its learning rate is tuned"
               if b1["accuracy"] >= b2["accuracy"] else
               "code (2)'s best run still beats code (1)'s on this grid")
    larger = all(q > 1 for q in ratios)
    return (f"Code (2)'s hidden deltas are {'larger' if larger else 'not all larger'} than code (1)'s "
            f"at the same weights ({ratio_text}), {mechanism}; at eta = {low:g} code (2) leads code (1) "
            f"by {lead:+.3f}, and {verdict}.")


def markdown(r):
    lines = ["# Code (1) against code (2) on the 8x8 digits",
             "",
             f"Network {r['layers']} (sigmoid, no biases, 1/2 squared error), {r['epochs']} epochs, "
             f"mini-batches of {r['mini_batch_size']}, {r['train_size']} training and "
             f"{r['test_size']} test images, seed {r['seed']}.",
             "",
             "| eta | " + " | ".join(LABELS.get(v, v) for v in r["accuracy"]) + " |",
             "| --- | " + " | ".join("---" for _ in r["accuracy"]) + " |"]
    for eta in r["etas"]:
        lines.append(f"| {eta:g} | " + " | ".join(f"{r['accuracy'][v][str(eta)]:.3f}"
                                                  for v in r["accuracy"]) + " |")
    lines += ["", "Best: " + "; ".join(f"{LABELS.get(v, v)} {b['accuracy']:.3f} at eta = {b['eta']:g}"
                                       for v, b in r["best"].items()) + "."]
    if "delta_ratio" in r:
        lines += ["", "| layer | ||delta|| code (1) | ||delta|| code (2) | ratio |",
                  "| --- | --- | --- | --- |"]
        for l, (a, b, q) in enumerate(zip(r["delta_norms"]["correct"], r["delta_norms"]["code2"],
                                          r["delta_ratio"]), start=1):
            lines.append(f"| {l} | {a:.4g} | {b:.4g} | {q:.2f} |")
        lines += ["", f"**Finding.** {r['finding']}"]
    return "\n".join(lines) + "\n"


def plots(r, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    fig, ax = plt.subplots(figsize=(6, 4))
    for v in r["accuracy"]:
        ax.plot(r["etas"], [r["accuracy"][v][str(e)] for e in r["etas"]], "o-", label=LABELS.get(v, v))
    ax.set_xscale("log")
    ax.set_xlabel("learning rate eta")
    ax.set_ylabel(f"test accuracy after {r['epochs']} epochs")
    ax.set_title("8x8 digits, " + str(r["layers"]) + " sigmoid, no biases")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    layers = np.arange(1, len(r["layers"]))
    width = 0.38
    for i, v in enumerate(r["delta_norms"]):
        ax.bar(layers + (i - 0.5) * width, r["delta_norms"][v], width, label=LABELS.get(v, v))
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel("layer l")
    ax.set_ylabel("||delta^l|| at the initial weights")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "deltas.png", dpi=100)
    plt.close(fig)
    return [out / "accuracy.png", out / "deltas.png"]


def main(argv=None, stdout=None, stderr=None):
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    p = argparse.ArgumentParser(prog="gradcheck-experiment", description=__doc__.splitlines()[0])
    p.add_argument("--layers", type=int, nargs="+", default=[64, 30, 20, 10],
                   help="layer sizes (64 inputs, 10 outputs; default 64 30 20 10)")
    p.add_argument("--etas", type=float, nargs="+", default=[0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0],
                   help="the learning rates to try")
    p.add_argument("--epochs", type=int, default=30, help="epochs per run (default 30)")
    p.add_argument("--mini-batch", type=int, default=10, help="mini-batch size m (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, weights and order")
    p.add_argument("--out", default="results/experiment", help="folder for the summary and plots")
    args = p.parse_args(argv)
    if args.layers[0] != 64 or args.layers[-1] != 10 or len(args.layers) < 2:
        stderr.write("gradcheck-experiment: error: --layers must start at 64 and end at 10\n")
        return 2
    try:
        result = run_experiment(layers=tuple(args.layers), etas=tuple(args.etas), epochs=args.epochs,
                                mini_batch_size=args.mini_batch, seed=args.seed,
                                progress=lambda line: stderr.write(line + "\n"))
    except RuntimeError as e:
        stderr.write(f"gradcheck-experiment: error: {e}\n")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(result))
    written = [out / "summary.json", out / "summary.md"] + plots(result, out)
    stdout.write(markdown(result))
    stdout.write("\nwrote " + ", ".join(map(str, written)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
