"""Load on ``ftlab serve``: N concurrent clients, each sending M chat requests back to back, per backend.

Each backend is started as a person starts it (``ftlab serve MODEL --backend
B``, its own process, a real port) and driven through the official OpenAI
client with retries off, so a failed request counts as an error instead of
being retried away.  A request's latency is from sending it to the whole
answer; throughput is answered requests (and generated tokens) per second of
wall time while all clients run.  One warm-up request per backend is not counted.

    python benchmarks/serve_load.py [--clients 16] [--requests 20] [--backends embedded,ray] [--replicas 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

WORDS = ["apple", "pear", "kiwi", "plum", "fig", "lime", "melon", "grape", "mango", "peach", "lemon", "cherry"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(url: str, model: str, clients: int, requests: int, max_tokens: int) -> dict:
    from openai import OpenAI

    client = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Repeat: warm"}], max_tokens=4)
    latencies, tokens, errors, lock = [], [], [], threading.Lock()

    def one_client(index: int) -> None:
        for i in range(requests):
            prompt = f"Repeat: {WORDS[(index + i) % len(WORDS)]}"
            began = time.perf_counter()
            try:
                reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                                       max_tokens=max_tokens)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and its kind reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - began)
                tokens.append(reply.usage.completion_tokens)

    threads = [threading.Thread(target=one_client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {"requests": clients * requests, "answered": len(latencies), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5],
            "p50_s": round(statistics.median(latencies), 4) if latencies else None,
            "p95_s": round(percentile(latencies, 0.95), 4) if latencies else None,
            "max_s": round(max(latencies), 4) if latencies else None, "wall_s": round(wall, 2),
            "requests_per_s": round(len(latencies) / wall, 2), "tokens_per_s": round(sum(tokens) / wall, 1)}


def main(argv: list[str] | None = None) -> None:
    from ftlab.serving.background import BackgroundServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ftlab/tiny-chat")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--backends", default="embedded,ray")
    parser.add_argument("--replicas", type=int, default=2, help="Ray Serve replicas (ray backend)")
    args = parser.parse_args(argv)
    rows = {}
    for backend in args.backends.split(","):
        options = ["--backend", backend] + (["--replicas", str(args.replicas)] if backend == "ray" else [])
        started = time.perf_counter()
        server = BackgroundServer(args.model, *options).start(timeout=600)
        startup = time.perf_counter() - started
        try:
            row = load(server.url, args.model, args.clients, args.requests, args.max_tokens)
        finally:
            row_exit = server.stop(timeout=300)
        label = backend + (f" ({args.replicas} replicas)" if backend == "ray" else "")
        rows[label] = {**row, "startup_s": round(startup, 1), "exit_status": row_exit}
        print(json.dumps({label: rows[label]}), flush=True)
    print(f"\n{args.clients} clients x {args.requests} requests, max_tokens {args.max_tokens}, model {args.model}")
    print(f"{'backend':<22}{'errors':>7}{'p50 s':>9}{'p95 s':>9}{'req/s':>8}{'tok/s':>8}{'start s':>9}{'exit':>6}")
    for label, r in rows.items():
        print(f"{label:<22}{r['errors']:>7}{r['p50_s']:>9}{r['p95_s']:>9}{r['requests_per_s']:>8}"
              f"{r['tokens_per_s']:>8}{r['startup_s']:>9}{r['exit_status']:>6}")


if __name__ == "__main__":
    main()
