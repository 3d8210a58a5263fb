"""gradcheck against its peers and against one backward pass, in one run (this machine is noisy:
compare the ratios, not the seconds).

    make bench        # or: python benchmarks/bench_gradcheck.py [--repeat N] [--quick]

Cases (sigmoid networks, the 1/2 squared error):
- Nielsen's [784, 30, 10] at batch 10;
- a wide [784, 512, 512, 10] at batch 64;
- ten layers of 100 at batch 10;
- twelve layers of 100 at batch 10, under central differences and Richardson.

For each: our full check (complex step, every entry), our directional check, one backward pass
(the ratio is the check's cost in backward passes), the check's peak memory (tracemalloc)
against the estimate the command refuses checks by, and the peers, where installed
(``pip install -e '.[bench]'``): torch.autograd.gradcheck full (measured where it takes
seconds, else extrapolated from its measured cost per parameter on the output bias, and said so),
torch fast_mode, and jax.test_util.check_grads (fwd and rev, one direction).
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread for everything, ours and the peers'

import numpy as np  # noqa: E402

from gradcheck.backprop import Network, backward  # noqa: E402
from gradcheck.checks import gradcheck  # noqa: E402
from gradcheck.checks.budget import check_bytes  # noqa: E402
from gradcheck.checks.heap import keep_freed_memory  # noqa: E402

CASES = {
    "[784, 30, 10], m=10": ([784, 30, 10], 10),
    "[784, 512, 512, 10], m=64": ([784, 512, 512, 10], 64),
    "ten layers of 100, m=10": ([100] * 11, 10),
}
DEEP = ("twelve layers of 100, m=10", [100] * 13, 10)
#: torch full is measured when its estimate is below this many seconds, else extrapolated
TORCH_FULL_LIMIT = 20.0


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def problem(layers, m):
    net = Network(layers, "sigmoid", "half_squared_error", seed=0)
    rng = np.random.default_rng(1)
    return net, rng.standard_normal((layers[0], m)), rng.uniform(0, 1, (layers[-1], m))


def peak_bytes(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def torch_peers(net, x, y, repeat):
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in
              (w for pair in zip(net.weights, net.biases) for w in pair)]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def cost(*ps):
        a = xt
        for W, b in zip(ps[0::2], ps[1::2]):
            a = torch.sigmoid(W @ a + b)
        return 0.5 * ((a - yt) ** 2).sum()

    out = {"torch fast_mode": (best_of(lambda: torch.autograd.gradcheck(cost, params,
                                                                        fast_mode=True), repeat), "")}
    # cost per parameter from the output bias alone (the others held constant): each entry
    # costs torch two evaluations of the whole function, whichever array it is in
    frozen = [p.detach() for p in params]

    def last_bias_only(b):
        return cost(*frozen[:-1], b)

    per_parameter = best_of(lambda: torch.autograd.gradcheck(last_bias_only, (params[-1],)),
                            max(3, repeat)) / params[-1].numel()
    estimate = per_parameter * net.theta.size
    if estimate <= TORCH_FULL_LIMIT:
        out["torch full"] = (best_of(lambda: torch.autograd.gradcheck(cost, params), 1), "measured")
    else:
        out["torch full"] = (estimate, "extrapolated from its cost per parameter")
    return out


def jax_peers(net, x, y, repeat):
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    params = tuple(jnp.asarray(p) for pair in zip(net.weights, net.biases) for p in pair)
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def cost(*ps):
        a = xj
        for W, b in zip(ps[0::2], ps[1::2]):
            a = jax.nn.sigmoid(W @ a + b)
        return 0.5 * ((a - yj) ** 2).sum()

    check_grads(cost, params, order=1, modes=("fwd", "rev"))  # compile once
    return {"jax check_grads": (best_of(lambda: check_grads(cost, params, order=1,
                                                             modes=("fwd", "rev")), repeat), "")}


def run_case(name, layers, m, repeat, peers=True):
    net, x, y = problem(layers, m)
    slow = net.theta.size * m > 10**6
    r = max(1, repeat // 5) if slow else repeat
    bp = best_of(lambda: backward(net, x, y), repeat * 5)
    full = best_of(lambda: gradcheck(net, x, y), r)
    directional = best_of(lambda: gradcheck(net, x, y, mode="directional"), r)
    peak = peak_bytes(lambda: gradcheck(net, x, y))
    rows = {"gradcheck full (complex step)": (full, ""),
            "gradcheck directional": (directional, ""),
            "one backward pass": (bp, "")}
    if peers:
        rows.update(torch_peers(net, x, y, r))
        rows.update(jax_peers(net, x, y, r))
    print(f"\n## {name}: {net.theta.size:,} parameters\n")
    print("| check | time | backward passes | vs our full check |")
    print("| --- | --- | --- | --- |")
    for label, (seconds, how) in rows.items():
        note = f" ({how})" if how else ""
        print(f"| {label}{note} | {_t(seconds)} | {seconds / bp:,.1f} | {seconds / full:,.2f}x |")
    estimate = check_bytes(layers, m)
    print(f"\npeak memory of the full check {peak / 2**20:.1f} MiB (tracemalloc); the command's "
          f"estimate {estimate / 2**20:.1f} MiB, ratio {peak / estimate:.2f}")
    fast = rows.get("torch fast_mode")
    if fast:
        print(f"directional vs torch fast_mode: {fast[0] / directional:.1f}x faster")
    return full, bp


def run_deep(repeat, peers=True):
    name, layers, m = DEEP
    net, x, y = problem(layers, m)
    print(f"\n## {name}, finite differences: {net.theta.size:,} parameters\n")
    print("| check | time | vs torch full |")
    print("| --- | --- | --- |")
    torch_full = torch_peers(net, x, y, 1).get("torch full") if peers else None
    for method in ("central", "richardson"):
        seconds = best_of(lambda: gradcheck(net, x, y, method=method), 1)
        ratio = f"{torch_full[0] / seconds:.1f}x faster" if torch_full else "-"
        print(f"| gradcheck full, {method} | {_t(seconds)} | {ratio} |")
    if torch_full:
        print(f"| torch full ({torch_full[1]}) | {_t(torch_full[0])} | 1x |")


def _t(seconds):
    return f"{seconds * 1e3:,.1f} ms" if seconds < 1 else f"{seconds:,.1f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="best of this many runs (default 20)")
    parser.add_argument("--quick", action="store_true",
                        help="skip the twelve-layer finite-difference case (minutes)")
    parser.add_argument("--no-peers", action="store_true", help="skip torch and jax")
    args = parser.parse_args(argv)
    # what a check does first, done before anything is timed: the backward pass and the peers
    # reuse freed memory as the check does (checks/heap.py), so no one pays page faults the
    # others do not
    keep_freed_memory()
    print(f"# gradcheck benchmark: one thread, best of {args.repeat} (heavy cases fewer)")
    for name, (layers, m) in CASES.items():
        run_case(name, layers, m, args.repeat, peers=not args.no_peers)
    if not args.quick:
        run_deep(args.repeat, peers=not args.no_peers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
