"""gradcheck: is your hand-written backpropagation right?

The import root to use::

    from gradcheck import gradcheck, check_layer, check_function, Network, load_config

It cannot collide with a learner's own files: a ``backprop.py``, ``checks.py`` or ``random.py``
beside their code breaks nothing, because every module of gradcheck lives under this one name
(``gradcheck.backprop``, the analytic side; ``gradcheck.checks``, the numeric side and the check).
The older roots ``backprop`` and ``checks`` still import, as the same modules (``_legacy``).
"""

import os
import sys

# ``python -m gradcheck`` puts the current folder first on sys.path; a user's ``json.py`` or
# ``random.py`` there must not stand in for the standard library's (the console script never
# has the folder on its path).  While -m locates this package, sys.argv[0] is "-m".
if sys.argv[:1] == ["-m"] and sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd():
    del sys.path[0]

# In a source checkout the subpackages are the folders beside this one; an installed wheel has
# them inside it (pyproject.toml maps them).
_here = os.path.dirname(os.path.abspath(__file__))
if not os.path.isdir(os.path.join(_here, "checks")):
    __path__.append(os.path.dirname(_here))

#: the public names and the subpackage each comes from: imported when first used, so that
#: ``import gradcheck`` (and the command's entry point, ``gradcheck._entry``) is instant and
#: Ctrl-C while numpy is still loading ends the command like Ctrl-C at any other moment
_PUBLIC = {"Network": "backprop", "load_config": "backprop"} | {
    name: "checks" for name in ("gradcheck", "check_function", "check_layer", "Report",
                                "Undecidable",
                                "assert_gradients_match", "assert_layer_gradients",
                                "assert_function_gradients", "assert_passed")}

__version__ = "0.2.0"
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
