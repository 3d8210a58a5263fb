"""The child process of ``checks.sandbox``: ``python -m checks.child FOLDER``.

It reads the request in FOLDER, calls the user's code through ``checks.adapt`` and writes the
result beside it, then exits at once (``os._exit``), so a thread the code left behind cannot keep
it alive.  Nothing imports this module; it only runs as a program.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np


class _Done(Exception):
    def __init__(self, meta):
        self.meta = meta


def layer(request):
    """``gradcheck --layer``: draw the inputs, run check_layer, render the report."""
    import inspect

    from .formats import FORMATS
    from .functions import check_layer
    from .plugin import PluginError, load_plugin

    names = request["targets"].split(",")
    if len(names) == 1:
        forward_name = names[0]
        backward_name = (forward_name.replace("forward", "backward") if "forward" in forward_name
                         else None)
        if backward_name is None:
            raise PluginError(f"--layer {forward_name!r}: name the backward too, "
                              "FILE.py:FORWARD,BACKWARD")
    elif len(names) == 2:
        forward_name, backward_name = names
    else:
        raise PluginError("--layer takes FILE.py:FORWARD or FILE.py:FORWARD,BACKWARD")
    forward = load_plugin(f"{request['file']}:{forward_name.strip()}")
    backward = load_plugin(f"{request['file']}:{backward_name.strip()}")
    params = [p for p in inspect.signature(forward.fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    shapes, args = request["shapes"], request["args"]
    unknown = sorted((set(shapes) | set(args)) - {p.name for p in params})
    if unknown:
        raise PluginError(f"{forward_name} takes no argument {unknown[0]!r} (it takes "
                          f"{', '.join(p.name for p in params)})")
    rng = np.random.default_rng(request["seed"])
    inputs = []
    for p in params:
        if p.name in shapes:
            inputs.append(rng.standard_normal(shapes[p.name]))
        elif p.name in args:
            inputs.append(args[p.name])
        elif p.default is not p.empty:
            break
        else:
            raise PluginError(f"{forward_name} takes {p.name}: give --shape {p.name}=D1,D2,... "
                              f"for an array or --arg {p.name}=JSON for anything else")
    report = check_layer(forward, backward, *inputs, method=request["method"],
                         sample=request["sample"], seed=request["seed"])
    if request.get("plot"):
        report.plot(request["plot"])
    return {"text": FORMATS[request["format"]](report), "passed": report.passed}


def main(folder):
    """In the child: build the network, call the user's code, write the result, exit at once."""
    folder = Path(folder)
    result = folder / "result.json"
    try:
        from ..backprop import Network

        from .adapt import ImplSpec, impl_gradient
        from .plugin import load_plugin

        request = json.loads((folder / "request.json").read_text())
        if request.get("mode") == "layer":
            meta = layer(request)
            raise _Done(meta)
        net = Network(**request["network"])
        with np.load(folder / "request.npz", allow_pickle=False) as arrays:
            net.theta[...] = arrays["theta"]
            x, y = np.array(arrays["x"]), np.array(arrays["y"])
        fn = load_plugin(request["impl"])
        fn.__gradcheck_name__ = request["shown"]
        spec = ImplSpec.from_table(request["table"]) if request["table"] else None
        got = impl_gradient(net, x, y, fn, request["kind"], spec)
        np.savez(folder / "result.npz", **{f"g_{n}": g for n, g in got.gradient.items()},
                 **{f"e_{n}": np.asarray(e, dtype=float) for n, e in got.extra.items()})
        meta = {"target": got.target, "precision": got.precision.name,
                "inputs_rounded": got.inputs_rounded, "notes": list(got.notes), "step": got.step}
    except _Done as done:
        meta = done.meta
    except (ValueError, TypeError) as e:  # PluginError is a ValueError
        meta = {"error": str(e)}
    except BaseException as e:  # noqa: BLE001 - a bug of ours still gets one line
        meta = {"error": f"unexpected {type(e).__name__} in the child: {e} (please report this)"}
    tmp = folder / "result.tmp"
    tmp.write_text(json.dumps(meta))
    os.replace(tmp, result)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
