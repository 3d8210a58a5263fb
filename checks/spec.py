"""The ``[impl]`` table: only what the user's code cannot tell gradcheck by itself.

Validated once, at the door (the config's table, or the ``impl_spec`` argument), into a frozen
``ImplSpec``; every message names the key.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..backprop.registry import suggest
from .analytic import IMPL_KINDS
from .readers import READER_WORDS

__all__ = ["ImplSpec"]


def _choice(*choices):
    def check(key, value):
        if value not in choices:
            raise ValueError(f"`impl.{key}` must be one of {', '.join(choices)}; got {value!r}"
                             f"{suggest(value, choices)}")
        return value
    return check


def _names(key, value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"`impl.{key}` must be a list of names; got {value!r}")
    return tuple(value)


def _name(key, value):
    if not isinstance(value, str) or not value:
        raise ValueError(f"`impl.{key}` must be a name; got {value!r}")
    return value


@dataclass(frozen=True)
class ImplSpec:
    """The ``[impl]`` table.  Every key is optional.

    kind      "gradient" or "step" (otherwise: what the call does shows it)
    call      "batch", "example" (one example per call) or "pairs" (a list of (x, y) pairs)
    vectors   one example as a "column" ((n, 1)), a "row" ((1, n)) or "flat" ((n,))
    weights   the attributes (or dict keys) holding W1 ... WL, in order: ["wih", "who"]
    biases    likewise for b1 ... bL
    params    the attribute holding a dict of all parameters: "params"
    lr        the argument or attribute holding the learning rate: "learning_rate"
    labels    "one_hot" (default) or "integers": class labels handed to the code as integers
    returns   how the returned arrays are laid out, where their shapes cannot tell: "w_b"
              (nabla_w, nabla_b), "b_w" (nabla_b, nabla_w), "per_layer", "flat", "flat_w_b",
              "dict", "array", "w_only"
    """

    kind: str | None = None
    call: str | None = None
    vectors: str | None = None
    weights: tuple | None = None
    biases: tuple | None = None
    params: str | None = None
    lr: str | None = None
    labels: str = "one_hot"
    returns: str | None = None

    VALIDATORS = {"kind": _choice(*IMPL_KINDS), "call": _choice("batch", "example", "pairs"),
                  "vectors": _choice("column", "row", "flat"),
                  "labels": _choice("one_hot", "integers"),
                  "returns": _choice(*(r for r in READER_WORDS if r != "beside")),
                  "weights": _names, "biases": _names, "params": _name, "lr": _name}

    def fields(self):
        """The keys that are set, as plain values."""
        return {f.name: (list(v) if isinstance(v, tuple) else v) for f in fields(self)
                if (v := getattr(self, f.name)) is not None}

    @classmethod
    def from_table(cls, table):
        """An ImplSpec from a config's ``[impl]`` table (a dict, or None); ValueError naming the
        key."""
        if isinstance(table, ImplSpec):
            return table
        if table is not None and not isinstance(table, dict):
            raise TypeError(f"the [impl] table must be a table of keys; got {table!r}")
        out = {}
        for key, value in (table or {}).items():
            if key not in cls.VALIDATORS:
                raise ValueError(f"unknown key `impl.{key}`{suggest(key, cls.VALIDATORS)}; the keys "
                                 f"are {', '.join(cls.VALIDATORS)}")
            out[key] = cls.VALIDATORS[key](key, value)
        return cls(**out)
