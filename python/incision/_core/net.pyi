"""
The edge server and the device's TCP link (standalone Asio)
"""
from __future__ import annotations
import typing
__all__: list[str] = ['EdgeServer', 'TcpLink']
class EdgeServer:
    """
    
    An edge server in this process (incision::exec::edge_server): serves the server part of each
    device's frames over TCP, and hosts the FedLinUCB-DW aggregator on the same connections.
    
    ``backend``: an incision.exec.Network (each worker thread gets its own copy), or a Python
    backend object with ``graph``, ``run_device``, ``run_server`` and ``fingerprint`` (see
    docs/python-network.md; incision.torch's ``TracedModel.backend()`` is one), shared by the
    worker threads. ``fingerprint`` overrides the model fingerprint devices must present (default:
    the Network's model_fingerprint, or the backend's ``fingerprint``).
    
    Starts listening at once (``port=0``: a free port, see ``port``). Worker threads run without
    the GIL; a Python backend is called with it. ``stop()`` (idempotent) closes every connection
    and joins the threads; so do ``with`` and garbage collection. Times in seconds. OSError when the
    address cannot be bound.
    """
    def __enter__(self) -> typing.Any:
        ...
    def __exit__(self, *args) -> None:
        ...
    def __init__(self, backend: typing.Any, *, port: typing.SupportsInt | typing.SupportsIndex = 0, address: str = '127.0.0.1', threads: typing.SupportsInt | typing.SupportsIndex | None = None, fingerprint: typing.Any | None = None, max_connections: typing.SupportsInt | typing.SupportsIndex = 256, memory_budget: typing.SupportsInt | typing.SupportsIndex = 268435456, max_frame_bytes: typing.SupportsInt | typing.SupportsIndex = 67108864, idle_timeout: typing.SupportsFloat | typing.SupportsIndex = 60.0, read_timeout: typing.SupportsFloat | typing.SupportsIndex = 5.0, write_timeout: typing.SupportsFloat | typing.SupportsIndex = 5.0, host_aggregator: bool = True) -> None:
        """
        threads: worker threads (default: 2 for a Network, 1 for a Python backend).
        """
    def __repr__(self) -> str:
        ...
    def stop(self) -> None:
        """
        Closes the listener and every connection, joins the threads. Idempotent.
        """
    @property
    def address(self) -> str:
        ...
    @property
    def backend(self) -> typing.Any:
        ...
    @property
    def fingerprint(self) -> int:
        """
        The model fingerprint devices must present.
        """
    @property
    def port(self) -> int:
        """
        The bound port.
        """
    @property
    def running(self) -> bool:
        ...
    @property
    def stats(self) -> dict:
        """
        Counters as a dict: accepted, refused, open (connections), served, expired, failed (requests),
        protocol_errors, timeouts, fed_messages, budget_peak (most frame-body bytes held at once).
        """
    @property
    def threads(self) -> int:
        ...
class TcpLink:
    """
    
    The device's connection to an edge (incision::exec::tcp_link): hand it to
    ``incision.exec.OnlineLoop(..., edge=link)`` and each offloaded frame's server part runs on the
    edge. ``model`` is what the handshake names: a Network, a Python backend with a
    ``fingerprint``, or the int fingerprint itself; an edge serving another model refuses it.
    
    Per frame the device waits at most ``deadline`` seconds for the edge's reply, then completes the
    frame itself; a broken connection falls back at once and is retried after ``backoff_min``
    seconds, doubling up to ``backoff_max``; offloading resumes with the first successful
    handshake. Connecting is lazy (the first frame, or ``connect()``). Times in seconds.
    """
    def __init__(self, port: typing.SupportsInt | typing.SupportsIndex, model: typing.Any, *, host: str = '127.0.0.1', deadline: typing.SupportsFloat | typing.SupportsIndex = 1.0, connect_timeout: typing.SupportsFloat | typing.SupportsIndex = 1.0, backoff_min: typing.SupportsFloat | typing.SupportsIndex = 0.01, backoff_max: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def connect(self) -> bool:
        """
        Connects now if down and the backoff allows (waits up to connect_timeout). True when connected.
        """
    @property
    def connected(self) -> bool:
        ...
    @property
    def deadline(self) -> float:
        ...
    @property
    def fingerprint(self) -> int:
        ...
    @property
    def host(self) -> str:
        ...
    @property
    def last_error(self) -> str:
        """
        Why the link last went down ('' if it never did).
        """
    @property
    def port(self) -> int:
        ...
    @property
    def stats(self) -> dict:
        """
        Counters as a dict: offloaded (replies in time), late (deadline first), down (not sent: no
        connection), refused (replies with a status other than ok), late_dropped, connects,
        disconnects, last_server_seconds (the edge's compute time in the last reply).
        """
