"""The command's entry point (``gradcheck``, ``python -m gradcheck``), light on purpose.

Loading numpy and the checker takes a few tenths of a second; a Ctrl-C (or SIGTERM, SIGHUP) in
that time would otherwise end the command with a traceback.  This module needs only the
standard library: it answers those signals at once, the way the command answers them later
(status 130, one line on stderr; with --json, one JSON object on stdout), then loads the rest
and hands over to ``checks.cli.main``, whose own handlers take over.
"""

import json
import os
import signal
import sys

PROG = "gradcheck"


def wants_json(argv):
    """Whether the arguments ask for JSON, and for no other format (read without the parser,
    which may be what failed); nothing after ``--`` is an option."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        argv = argv[:argv.index("--")]
    formats = set()
    for k, arg in enumerate(argv):
        if arg == "--json":
            formats.add("json")
        elif arg.startswith("--format="):
            formats.add(arg.split("=", 1)[1])
        elif arg == "--format" and k + 1 < len(argv):
            formats.add(argv[k + 1])
    return formats == {"json"}  # asked for, and nothing else asked for


def failure_json(line, status):
    """The one JSON object --json prints when there is no report: the error and the status."""
    return json.dumps({"passed": False, "max_relative_error": None, "parameters": [],
                       "error": line, "status": status}) + "\n"


def _interrupted_while_loading(signum, frame):
    line = "interrupted" if signum == signal.SIGINT else \
        f"interrupted ({signal.Signals(signum).name})"
    try:
        os.write(2, f"{PROG}: {line}\n".encode())
        if wants_json(None):
            os.write(1, failure_json(line, 130).encode())
    except OSError:
        pass
    os._exit(130)


def main(argv=None):
    """Run the command; returns its exit status."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _interrupted_while_loading) for s in signals}
    try:
        from .checks.cli import main as command
    except Exception as e:  # noqa: BLE001 - a broken install still gets one line
        line = f"cannot load gradcheck ({type(e).__name__}: {e}); reinstall it (make install)"
        sys.stderr.write(f"{PROG}: error: {line}\n")
        if wants_json(argv):
            sys.stdout.write(failure_json(line, 2))
        return 2
    for s, handler in previous.items():
        signal.signal(s, handler)
    return command(argv)
