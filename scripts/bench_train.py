"""Time to train the model from scratch (median of repeated runs).

Each run trains into a temporary folder with Rasa's cache disabled, so
nothing is reused. Run: make bench-train [RUNS=3].
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.modelops import artefacts as training  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", default="config.yml")
    args = parser.parse_args()
    rasa = ROOT / ".venv-rasa" / "bin" / "rasa"
    seconds = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            fresh_cache = {
                "RASA_CACHE_DIRECTORY": os.path.join(tmp, "cache"),
                "RASA_MAX_CACHE_SIZE": "0",
            }
            start = time.perf_counter()
            training.train(
                ROOT,
                rasa,
                config=args.config,
                out=Path(tmp) / "bench.tar.gz",
                extra_env=fresh_cache,
                quiet=True,
            )
            seconds.append(time.perf_counter() - start)
        print(f"run {run + 1}: {seconds[-1]:.1f} s")
    print(
        json.dumps(
            {
                "runs": args.runs,
                "config": args.config,
                "median_s": round(statistics.median(seconds), 1),
                "max_s": round(max(seconds), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
