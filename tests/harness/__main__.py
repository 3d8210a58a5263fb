"""python -m tests.harness NAME [options]: run the harness ``tests.harness.NAME`` (its ``main``)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def available():
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)])
                  if not m.name.startswith("_") and
                  hasattr(importlib.import_module(f"tests.harness.{m.name}"), "main"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m tests.harness NAME [options]   (NAME: "
              + ", ".join(available()) + ")")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if not name.isidentifier():
        print(f"no harness named {name!r}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"tests.harness.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"tests.harness.{name}":
            raise
        print(f"no harness named {name!r} (have: {', '.join(available())})", file=sys.stderr)
        return 2
    if not hasattr(module, "main"):
        print(f"tests.harness.{name} has no main(argv)", file=sys.stderr)
        return 2
    return module.main(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
