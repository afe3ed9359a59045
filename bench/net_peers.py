"""The peers' way vs ours on the same payloads, on loopback.

The peers (the ANS and DADS reference code) pickle the cut tensor and send it over a fresh TCP
socket per frame; the server unpickles it, pickles a reply and closes. Ours: the incision-edge
executable and a persistent tcp_link (bench_net's BM_incision_edge_process, which reports the
request and reply sizes at each chain cut of the example ResNet and the edge's compute time).
The peer server here computes nothing, so ours is compared both as a whole round trip and minus
the edge's reported compute time (transport only).

    python bench/net_peers.py --bench build/bench/bench/bench_net [--frames 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import pickle
import socket
import statistics
import subprocess
import threading
import time

import numpy as np


def recv_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        b = sock.recv(1 << 16)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def peer_server(listener: socket.socket, reply_floats: int, stop: threading.Event) -> None:
    reply = np.zeros(reply_floats, dtype=np.float32)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            data = b""
            # the peers' framing: the client half-closes after sending its pickle
            data = recv_all(conn)
            if not data:
                continue
            _ = pickle.loads(data)
            conn.sendall(pickle.dumps(reply))


def peer_round_trip(port: int, tensor: np.ndarray) -> float:
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(pickle.dumps(tensor))
        s.shutdown(socket.SHUT_WR)
        _ = pickle.loads(recv_all(s))
    return time.perf_counter() - t0


def ours(bench: str) -> list[dict]:
    out = subprocess.run(
        [bench, "--benchmark_filter=BM_incision_edge_process", "--benchmark_min_time=0.5", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    return [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="the bench_net executable")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--json", help="write the rows here")
    args = ap.parse_args()
    rows = []
    for b in ours(args.bench):
        req, rep = int(b["request_bytes"]), int(b["reply_bytes"])
        tensor = np.random.default_rng(1).standard_normal(max(1, (req - 100) // 4)).astype(np.float32)
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        stop = threading.Event()
        th = threading.Thread(target=peer_server, args=(listener, max(1, (rep - 100) // 4), stop), daemon=True)
        th.start()
        port = listener.getsockname()[1]
        for _ in range(20):
            peer_round_trip(port, tensor)
        peer = sorted(peer_round_trip(port, tensor) * 1e6 for _ in range(args.frames))
        stop.set()
        listener.close()
        p50 = statistics.median(peer)
        p99 = peer[min(len(peer) - 1, int(0.99 * (len(peer) - 1)))]
        row = {
            "cut": b["name"].split("/")[1], "request_bytes": req, "reply_bytes": rep,
            "peer_p50_us": p50, "peer_p99_us": p99,
            "ours_p50_us": b["rtt_p50_us"], "ours_p99_us": b["rtt_p99_us"],
            "ours_transport_p50_us": b["rtt_p50_us"] - b["server_p50_us"],
        }
        row["speedup_p50"] = p50 / row["ours_p50_us"]
        row["transport_speedup_p50"] = p50 / row["ours_transport_p50_us"]
        rows.append(row)
    print(f"{'cut':>4} {'request B':>10} {'peer p50':>10} {'peer p99':>10} {'ours p50':>10} {'ours p99':>10} "
          f"{'transport p50':>14} {'x p50':>7} {'x transport':>12}")
    for r in rows:
        print(f"{r['cut']:>4} {r['request_bytes']:>10} {r['peer_p50_us']:>10.1f} {r['peer_p99_us']:>10.1f} "
              f"{r['ours_p50_us']:>10.1f} {r['ours_p99_us']:>10.1f} {r['ours_transport_p50_us']:>14.1f} "
              f"{r['speedup_p50']:>7.2f} {r['transport_speedup_p50']:>12.2f}")
    print("times in microseconds; ours includes the edge's compute of the server part (the peer server computes "
          "nothing); 'transport' subtracts the edge's reported compute time")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
