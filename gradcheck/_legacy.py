"""The import roots before ``gradcheck``: ``backprop`` and ``checks`` (the contract's
``from backprop import Network``, ``from checks import gradcheck``).

Imported by those names, each package makes itself and every module in it the very same
module objects as ``gradcheck.backprop`` and ``gradcheck.checks``: one copy of the code, so
classes and registries are shared whichever root a program uses.
"""

import importlib
import pkgutil
import sys


def alias(name):
    """Make ``sys.modules[name]`` and ``name.*`` the modules of ``gradcheck.name``."""
    real = importlib.import_module(f"gradcheck.{name}")
    for info in pkgutil.iter_modules(real.__path__):
        if info.name != "__main__":
            sys.modules[f"{name}.{info.name}"] = importlib.import_module(
                f"{real.__name__}.{info.name}")
    sys.modules[name] = real
