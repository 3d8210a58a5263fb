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


def main(folder):
    """In the child: build the network, call the user's code, write the result, exit at once."""
    folder = Path(folder)
    result = folder / "result.json"
    try:
        from backprop import Network

        from checks.adapt import ImplSpec, impl_gradient
        from checks.plugin import PluginError, load_plugin

        request = json.loads((folder / "request.json").read_text())
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
                "inputs_rounded": got.inputs_rounded, "notes": list(got.notes)}
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
