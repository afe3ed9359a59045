"""incision.net: the edge server and the device's TCP link, from Python or a notebook.

An edge server runs the server part of each device's frames over TCP (protocol: docs/net.md).
Start one in this process (``EdgeServer``: a background C++ server, the GIL released while it
waits) or as a subprocess (``EdgeProcess``: the installed ``incision-edge`` executable if there
is one, else ``python -m incision edge``), then run the device loop against it:

    import incision as inc, incision.exec as ie, incision.net as inet
    net = ie.example_network("resnet", seed=0)
    g = net.profile()
    bmap = inc.BandwidthMap(g, 1e3, 1e9)
    with inet.EdgeServer(net) as server:                       # port=0: a free port
        link = inet.TcpLink(server.port, net)                  # the handshake names net's fingerprint
        learner = inc.MuLinUCB(*ie.make_arms(g, bmap))
        loop = ie.OnlineLoop(net, learner, None, bmap, g, edge=link)   # the TcpLink carries the frames
        records = loop.run(100)                                # records["edge"]: served by the edge

Any backend the loop takes can be served, a Python object included (incision.torch's
``TracedModel.backend()``); it must carry a ``fingerprint`` that tells models apart.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

try:
    from ._core.net import EdgeServer as _EdgeServer
    from ._core.net import TcpLink
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError(
        "incision.net is not in this build: incision._core was compiled without standalone Asio or xtensor "
        "(apt-get install libasio-dev xtensor-dev, then reinstall incision)"
    ) from e

__all__ = ["EdgeProcess", "EdgeServer", "TcpLink", "edge_command", "find_edge_executable"]

AREA = "[incision.net]"
EXAMPLE_MODELS = ("resnet", "inception")

_live: weakref.WeakSet[EdgeServer] = weakref.WeakSet()
_live_lock = threading.Lock()


def _stop_all() -> None:
    # At exit, before the interpreter refuses its GIL to foreign threads: a server whose workers
    # call a Python backend must be joined while they can still run.
    with _live_lock:
        servers = list(_live)
    for s in servers:
        s.stop()


atexit.register(_stop_all)


class EdgeServer(_EdgeServer):
    __doc__ = _EdgeServer.__doc__

    def __init__(self, backend: Any, **options: Any) -> None:
        super().__init__(backend, **options)
        with _live_lock:
            _live.add(self)


def find_edge_executable() -> str | None:
    """The installed ``incision-edge`` on PATH, or None."""
    return shutil.which("incision-edge")


def edge_command(model: str = "resnet", *, seed: int = 0, port: int = 0, threads: int = 2,
                 address: str = "127.0.0.1", executable: str | None = None, python: bool = False) -> list[str]:
    """The command line of an edge serving an example network: ``executable`` (default: the installed
    ``incision-edge``), or ``python -m incision edge`` when ``python`` is true or none is installed."""
    if model not in EXAMPLE_MODELS:
        raise ValueError(f"{AREA} model must be one of {', '.join(EXAMPLE_MODELS)}, got {model!r}")
    for name, v, lo, hi in (("seed", seed, 0, 2**64 - 1), ("port", port, 0, 65535), ("threads", threads, 1, 1024)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"{AREA} {name} must be an int in [{lo}, {hi}], got {v!r}")
    args = ["--port", str(port), "--model", model, "--seed", str(seed), "--threads", str(threads),
            "--address", address]
    exe = None if python else (executable or find_edge_executable())
    if exe is None:
        return [sys.executable, "-m", "incision", "edge", *args]
    return [exe, *args]


def _read_line(stream: Any, until: float) -> bytes:
    """One line from an unbuffered pipe, or what came before ``until`` / end of file."""
    fd = stream.fileno()
    line = b""
    while not line.endswith(b"\n"):
        left = until - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        line += chunk
    return line


class EdgeProcess:
    """An edge server in a subprocess, serving an example network (``resnet`` or ``inception`` with ``seed``):
    the installed ``incision-edge`` when found (or ``executable``), else ``python -m incision edge``
    (``python=True`` forces it). Starts at once and waits until the server listens (``startup_timeout``
    seconds; RuntimeError with the server's stderr otherwise). ``port=0``: a free port, see ``port``.

    ``kill()`` ends it abruptly (SIGKILL: connections drop mid-frame), ``stop()`` gracefully (SIGTERM);
    ``start()`` starts it again, on the same port by default. ``with`` and garbage collection stop it.
    """

    def __init__(self, model: str = "resnet", *, seed: int = 0, port: int = 0, threads: int = 2,
                 address: str = "127.0.0.1", executable: str | None = None, python: bool = False,
                 startup_timeout: float = 30.0) -> None:
        self.model, self.seed, self.threads, self.address = model, seed, threads, address
        self._executable, self._python, self.startup_timeout = executable, python, startup_timeout
        self._requested_port = port
        self.port = 0
        self.fingerprint = 0
        self.command: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        edge_command(model, seed=seed, port=port, threads=threads, address=address)  # validates the options
        self.start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, port: int | None = None) -> EdgeProcess:
        """Starts the server (``port``: default the port it had, or the one asked for first)."""
        if self.running:
            raise RuntimeError(f"{AREA} the edge process {self.pid} is already running")
        want = port if port is not None else (self.port or self._requested_port)
        self.command = edge_command(self.model, seed=self.seed, port=want, threads=self.threads,
                                    address=self.address, executable=self._executable, python=self._python)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process, closed by _end
        self._proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=self._stderr,
                                      stdin=subprocess.DEVNULL, bufsize=0)
        line = _read_line(self._proc.stdout, time.monotonic() + self.startup_timeout).decode(errors="replace")
        if not line.startswith("listening on "):
            stderr = self._stderr
            self._stderr = None  # read it before _end closes it
            self._end(signal.SIGKILL)
            stderr.seek(0)
            err = stderr.read().decode(errors="replace").strip()
            stderr.close()
            raise RuntimeError(f"{AREA} the edge did not start ({' '.join(self.command)}): "
                               f"{line.strip() or 'no output'}{'; ' + err if err else ''}")
        fields = line.split()
        self.port = int(fields[2].rsplit(":", 1)[1])
        self.fingerprint = int(next(f for f in fields if f.startswith("fingerprint=")).split("=", 1)[1])
        return self

    def _end(self, sig: int, timeout: float = 10.0) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return proc.returncode

    def kill(self) -> int | None:
        """Ends the server at once (SIGKILL), as a crash would. Returns its exit status."""
        return self._end(signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stops the server gracefully (SIGTERM; SIGKILL after ``timeout`` s). Idempotent."""
        return self._end(signal.SIGTERM, timeout)

    def __enter__(self) -> EdgeProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter teardown: nothing left to report to
            self.stop(timeout=2.0)

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"EdgeProcess({self.model}, seed={self.seed}, {self.address}:{self.port}, {state})"


def serve(argv: Sequence[str] | None = None) -> int:
    """``python -m incision edge``: the in-process edge server as a command, with incision-edge's options and
    output ("listening on ADDRESS:PORT model=M seed=S fingerprint=F" once ready), until SIGINT or SIGTERM."""
    import argparse

    from . import exec as ie

    ap = argparse.ArgumentParser(prog="python -m incision edge",
                                 description="Serve the server part of an example network to devices over TCP.")
    ap.add_argument("--port", type=int, required=True, help="0: any free port")
    ap.add_argument("--model", choices=EXAMPLE_MODELS, default="resnet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--address", default="127.0.0.1")
    a = ap.parse_args(list(argv) if argv is not None else None)
    if not 0 <= a.port <= 65535:
        ap.error("port out of range")
    # SIGINT/SIGTERM are taken by sigwait below: block them before the worker threads start
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        net = ie.example_network(a.model, seed=a.seed)
        server = EdgeServer(net, port=a.port, address=a.address, threads=a.threads)
    except (ValueError, OSError) as e:
        print(f"python -m incision edge: {e}", file=sys.stderr)
        return 1
    print(f"listening on {a.address}:{server.port} model={a.model} seed={a.seed} fingerprint={server.fingerprint}",
          flush=True)
    signal.sigwait(signals)
    server.stop()
    s = server.stats
    print(f"stopped: served {s['served']} expired {s['expired']} failed {s['failed']} "
          f"protocol errors {s['protocol_errors']}", flush=True)
    return 0
