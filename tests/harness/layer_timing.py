"""Time the CS231n numeric-gradient recipe against ``check_layer`` / ``check_function``, in one process.

    python -m tests.harness layer_timing [--repeats 5]

The recipe is the assignments' ``gradient_check.py``, written out here: central differences per
entry, h = 1e-5, one (N-d) array at a time, ``eval_numerical_gradient_array(f, x, df)`` for a layer
(then its backward and a relative error per input) and ``eval_numerical_gradient(f, x)`` for a
model's loss.  Each side is timed best of ``--repeats``; the ratio is recipe_time / check_time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from gradcheck import check_function, check_layer

from . import cs231n as C


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Central difference of sum(f(x) * df) per entry of x (x perturbed in place, restored)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        pos = f(x).copy()
        x[ix] = oldval - h
        neg = f(x).copy()
        x[ix] = oldval
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient(f, x, h=1e-5):
    """Central difference of a scalar f(x) per entry of x (in place, restored)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def rel_error(x, y):
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def recipe_layer(forward, backward, inputs, dout):
    """The notebook cell: a numeric gradient per float input, the backward, the relative errors."""
    floats = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    nums = []
    for i in floats:
        def f(v, i=i):
            args = list(inputs)
            args[i] = v
            return forward(*args)[0]
        nums.append(eval_numerical_gradient_array(f, inputs[i], dout))
    _, cache = forward(*inputs)
    grads = backward(dout, cache)
    grads = (grads,) if isinstance(grads, np.ndarray) else grads
    return [rel_error(n, g) for n, g in zip(nums, grads)]


def recipe_model(model, X, y):
    loss, grads = model.loss(X, y)
    errors = []
    for name in sorted(model.params):
        f = lambda _: model.loss(X, y)[0]  # noqa: E731 - the notebook's form
        num = eval_numerical_gradient(f, model.params[name])
        errors.append(rel_error(num, grads[name]))
    return errors


def cases():
    r = np.random.default_rng(231)
    out = []
    x, w, b = r.standard_normal((4, 3)), r.standard_normal((3, 5)), r.standard_normal(5)
    out.append(("affine 4x3 . 3x5", C.affine_forward, C.affine_backward, [x, w, b]))
    x, g, be = r.standard_normal((6, 4)) * 2 + 1, r.standard_normal(4), r.standard_normal(4)
    out.append(("batchnorm 6x4 (staged)", C.batchnorm_forward, C.batchnorm_backward,
                [x, g, be, {"mode": "train"}]))
    out.append(("batchnorm 6x4 (np.var, alt)", C.batchnorm_forward_var, C.batchnorm_backward_alt,
                [x.copy(), g.copy(), be.copy(), {"mode": "train"}]))
    out.append(("conv naive 2x3x5x5, w 4x3x3x3, s2 p1", C.conv_forward_naive, C.conv_backward_naive,
                [r.standard_normal((2, 3, 5, 5)), r.standard_normal((4, 3, 3, 3)),
                 r.standard_normal(4), {"stride": 2, "pad": 1}]))
    x, w, b = out[-1][3][:3]
    out.append(("conv naive, complex-safe buffer (examples/layers.py)", _example_conv(),
                C.conv_backward_naive, [x.copy(), w.copy(), b.copy(), {"stride": 2, "pad": 1}]))
    out.append(("max pool naive 2x3x4x4", C.max_pool_forward_naive, C.max_pool_backward_naive,
                [r.standard_normal((2, 3, 4, 4)), {"pool_height": 2, "pool_width": 2, "stride": 2}]))
    out.append(("rnn step x 3x4, h 3x5", C.rnn_step_forward, C.rnn_step_backward,
                [r.standard_normal((3, 4)), r.standard_normal((3, 5)), r.standard_normal((4, 5)) * 0.5,
                 r.standard_normal((5, 5)) * 0.5, r.standard_normal(5)]))
    return out


def _example_conv():
    """The project's own example (examples/layers.py): its output buffer takes x's dtype, so a
    complex step goes through it; the student's np.zeros(shape) above forces Richardson."""
    import importlib.util
    path = Path(__file__).resolve().parents[2] / "examples" / "layers.py"
    spec = importlib.util.spec_from_file_location("gradcheck_example_layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.conv_forward_naive


def best(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.harness layer_timing")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="results/harness/layer_timing.json")
    args = ap.parse_args(argv)
    rows = []
    # warm both paths once (imports, glibc's first large block) so neither pays a first-call cost
    name, fwd, bwd, inputs = cases()[0]
    check_layer(fwd, bwd, *inputs)
    recipe_layer(fwd, bwd, inputs, np.ones((4, 5)))
    for name, fwd, bwd, inputs in cases():
        out = fwd(*inputs)[0]
        dout = np.random.default_rng(1).standard_normal(out.shape)
        t_recipe, errors = best(lambda: recipe_layer(fwd, bwd, inputs, dout), args.repeats)
        t_check, report = best(lambda: check_layer(fwd, bwd, *inputs), args.repeats)
        rows.append({"layer": name, "recipe_s": t_recipe, "check_s": t_check,
                     "ratio": t_recipe / t_check, "method": report.method,
                     "passed": report.passed, "recipe_max_rel_error": float(max(errors))})
    r = np.random.default_rng(232)
    N, D, H, Cn = 3, 5, 50, 7                         # the notebook's TwoLayerNet check
    model = C.TwoLayerNet(D, H, Cn, weight_scale=1e-1, reg=0.1, rng=r)
    X, y = r.standard_normal((N, D)), r.integers(0, Cn, N)
    t_recipe, errors = best(lambda: recipe_model(model, X, y), args.repeats)
    t_check, report = best(lambda: check_function(lambda: model.loss(X, y), model.params),
                           args.repeats)
    rows.append({"layer": f"two-layer net {N}x{D}, H={H}, C={Cn} (check_function)",
                 "recipe_s": t_recipe, "check_s": t_check, "ratio": t_recipe / t_check,
                 "method": report.method, "passed": report.passed,
                 "recipe_max_rel_error": float(max(errors))})

    width = max(len(r["layer"]) for r in rows)
    print(f"{'layer':<{width}}  {'recipe ms':>10}  {'check ms':>10}  {'recipe/check':>12}  "
          f"{'check method':<13} {'passed':<6} {'recipe rel err':>14}")
    for r in rows:
        print(f"{r['layer']:<{width}}  {1e3 * r['recipe_s']:>10.2f}  {1e3 * r['check_s']:>10.2f}  "
              f"{r['ratio']:>12.2f}  {r['method']:<13} {str(r['passed']):<6} "
              f"{r['recipe_max_rel_error']:>14.1e}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeats": args.repeats, "rows": rows}, indent=1))
    print(f"(best of {args.repeats}; written to {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
