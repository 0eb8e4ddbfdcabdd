"""A fork server for the suite's command-line runs: `python -m mandala_db`, as a process of its own, without
paying for the interpreter and the imports each time.

Every command a test runs costs a new interpreter and ~0.4 s of imports (psycopg alone is a quarter of a
second here), which the suite pays over a thousand times. This process imports the command line's modules
once; each run is a fork of it, which then does exactly what `python -m mandala_db ARGS` does, in its own
process with its own pid, working directory, environment and standard streams (stdin /dev/null, stdout and
stderr into files), and ends with the exit code the program chose. Runs whose interpreter must be set up
differently (another PYTHONPATH, -X importtime) are not sent here (see conftest.run_cli).

Protocol, one Unix-socket connection per run: the request is one JSON line {args, env, cwd, stdout,
stderr}; the answer is the run's pid on one line, then its exit code on another when it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import sys
import traceback


def _run(conn: socket.socket) -> None:
    """In the forked child: become `python -m mandala_db ARGS`, run, report the exit code, leave."""
    stream = conn.makefile("rwb")
    request = json.loads(stream.readline())
    stream.write(f"{os.getpid()}\n".encode())
    stream.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the program waits for its own children
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    os.close(null)
    code = 0
    try:
        import runpy

        sys.argv = ["mandala-db", *request["args"]]
        runpy.run_module("mandala_db", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        for s in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                s.flush()
        stream.write(f"{code}\n".encode())
        stream.flush()
        os._exit(code)


def serve(path: str) -> None:
    # What every command imports first, loaded once (nothing here reads the environment at import).
    import psycopg  # noqa: F401
    import typer  # noqa: F401

    import mandala_db.cli  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runs are reaped as they end
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            try:
                _run(conn)
            finally:
                os._exit(70)
        conn.close()


if __name__ == "__main__":
    # The suite's worker is our parent: when it goes, so does this server (and nothing is left running).
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)
    serve(sys.argv[1])
