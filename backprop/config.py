"""Saved network configs: TOML or JSON, npz weights and data.

Everything is validated at the door.  Each problem raises ``ConfigError`` (a ``ValueError``) with
one line naming the field or file and the value.  Only regular files are opened (a FIFO, a device,
a directory or a symlink loop is refused before anything is read).  Array files are read with
pickles refused: every member's shape and dtype come from its .npy header, and each array is read
from exactly the member whose header was checked, so a size check made on the headers holds for
what is read.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .network import (Network, validate_activations, validate_l2, validate_layers, validate_layout,
                      validate_loss, validate_reduction)
from .registry import suggest

__all__ = ["ConfigError", "Config", "load_config", "read_config", "build", "save_config",
           "draw_batch", "regular_file"]

FIELDS = ("layers", "activations", "loss", "reduction", "l2", "bias", "layout", "seed", "batch",
          "weights", "data", "impl")
DEFAULTS = {"activations": "sigmoid", "loss": "half_squared_error", "reduction": "sum", "l2": 0.0,
            "bias": True, "layout": "columns", "seed": 0, "batch": 10}
#: a config is a few lines; anything larger is not one
MAX_CONFIG_BYTES = 1 << 20


class ConfigError(ValueError):
    """A config, weights or data file that cannot be used; the message names the problem."""


def regular_file(path, what):
    """``path`` as a Path after checking, without opening it, that it is a regular file."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(path)!r} does not exist") from None
    except OSError as e:  # a symlink loop, a name too long, no permission to look
        raise ConfigError(f"{what} {str(path)!r} cannot be read: {e.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{what} {str(path)!r} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{what} {str(path)!r} is not a regular file (a pipe or a device?)")
    return path


@dataclass(frozen=True)
class Config:
    """A validated config: its fields (defaults filled in, paths absolute) and the batch size m,
    known from the data file's headers (or the ``batch`` field) before anything is allocated."""

    fields: dict
    path: Path
    m: int

    @property
    def layers(self):
        return self.fields["layers"]


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs):
    """A JSON object whose keys repeat is refused (TOML refuses it by itself)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} is given twice")
        out[key] = value
    return out


def read_config(path):
    """The validated ``Config`` at ``path``; reads no array data."""
    path = regular_file(path, "config file")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {str(path)!r} is larger than {MAX_CONFIG_BYTES >> 20} MiB; "
                          "a config is a few lines of TOML or JSON")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text") from None
    except OSError as e:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {e.strerror}") from None
    try:
        raw = (json.loads(text, object_pairs_hook=_unique_keys) if path.suffix.lower() == ".json"
               else tomllib.loads(text))
    except _DuplicateKey as e:
        raise ConfigError(f"config file {str(path)!r}: {e}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"config file {str(path)!r}: JSON syntax error at line {e.lineno}, "
                          f"column {e.colno}: {e.msg}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {str(path)!r}: TOML syntax error: {e}") from None
    except RecursionError:
        raise ConfigError(f"config file {str(path)!r} is nested too deeply to be a config") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a table of fields; got "
                          f"{type(raw).__name__}")
    fields = validate_fields(raw, base=path.parent)
    m = fields["batch"]
    if fields.get("data") is not None:
        members = _npz_members(fields["data"], "data")
        if "x" in members and len(members["x"].shape) == 2:
            m = members["x"].shape[1 if fields["layout"] == "columns" else 0]
        if m < 1:
            raise ConfigError(f"`data` file {str(fields['data'])!r} holds no examples")
    return Config(fields, path, int(m))


def validate_fields(raw, base=Path(".")):
    """Validate a config's fields; every message names the field and the value."""
    for key in raw:
        if key not in FIELDS:
            raise ConfigError(f"unknown field {key!r}{suggest(key, FIELDS)}; the fields are "
                              f"{', '.join(FIELDS)}")
    if "layers" not in raw:
        raise ConfigError("missing field `layers` (the layer sizes, e.g. layers = [784, 30, 10])")
    cfg = {**DEFAULTS, **raw}
    try:
        cfg["layers"] = validate_layers(cfg["layers"])
        validate_activations(cfg["activations"], len(cfg["layers"]) - 1)
        validate_loss(cfg["loss"])
        validate_layout(cfg["layout"])
        validate_reduction(cfg["reduction"])
        cfg["l2"] = validate_l2(cfg["l2"])
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None
    if not isinstance(cfg["bias"], bool):
        raise ConfigError(f"`bias` must be true or false; got {cfg['bias']!r}")
    for key, low in (("seed", 0), ("batch", 1)):
        value = cfg[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            kind = "a non-negative integer" if low == 0 else "a positive integer"
            raise ConfigError(f"`{key}` must be {kind}; got {value!r}")
    for key in ("weights", "data"):
        if cfg.get(key) is not None:
            if not isinstance(cfg[key], str) or not cfg[key]:
                raise ConfigError(f"`{key}` must be a file name; got {cfg[key]!r}")
            try:
                cfg[key] = (base / cfg[key]).resolve()
            except (RuntimeError, OSError):  # a symlink loop, a name too long
                raise ConfigError(f"`{key}` file {cfg[key]!r} cannot be resolved (a symlink "
                                  "loop?)") from None
    if "impl" in cfg and not isinstance(cfg["impl"], dict):
        raise ConfigError(f"`impl` must be a table of keys ([impl]); got {cfg['impl']!r}")
    return cfg


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    shape: tuple
    dtype: np.dtype


def _npz_members(path, field):
    """{name: member} from the .npy headers inside an npz, reading no array data.

    Every member must be a .npy array; two members that numpy would both call ``x`` (``x`` and
    ``x.npy``) are refused, since which one it reads would decide what is loaded.
    """
    path = regular_file(path, f"`{field}` file")
    try:
        archive = zipfile.ZipFile(path)
    except OSError as e:
        raise ConfigError(f"`{field}` file {str(path)!r} cannot be read: {e.strerror}") from None
    except (zipfile.BadZipFile, ValueError):
        raise ConfigError(f"`{field}` file {str(path)!r} is not an .npz archive") from None
    members = {}
    with archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name in members:
                raise ConfigError(f"`{field}` file {str(path)!r} holds two members named {name!r}")
            try:
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(f)
            except Exception:
                raise ConfigError(f"`{field}` file {str(path)!r}: member {info.filename!r} is not a "
                                  ".npy array") from None
            members[name] = _Member(info, tuple(shape), dtype)
    return members


def read_arrays(path, field, expected):
    """Arrays ``expected`` (name -> shape) from an npz: shapes and dtypes checked before reading,
    each array read from the member whose header was checked."""
    members = _npz_members(path, field)
    for name, shape in expected.items():
        if name not in members:
            have = ", ".join(sorted(members)) or "nothing"
            raise ConfigError(f"`{field}` file {str(path)!r} has no array {name!r} (it holds {have})")
        member = members[name]
        if member.dtype.hasobject:
            raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} holds pickled Python "
                              "objects; pickles are refused and were not loaded")
        if member.dtype.kind not in "biuf":
            raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} has dtype "
                              f"{member.dtype}; expected real numbers")
        if member.shape != tuple(shape):
            raise ConfigError(f"`{field}` file {str(path)!r}: {name} has shape {member.shape}; "
                              f"the config's layers need {tuple(shape)}")
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for name in expected:
            try:
                with archive.open(members[name].info) as f:
                    value = np.lib.format.read_array(f, allow_pickle=False)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile):
                raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} cannot be read "
                                  "(truncated or corrupt)") from None
            value = np.asarray(value, dtype=float)
            if value.shape != tuple(expected[name]):
                raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} is truncated")
            if not np.all(np.isfinite(value)):
                bad = "NaN" if np.isnan(value).any() else "inf"
                raise ConfigError(f"`{field}` file {str(path)!r}: {name} contains {bad}")
            arrays[name] = value
    return arrays


