"""Latency of one citizen chat turn through the web API, with the real stack.

Starts Rasa, the action server and the app on free loopback ports (temporary
database), then sends the evaluation questions one at a time, as one citizen
would, and reports p50/p95 per run and the median over runs. Also prints the
resident memory of each process. Run: make bench [RUNS=3].
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.auxil.stack import make_test_stack  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--turns", type=int, default=150)
    args = parser.parse_args()

    texts = [i["text"] for i in yaml.safe_load((ROOT / "tests/eval/questions.yml").read_text())]
    texts = (texts * (args.turns // len(texts) + 1))[: args.turns]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = make_test_stack(Path(tmp))
        stack, config = prepared.stack, prepared.config
        stack.start(timeout=300)
        url = f"{config.url(config.app_port)}/api/chat"
        try:
            with httpx.Client(timeout=30) as client:
                for text in texts[:20]:  # warm-up
                    client.post(url, json={"sender_id": "warmup", "text": text})
                p50s, p95s = [], []
                for run in range(args.runs):
                    sender = f"bench{run}"
                    latencies = []
                    for text in texts:
                        start = time.perf_counter()
                        response = client.post(url, json={"sender_id": sender, "text": text})
                        latencies.append((time.perf_counter() - start) * 1000)
                        response.raise_for_status()
                    p50s.append(percentile(latencies, 0.5))
                    p95s.append(percentile(latencies, 0.95))
                    print(
                        f"run {run + 1}: {len(latencies)} turns, p50 {p50s[-1]:.1f} ms, "
                        f"p95 {p95s[-1]:.1f} ms"
                    )
            memory = {name: round(rss_mb(proc.pid)) for name, proc in stack.procs.items()}
        finally:
            stack.stop()
    result = {
        "runs": args.runs,
        "turns_per_run": args.turns,
        "p50_ms": round(statistics.median(p50s), 1),
        "p95_ms": round(statistics.median(p95s), 1),
        "rss_mb": memory,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
