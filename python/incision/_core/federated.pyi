"""
FedLinUCB-DW: devices of a type learn the cut together
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['FedAggregator', 'FedLinUCBDW', 'PROTOCOL_VERSION', 'REJECT_CODES', 'decode_message', 'exchange', 'run_lockstep']
class FedAggregator:
    """
    Edge-side FedLinUCB-DW aggregator: pooled statistics per device type.
    
    Speaks bytes only: handle(message) -> reply, so the same object serves devices
    in one process or behind any transport.
    
    Threads: every method takes a per-object lock, so one object may be shared by Python threads;
    calls are serialised. handle_batch and run_lockstep release the GIL while they run.
    """
    def __init__(self, *, max_groups: typing.SupportsInt | typing.SupportsIndex = 1024, max_devices: typing.SupportsInt | typing.SupportsIndex = 65536, max_dim: typing.SupportsInt | typing.SupportsIndex = 128, max_message_bytes: typing.SupportsInt | typing.SupportsIndex = 1048576, memory_budget: typing.SupportsInt | typing.SupportsIndex = 268435456, max_group_count: typing.SupportsInt | typing.SupportsIndex = 9007199254740992, psd_slack: typing.SupportsFloat | typing.SupportsIndex = 0.001, max_statistic: typing.SupportsFloat | typing.SupportsIndex = 1000000000000.0) -> None:
        """
        Caps, checked before anything is allocated (a hello or upload beyond them gets a reject
        'limit_exceeded'): max_groups device types, max_devices registered devices, max_dim
        feature dimension of a new group (<= 1024), max_message_bytes per incoming message,
        memory_budget bytes of group and device storage (see memory_bytes), max_group_count
        observations pooled per group. An upload is refused ('invalid_statistics') unless the
        group's Gram G keeps G + psd_slack I positive definite and every entry of the statistics
        within max_statistic. ValueError if an option is out of range.
        """
    def broadcast(self, group: str) -> bytes:
        """
        A download of the group for all its members. IndexError if unknown.
        """
    def device_group(self, device_id: typing.SupportsInt | typing.SupportsIndex) -> str | None:
        ...
    def download_for(self, device_id: typing.SupportsInt | typing.SupportsIndex) -> bytes:
        """
        A download of the device's group addressed to it. IndexError if unknown.
        """
    def group_count(self, group: str) -> int:
        ...
    def group_gram(self, group: str) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    def group_moment(self, group: str) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def group_names(self) -> list[str]:
        ...
    def group_size(self, group: str) -> int:
        ...
    def group_version(self, group: str) -> int:
        ...
    def handle(self, message: bytes) -> bytes:
        """
        Handles a device message: hello -> download, upload -> ack; refusals -> reject.
        Raises ValueError on bytes that are not a message (nothing changes).
        """
    def handle_batch(self, messages: list) -> list:
        """
        Handles a list of messages in order, without the per-call Python overhead; returns one
        reply per message, None where the bytes were not a message (dropped, nothing changed).
        """
    def last_seq(self, device_id: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @property
    def memory_bytes(self) -> int:
        """
        Estimated bytes held for groups and devices; never above the memory_budget.
        """
    @property
    def n_devices(self) -> int:
        ...
    @property
    def n_groups(self) -> int:
        ...
    @property
    def options(self) -> dict:
        ...
    @property
    def traffic(self) -> dict:
        ...
class FedLinUCBDW:
    """
    FedLinUCB-DW device learner (CANS): muLinUCB on its group's pooled statistics,
    a bounded fading warm start from offline experience, and an O(d^2) log-det upload
    trigger. Messages are bytes (hello, make_upload -> edge; receive <- edge).
    
    Threads: every method takes a per-object lock, so one object may be shared by Python threads;
    calls are serialised. handle_batch and run_lockstep release the GIL while they run.
    """
    def __init__(self, device_id: typing.SupportsInt | typing.SupportsIndex, group: str, contexts: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]", "flags.c_contiguous"], front_delay: typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"], *, upload_threshold: typing.SupportsFloat | typing.SupportsIndex = 1.0, warm_weight: typing.SupportsFloat | typing.SupportsIndex = 0.5, warm_max_rows: typing.SupportsFloat | typing.SupportsIndex = 50.0, warm_half_life: typing.SupportsFloat | typing.SupportsIndex = 200.0, reg: typing.SupportsFloat | typing.SupportsIndex = 1.0, scaling: str = 'column_max', mu: typing.SupportsFloat | typing.SupportsIndex = 0.25, initial_horizon: typing.SupportsInt | typing.SupportsIndex = 200, delta: typing.SupportsFloat | typing.SupportsIndex = 0.1, c_noise: typing.SupportsFloat | typing.SupportsIndex = 0.05, c_theta: typing.SupportsFloat | typing.SupportsIndex = 1.0, l_key: typing.SupportsFloat | typing.SupportsIndex = 0.8, l_nonkey: typing.SupportsFloat | typing.SupportsIndex = 0.2, alpha: typing.SupportsFloat | typing.SupportsIndex | None = None, forced_sampling: bool = True) -> None:
        """
        device_id: non-zero; group: device type; contexts: (K, d) float64 arm contexts (an all-zero
        row is the all-on-device arm); front_delay: (K,) seconds. upload_threshold: upload when
        (ln det A - ln det A_sync) * buffered >= threshold (0: every observation, inf: never).
        warm_weight in [0, 1], warm_max_rows, warm_half_life: the offline prior (see warm_start).
        The remaining keywords are the muLinUCB options (defaults: the official ANS code).
        """
    def estimates(self, L: typing.SupportsFloat | typing.SupportsIndex = 0.2) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def hello(self) -> bytes:
        """
        The registration message.
        """
    def is_local_arm(self, arm: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def make_upload(self) -> bytes:
        """
        Packs the buffered observations into an upload message (marks it in flight).
        """
    def receive(self, message: bytes) -> str:
        """
        Applies a message from the edge; returns 'download_applied', 'stale_download', 'acked' or
        'rejected'. Raises ValueError on bad bytes or a download of another group.
        """
    def scaled_context(self, arm: typing.SupportsInt | typing.SupportsIndex) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    def select(self, key_frame: bool = False) -> int:
        """
        Next frame's cut (arm index).
        """
    def select_weighted(self, L: typing.SupportsFloat | typing.SupportsIndex) -> int:
        """
        Next frame's cut with key-frame weight L in [0, 1).
        """
    def update(self, arm: typing.SupportsInt | typing.SupportsIndex, offload_delay: typing.SupportsFloat | typing.SupportsIndex) -> None:
        """
        Feeds back the offloading delay (seconds) observed for arm; buffered for upload.
        """
    def wants_upload(self) -> bool:
        ...
    def warm_start(self, arms: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], delays: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> None:
        """
        Installs offline experience (offloading arm, measured offloading delay) as a local prior of
        bounded weight; it is never uploaded and fades as online data arrives.
        """
    @property
    def buffered(self) -> int:
        ...
    @property
    def device_id(self) -> int:
        ...
    @property
    def dim(self) -> int:
        ...
    @property
    def feature_tag(self) -> int:
        ...
    @property
    def gram(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, n]"]:
        ...
    @property
    def group(self) -> str:
        ...
    @property
    def last_forced(self) -> bool:
        ...
    @property
    def last_reject(self) -> typing.Any:
        ...
    @property
    def moment(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def n_arms(self) -> int:
        ...
    @property
    def n_online(self) -> int:
        ...
    @property
    def n_uploads(self) -> int:
        ...
    @property
    def registered(self) -> bool:
        ...
    @property
    def sync_count(self) -> int:
        ...
    @property
    def sync_version(self) -> int:
        ...
    @property
    def theta(self) -> typing.Annotated[numpy.typing.NDArray[numpy.float64], "[m, 1]"]:
        ...
    @property
    def traffic(self) -> dict:
        ...
    @property
    def upload_in_flight(self) -> bool:
        ...
    @property
    def upload_score(self) -> float:
        ...
    @property
    def warm_mass(self) -> float:
        ...
def decode_message(message: bytes) -> dict:
    """
    Decodes a FedLinUCB-DW message (hello, upload, download, ack, reject) into a dict.
    Raises ValueError on bytes that are not a valid message.
    """
def exchange(device: FedLinUCBDW, edge: FedAggregator) -> dict:
    """
    One round trip in one process: the device's upload, the edge's reply and, after an ack, the
    device's fresh personal download. Returns {'bytes': moved, 'reply': 'acked' or 'rejected',
    'downloaded': bool}. ValueError (nothing changes) if the device has nothing buffered or an
    upload in flight. Takes the lock of the device and of the edge.
    """
def run_lockstep(devices: list, edge: FedAggregator, delays: collections.abc.Sequence[typing.Annotated[numpy.typing.ArrayLike, numpy.float64]], key_frames: typing.Annotated[numpy.typing.NDArray[numpy.bool], "[m, n]", "flags.c_contiguous"]) -> typing.Annotated[numpy.typing.NDArray[numpy.int64], "[m, n]"]:
    """
    Runs devices in lockstep: frame t of device i selects an arm, observes delays[i][t, arm] if
    it offloads and updates; with an edge (None: no cooperation) it exchanges (upload -> ack ->
    download) when its trigger fires. delays: one (frames, n_arms) float64 table per device;
    key_frames: (n_devices, frames) bool. Returns the chosen arms, (n_devices, frames) int64.
    ValueError before any change if a device is repeated, a count or shape is wrong or a delay
    is not finite. Takes the lock of every device and of the edge, and releases the GIL.
    """
PROTOCOL_VERSION: int = 1
REJECT_CODES: tuple = ('protocol_version', 'unknown_device', 'wrong_group', 'dimension_mismatch', 'feature_mismatch', 'out_of_order', 'unexpected_message', 'invalid_statistics', 'limit_exceeded')
