"""The child's first lines, run as a script (``python -I boot.py PATH RFD WFD``) before anything
else is imported: shut the user's code in, then serve the parent's requests (``checks.child``).

The user's code runs as another process of the same user, and such a process can reach the
parent gradcheck in two ways no pipe discipline stops: through /proc (open the parent's stdout
as ``/proc/PPID/fd/1`` and write a report of its own into it, or write into its memory) and by
signals (SIGTERM, SIGSTOP, SIGKILL to the parent: a changed exit status, a hang).  On Linux the
child shuts both doors before the user's code is imported:

- a **user namespace** of its own (``unshare(CLONE_NEWUSER)``, no privilege needed) holds no
  capability over the parent's, and the parent is non-dumpable (``runner``), so /proc refuses
  the parent's file descriptors and memory to it, even where the user is root; the user's ids
  are mapped to themselves, so ``os.getuid()`` and file ownership read as before;
- a **PID namespace** of its own: the parent has no process id the code can name, so no signal
  of the code reaches gradcheck (``kill(-1)`` reaches only the namespace).  The namespace's
  first process is a small init here (it reaps, and when it ends the kernel ends every process
  left in the namespace: daemons included); the server runs as its child in a session of its
  own, so ``killpg(0, ...)`` reaches only the code's own processes.

The process the parent started waits for the init and ends the way the server ended (its exit
status, or the signal that killed it), so the parent reads the same statuses as without the
namespaces.  Where namespaces are not available (another OS, a container that forbids them)
the child serves as it is; the README states what is then left open.
"""

import ctypes
import json
import os
import signal
import sys

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _die_with_parent(libc):
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _own_namespaces(libc):
    """Enter a new user and PID namespace, the user's ids mapped to themselves; whether it
    worked (it must happen while this process has one thread: before numpy is imported)."""
    if libc is None or not hasattr(libc, "unshare"):
        return False
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID) != 0:
        return False
    try:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    except OSError:
        pass  # the ids then read as the overflow id; the namespaces still hold
    return True


def _end_like(status):
    """Exit the way a process with wait status ``status`` ended."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _init(server, report):
    """The namespace's first process: reap every process until the server has ended, send its
    wait status on ``report``, and end (the kernel then ends whatever is left).  It ignores
    every signal the code could send it (Python's own SIGINT handler included)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2, signal.SIGALRM):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == server:
            os.write(report, str(status).encode())
            os._exit(0)


def _relay(init, report):
    """The process the parent started: end as the server ended."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    got = b""
    while True:
        chunk = os.read(report, 64)
        if not chunk:
            break
        got += chunk
    os.waitpid(init, 0)
    _end_like(int(got) if got.strip().isdigit() else 0x9)  # no report: as if SIGKILLed


def confine(fds):
    """Shut the rest of this child in its own namespaces (``fds``: the request pipes, which only
    the server keeps open); returns in the server process."""
    libc = _libc()
    _die_with_parent(libc)
    if not _own_namespaces(libc):
        return
    read_end, write_end = os.pipe()
    init = os.fork()
    if init:
        for fd in (*fds, write_end):
            os.close(fd)
        _relay(init, read_end)
    os.close(read_end)
    _die_with_parent(libc)
    server = os.fork()
    if server:
        for fd in fds:
            os.close(fd)
        _init(server, write_end)
    os.close(write_end)
    os.setsid()


def main():
    path, rfd, wfd = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    confine((rfd, wfd))
    sys.path[:] = path
    from gradcheck.checks.child import serve
    serve(rfd, wfd)


if __name__ == "__main__":
    main()
