"""Time the full gradient check of Nielsen's [784, 30, 10] sigmoid net at batch 10 against peers,
in one run (this machine is noisy: compare the ratios, not the seconds).

    make bench        # or: python benchmarks/bench_gradcheck.py [--repeat N]

Peers, each run only if installed (``pip install -e '.[bench]'``):
- torch.autograd.gradcheck, full (central differences per entry) and fast mode;
- jax.test_util.check_grads (modes fwd and rev, order 1: random directions);
- a naive loop: one central difference per parameter through a full forward pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from backprop import Network, backward
from checks import gradcheck

LAYERS = [784, 30, 10]
M = 10


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def problem():
    net = Network(LAYERS, "sigmoid", "half_squared_error", seed=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((LAYERS[0], M))
    y = rng.uniform(0, 1, (LAYERS[-1], M))
    return net, x, y


def naive_loop(net, x, y, h=1e-6):
    theta = net.theta
    g = np.empty_like(theta)
    for k in range(theta.size):
        t = theta[k]
        theta[k] = t + h
        cp = net.cost(x, y)
        theta[k] = t - h
        cm = net.cost(x, y)
        theta[k] = t
        g[k] = (cp - cm) / (2 * h)
    return g


def torch_peers(net, x, y, repeat):
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True)
              for p in (net.weights[0], net.biases[0], net.weights[1], net.biases[1])]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def cost(W1, b1, W2, b2):
        a1 = torch.sigmoid(W1 @ xt + b1)
        a2 = torch.sigmoid(W2 @ a1 + b2)
        return 0.5 * ((a2 - yt) ** 2).sum()

    out = {}
    out["torch.autograd.gradcheck (full)"] = best_of(
        lambda: torch.autograd.gradcheck(cost, params), max(1, repeat // 5))
    out["torch.autograd.gradcheck (fast_mode)"] = best_of(
        lambda: torch.autograd.gradcheck(cost, params, fast_mode=True), repeat)
    return out


def jax_peers(net, x, y, repeat):
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    params = tuple(jnp.asarray(p) for p in (net.weights[0], net.biases[0], net.weights[1],
                                            net.biases[1]))
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def cost(W1, b1, W2, b2):
        a1 = jax.nn.sigmoid(W1 @ xj + b1)
        a2 = jax.nn.sigmoid(W2 @ a1 + b2)
        return 0.5 * ((a2 - yj) ** 2).sum()

    check_grads(cost, params, order=1, modes=("fwd", "rev"))  # compile once
    return {"jax check_grads (fwd+rev, 1 direction)": best_of(
        lambda: check_grads(cost, params, order=1, modes=("fwd", "rev")), repeat)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="best of this many runs (default 20)")
    args = parser.parse_args(argv)
    net, x, y = problem()
    print(f"network {LAYERS}, batch {M}, {net.theta.size} parameters; best of {args.repeat} runs\n")
    ours = {
        "gradcheck full (complex step, every entry)": best_of(lambda: gradcheck(net, x, y),
                                                               args.repeat),
        "gradcheck directional (1 direction per array)": best_of(
            lambda: gradcheck(net, x, y, mode="directional"), args.repeat),
        "gradcheck full, central differences": best_of(
            lambda: gradcheck(net, x, y, method="central"), max(1, args.repeat // 5)),
        "analytic backward pass alone": best_of(lambda: backward(net, x, y), args.repeat),
    }
    peers = {"naive loop (central difference per entry)": best_of(lambda: naive_loop(net, x, y), 1)}
    peers.update(torch_peers(net, x, y, args.repeat))
    peers.update(jax_peers(net, x, y, args.repeat))
    full = ours["gradcheck full (complex step, every entry)"]
    directional = ours["gradcheck directional (1 direction per array)"]
    width = max(map(len, list(ours) + list(peers)))
    for name, seconds in {**ours, **peers}.items():
        print(f"{name:<{width}}  {seconds * 1e3:10.2f} ms   {seconds / full:9.1f}x our full check")
    print()
    for name, seconds in peers.items():
        ratio = seconds / full
        speed = f"{ratio:8.1f}x faster than" if ratio >= 1 else f"{1 / ratio:8.1f}x slower than"
        print(f"our full check is {speed} {name}")
    fast = peers.get("torch.autograd.gradcheck (fast_mode)")
    if fast:
        print(f"our directional check is {fast / directional:.1f}x the speed of torch's fast mode")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
