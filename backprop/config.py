"""Saved network configs (shared/CONTRACT.md section 1): TOML or JSON, npz weights and data.

Everything is validated at the door.  Each problem raises ``ConfigError`` (a ``ValueError``) with
one line naming the field or file and the value.  Array files are read with pickles refused, and
their shapes and dtypes are checked from the .npy headers before any array is read.
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import numpy as np

from .network import (Network, suggest, validate_activations, validate_layers,
                      validate_layout, validate_loss)

__all__ = ["ConfigError", "load_config", "save_config", "read_config", "draw_batch",
           "estimate_check_bytes", "MEMORY_LIMIT_BYTES"]

FIELDS = ("layers", "activations", "loss", "bias", "layout", "seed", "batch", "weights", "data")
DEFAULTS = {"activations": "sigmoid", "loss": "half_squared_error", "bias": True,
            "layout": "columns", "seed": 0, "batch": 10}

#: Checks whose estimated working memory exceeds this are refused before anything is allocated.
MEMORY_LIMIT_BYTES = 8 * 2**30


class ConfigError(ValueError):
    """A config, weights or data file that cannot be used; the message names the problem."""


def estimate_check_bytes(layers, batch):
    """Working memory of a gradient check, in bytes, from the sizes alone.

    The parameters are held about eight times (theta, two gradients, the numeric estimate, error
    bounds, tolerances, copies for a plug-in), the forward pass about six times per example (z, a,
    delta and complex copies), plus the differentiator's fixed chunk budget.
    """
    n_params = sum(n_out * (n_in + 1) for n_in, n_out in zip(layers[:-1], layers[1:]))
    n_units = sum(layers)
    return 8 * (8 * n_params + 6 * n_units * batch) + 64 * 2**20


def _check_size(layers, batch):
    need = estimate_check_bytes(layers, batch)
    if need > MEMORY_LIMIT_BYTES:
        raise ConfigError(f"layers {list(layers)} with batch {batch}: a check needs about "
                          f"{need / 2**30:.1f} GiB of memory; this machine's limit is "
                          f"{MEMORY_LIMIT_BYTES / 2**30:.0f} GiB")


def read_config(path):
    """The config file's fields as a dict (defaults filled in), validated; paths made absolute."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {str(path)!r} is a directory") from None
    except OSError as e:
        raise ConfigError(f"config file {str(path)!r} cannot be read: {e.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            raw = json.loads(text.decode("utf-8"))
        else:
            raw = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"config file {str(path)!r}: JSON syntax error at line {e.lineno}, "
                          f"column {e.colno}: {e.msg}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {str(path)!r}: TOML syntax error: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a table of fields; got {type(raw).__name__}")
    return validate_fields(raw, base=path.parent)


def validate_fields(raw, base=Path(".")):
    """Validate a config's fields; every message names the field and the value."""
    for key in raw:
        if key not in FIELDS:
            raise ConfigError(f"unknown field `{key}`{suggest(key, FIELDS)}; the fields are "
                              f"{', '.join(FIELDS)}")
    if "layers" not in raw:
        raise ConfigError("missing field `layers` (the layer sizes, e.g. layers = [784, 30, 10])")
    cfg = {**DEFAULTS, **raw}
    try:
        cfg["layers"] = validate_layers(cfg["layers"])
        L = len(cfg["layers"]) - 1
        validate_activations(cfg["activations"], L)
        validate_loss(cfg["loss"])
        validate_layout(cfg["layout"])
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from None
    for key in ("bias",):
        if not isinstance(cfg[key], bool):
            raise ConfigError(f"`{key}` must be true or false; got {cfg[key]!r}")
    for key, low in (("seed", 0), ("batch", 1)):
        value = cfg[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            kind = "a non-negative integer" if low == 0 else "a positive integer"
            raise ConfigError(f"`{key}` must be {kind}; got {value!r}")
    for key in ("weights", "data"):
        if key in cfg and cfg[key] is not None:
            if not isinstance(cfg[key], str) or not cfg[key]:
                raise ConfigError(f"`{key}` must be a file name; got {cfg[key]!r}")
            cfg[key] = (base / cfg[key]).resolve()
    return cfg


def _npz_headers(path, field):
    """{name: (shape, dtype)} from the .npy headers inside an npz, reading no array data."""
    if not path.exists():
        raise ConfigError(f"`{field}` file {str(path)!r} does not exist")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ConfigError(f"`{field}` file {str(path)!r} is not an .npz archive") from None
    headers = {}
    with archive:
        for info in archive.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            try:
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read(f)
            except Exception:
                raise ConfigError(f"`{field}` file {str(path)!r}: member {info.filename!r} is not a "
                                  ".npy array") from None
            headers[name] = (shape, dtype)
    return headers


def _read_arrays(path, field, expected):
    """Arrays ``expected`` (name -> shape) from an npz: shapes and dtypes checked before reading."""
    headers = _npz_headers(path, field)
    for name, shape in expected.items():
        if name not in headers:
            have = ", ".join(sorted(headers)) or "nothing"
            raise ConfigError(f"`{field}` file {str(path)!r} has no array {name!r} (it holds {have})")
        got_shape, dtype = headers[name]
        if dtype.hasobject:
            raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} holds pickled Python "
                              "objects; pickles are refused and were not loaded")
        if dtype.kind not in "biuf":
            raise ConfigError(f"`{field}` file {str(path)!r}: array {name!r} has dtype {dtype}; "
                              "expected real numbers")
        if tuple(got_shape) != tuple(shape):
            raise ConfigError(f"`{field}` file {str(path)!r}: {name} has shape {tuple(got_shape)}; "
                              f"the config's layers need {tuple(shape)}")
    arrays = {}
    with np.load(path, allow_pickle=False) as npz:
        for name in expected:
            value = np.asarray(npz[name], dtype=float)
            if not np.all(np.isfinite(value)):
                bad = "NaN" if np.isnan(value).any() else "inf"
                raise ConfigError(f"`{field}` file {str(path)!r}: {name} contains {bad}")
            arrays[name] = value
    return arrays


