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
    for s in signals:
        signal.signal(s, _interrupted_while_loading)
    try:
        from .checks.cli import main as command
    except Exception as e:  # noqa: BLE001 - a broken install still gets one line
        line = f"cannot load gradcheck ({type(e).__name__}: {e}); reinstall it (make install)"
        sys.stderr.write(f"{PROG}: error: {line}\n")
        if wants_json(argv):
            sys.stdout.write(failure_json(line, 2))
        return 2
    for s in signals:  # from here on the command's own handlers answer; after it, this one
        signal.signal(s, _interrupted_after)
    return command(argv)


def run():
    """The console script and ``python -m gradcheck``: the command's status, then out at once.
    Python's own finalization (its threads joined, modules torn down, signal handlers reset to
    the defaults) would leave a window where a second Ctrl-C kills the process by SIGINT
    instead of the status the command gave; the command has written and closed everything it
    owns by the time it returns, so nothing is lost by leaving without it."""
    status = main()
    _flushed()
    os._exit(status)


def _flushed():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a stream mid-write or closed: what it holds is lost
            pass


def _interrupted_after(signum, frame):
    """A signal after the command has answered (a second Ctrl-C on the way out): the answer is
    already given; end with 130, saying nothing more."""
    _flushed()
    os._exit(130)