def draw_batch(net, m, rng):
    """A batch of m examples drawn for ``net``: x ~ N(0, 1), targets as its loss takes them."""
    x = rng.standard_normal((net.layers[0], m))
    y = net.loss.draw_targets(rng, net.layers[-1], m)
    return net.from_columns(x), net.from_columns(y)


def engine_bytes(layers, m):
    """Memory the network and its batch occupy, in bytes (float64)."""
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(layers[:-1], layers[1:]))
    return 8 * (n_params + (layers[0] + layers[-1]) * m)


def build(cfg, *, size_check=None):
    """``(net, x, y)`` from a ``Config``; ``size_check(layers, m)`` runs before any allocation and
    raises to refuse (by default, the network and batch alone must fit in 8 GiB)."""
    fields, m = cfg.fields, cfg.m
    layers, layout = fields["layers"], fields["layout"]
    if size_check is not None:
        size_check(layers, m)
    elif engine_bytes(layers, m) > 8 * 2**30:
        raise ConfigError(f"layers {list(layers)} with batch {m} need "
                          f"{engine_bytes(layers, m) / 2**30:.1f} GiB for the network alone")
    net = Network(layers, fields["activations"], fields["loss"], bias=fields["bias"], layout=layout,
                  reduction=fields["reduction"], l2=fields["l2"], seed=fields["seed"])
    if fields.get("weights") is not None:
        arrays = read_arrays(fields["weights"], "weights", {p.name: p.shape for p in net.params})
        net.set_parameters(*net.split(arrays))
    if fields.get("data") is not None:
        col = {"x": (layers[0], m), "y": (layers[-1], m)}
        expected = col if layout == "columns" else {k: s[::-1] for k, s in col.items()}
        arrays = read_arrays(fields["data"], "data", expected)
        x, y = arrays["x"], arrays["y"]
    else:
        x, y = draw_batch(net, m, np.random.default_rng([fields["seed"], 1]))
    return net, x, y


def load_config(path, *, size_check=None):
    """``(net, x, y)`` from a saved config: the network with its weights, and the batch to check."""
    return build(read_config(path), size_check=size_check)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def save_config(path, net, x=None, y=None, *, seed=0, overwrite=True):
    """Write ``net`` (and the batch x, y) as a config at ``path`` with ``<stem>-weights.npz``
    (and ``<stem>-data.npz``) beside it; ``load_config(path)`` gives back the same network exactly.

    With ``overwrite=False`` nothing is written if any of the files exists (FileExistsError).
    """
    path = Path(path)
    stem = path.stem
    files = {"config": path, "weights": path.parent / f"{stem}-weights.npz"}
    if x is not None:
        files["data"] = path.parent / f"{stem}-data.npz"
    if not overwrite:
        for f in files.values():
            if os.path.lexists(f):
                raise FileExistsError(str(f))
    np.savez(files["weights"], **{name: np.array(v) for name, v in net.parameters().items()})
    fields = net.spec()
    names = fields["activations"]
    if len(set(names)) == 1:
        fields["activations"] = names[0]
    fields.update(seed=seed, weights=files["weights"].name)
    if x is not None:
        np.savez(files["data"], x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float))
        fields["batch"] = net.batch_size(np.asarray(x))
        fields["data"] = files["data"].name
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(fields, indent=2) + "\n")
    else:
        path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items()))
    return path