def draw_batch(net, m, rng):
    """A batch of m examples drawn for ``net``: x ~ N(0, 1), targets that suit the loss and output."""
    n_0, n_L = net.layers[0], net.layers[-1]
    x = rng.standard_normal((n_0, m))
    loss, out = net.loss.name, net.sigmas[-1].name
    if loss == "categorical_cross_entropy":
        y = np.eye(n_L)[:, rng.integers(0, n_L, size=m)]
    elif loss == "binary_cross_entropy" or out in ("sigmoid", "softmax"):
        y = rng.uniform(0, 1, size=(n_L, m))
    else:
        y = rng.standard_normal((n_L, m))
    return net.from_columns(x), net.from_columns(y)


def load_config(path):
    """``(net, x, y)`` from a saved config: the network with its weights, and the batch to check."""
    cfg = read_config(path)
    layers, layout = cfg["layers"], cfg["layout"]
    m = cfg["batch"]
    if cfg.get("data") is not None:
        shapes = _npz_headers(cfg["data"], "data")
        if "x" in shapes and len(shapes["x"][0]) == 2:
            m = shapes["x"][0][1 if layout == "columns" else 0]
    _check_size(layers, m)
    net = Network(layers, cfg["activations"], cfg["loss"], bias=cfg["bias"], layout=layout,
                  seed=cfg["seed"])
    if cfg.get("weights") is not None:
        arrays = _read_arrays(cfg["weights"], "weights",
                              {name: net.shapes[name] for name in net.names})
        net.set_parameters([arrays[f"W{l}"] for l in range(1, net.L + 1)],
                           [arrays[f"b{l}"] for l in range(1, net.L + 1)] if net.bias else None)
    rng = np.random.default_rng([cfg["seed"], 1])
    if cfg.get("data") is not None:
        if m < 1:
            raise ConfigError(f"`data` file {str(cfg['data'])!r} holds no examples")
        col = {"x": (layers[0], m), "y": (layers[-1], m)}
        expected = col if layout == "columns" else {k: s[::-1] for k, s in col.items()}
        arrays = _read_arrays(cfg["data"], "data", expected)
        x, y = arrays["x"], arrays["y"]
    else:
        x, y = draw_batch(net, m, rng)
    return net, x, y


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def save_config(path, net, x=None, y=None, *, seed=0):
    """Write ``net`` (and the batch x, y) as a config at ``path`` with ``<stem>-weights.npz``
    (and ``<stem>-data.npz``) beside it; ``load_config(path)`` gives back the same network exactly.
    """
    path = Path(path)
    stem = path.stem
    weights_file = f"{stem}-weights.npz"
    np.savez(path.parent / weights_file, **{name: np.array(v) for name, v in net.parameters().items()})
    names = [s.name for s in net.sigmas]
    fields = {
        "layers": list(net.layers),
        "activations": names[0] if len(set(names)) == 1 else names,
        "loss": net.loss.name,
        "bias": net.bias,
        "layout": net.layout,
        "seed": seed,
        "weights": weights_file,
    }
    if x is not None:
        data_file = f"{stem}-data.npz"
        np.savez(path.parent / data_file, x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float))
        fields["batch"] = net.batch_size(np.asarray(x))
        fields["data"] = data_file
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(fields, indent=2) + "\n")
    else:
        path.write_text("".join(f"{k} = {_toml_value(v)}\n" for k, v in fields.items()))
    return path
