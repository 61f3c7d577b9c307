"""Load test: many citizens at once, through the app's chat API and straight to Rasa.

Both targets (app: POST /api/chat; rasa: its REST webhook) get the same seeded load:
each citizen greets, asks questions from tests/eval/questions.yml or (30%) presses a
button of the last reply, and after 4-10 turns starts over under a new sender id. Phases:
think50/think200 (3-8 s think time, DURATION s), saturation (closed loop, 1..64 citizens,
STEP s a step, until two steps in a row miss p95 < 500 ms with no errors), burst50 (50 x 10
messages at once, health URL timed meanwhile). Busy replies are neither answered nor
errors (transport, timeout, non-200); latencies and turns/s are over answered turns.
Peak RSS per service is sampled every 0.5 s. Last line: JSON, the median over --runs.
Run: make bench-load [APP=URL RASA=URL RUNS=1 DURATION=60 STEP=15 PHASES=... TARGETS=...].
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
Stats = dict[str, Any]
BUSY = re.compile(r"đang bận|thử lại sau", re.IGNORECASE)
GREETINGS = ("/greet", "xin chào", "chào bạn", "alo ad ơi", "chao ad", "Chào, cho tôi hỏi")
# Handoff buttons are not pressed: once a ticket is open the app relays the citizen's texts
# to an officer without asking Rasa, and the two targets would no longer do the same work.
# Nor the screens the app serves itself ("Xem thêm", the scam steps): Rasa is not asked.
NO_PRESS = ("/request_handoff", "/handoff_cancel", "/faq_more/", "/scam_after")
PRESS_SHARE = 0.3
THINK_S = (3.0, 8.0)
STEPS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64)
P95_LIMIT_MS = 500.0
PHASES = ("think50", "think200", "saturation", "burst50")
MARKERS = {"app": "bot.main", "rasa": "rasa run", "actions": "bot.actions.server"}  # cmdline


# --- pure helpers (tests/test_bench_load.py) ---------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile, q in [0, 1]; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def is_busy(messages: Sequence[Mapping[str, Any]]) -> bool:
    return any(BUSY.search(str(m.get("text") or "")) for m in messages)


def pick_text(
    rnd: random.Random, turn_no: int, last: Sequence[Mapping[str, Any]], texts: Sequence[str]
) -> str:
    """The next message: a greeting first, then a question or, 30% of the time, a button."""
    # Always the same draws, so both targets see the same sequence whatever they replied.
    greeting, question = rnd.choice(GREETINGS), rnd.choice(texts)
    press, which = rnd.random(), rnd.random()
    if turn_no == 0:
        return greeting
    buttons = next((m.get("buttons") for m in reversed(last) if m.get("buttons")), None) or []
    payloads = [str(b["payload"]) for b in buttons if isinstance(b, dict) and b.get("payload")]
    payloads = [p for p in payloads if not p.startswith(NO_PRESS)]
    if payloads and press < PRESS_SHARE:
        return payloads[int(which * len(payloads))]
    return question


def summarize(latencies: Sequence[float], busy: int, errors: int, wall_s: float) -> Stats:
    def ms(q: float) -> float | None:
        value = percentile(latencies, q)
        return None if value is None else round(value, 1)

    rate = len(latencies) / wall_s if wall_s > 0 else 0.0
    mean = round(statistics.fmean(latencies), 1) if latencies else None
    return {
        **{"p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99), "mean_ms": mean},
        **{"turns_per_s": round(rate, 2), "answered": len(latencies)},
        **{"busy": busy, "errors": errors},
    }


def step_ok(step: Stats) -> bool:
    """A saturation step holds when nothing failed and p95 stayed under the limit."""
    p95 = step.get("p95_ms")
    return step.get("errors") == 0 and p95 is not None and p95 < P95_LIMIT_MS


def should_stop(steps: Sequence[Stats]) -> bool:
    """Stop stepping up after two misses in a row (one noisy step is not a verdict)."""
    return len(steps) >= 2 and not step_ok(steps[-1]) and not step_ok(steps[-2])


def best_step(steps: Sequence[Stats]) -> Stats | None:
    held = [s for s in steps if step_ok(s)]
    return max(held, key=lambda s: s["turns_per_s"]) if held else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def ratios(result: Mapping[str, Any]) -> Stats:
    """App over Rasa-direct: p50/mean/p95 at equal load, saturation throughput."""
    app, rasa = result.get("app") or {}, result.get("rasa") or {}
    out: Stats = {}
    for phase in ("think50", "think200", "burst50"):
        if phase in app and phase in rasa:
            out[phase] = {
                q: ratio(app[phase].get(f"{q}_ms"), rasa[phase].get(f"{q}_ms"))
                for q in ("p50", "mean", "p95")
            }
    if "saturation" in app and "saturation" in rasa:
        best = [s["saturation"]["best_turns_per_s"] for s in (app, rasa)]
        out["saturation_turns_per_s"] = ratio(best[0], best[1])
    return out


def median_of_runs(values: Sequence[Any]) -> Any:
    """The median of each number across runs, through nested dicts; None when absent."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, dict) for v in present):
        keys = dict.fromkeys(k for v in present for k in v)
        return {k: median_of_runs([v.get(k) for v in present]) for k in keys}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        middle = statistics.median(present)
        whole = all(isinstance(v, int) for v in present) and float(middle).is_integer()
        return int(middle) if whole else round(middle, 2)
    return present[-1]


def cpu_reference_s() -> float:
    """Seconds a fixed loop of Python takes here now: how fast the machine is at the moment
    (on a shared host it varies; the same code measures slower when it is slow)."""
    start = time.perf_counter()
    sum(i * i for i in range(2_000_000))
    return round(time.perf_counter() - start, 3)


def vm_rss_kb(status: str) -> int:
    """VmRSS from the text of /proc/<pid>/status (0 for a kernel thread or a zombie)."""
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1])


def family(root: int, parents: Mapping[int, int]) -> set[int]:
    """The process and all its descendants, given pid -> parent pid."""
    members, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in members} - members
        members |= more
        grew = bool(more)
    return members


def find_services(parents: Mapping[int, int], cmdlines: Mapping[int, str]) -> dict[str, int]:
    """Name -> pid of each app / Rasa / action-server process (replicas: app2, ...)."""
    found: dict[str, int] = {}
    for kind, marker in MARKERS.items():
        pids = {p for p, cmd in cmdlines.items() if marker in cmd and p != os.getpid()}
        tops = sorted(p for p in pids if parents.get(p) not in pids)  # workers: summed below
        found |= {kind if i == 0 else f"{kind}{i + 1}": p for i, p in enumerate(tops)}
    return found


# --- memory -----------------------------------------------------------------------------
def proc_table() -> tuple[dict[int, int], dict[int, str]]:
    parents, cmdlines = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                cmdlines[int(entry.name)] = cmd.decode(errors="replace")
    return parents, cmdlines


class MemorySampler(threading.Thread):
    """Peak RSS (process + children) of each service, sampled every 0.5 s."""

    def __init__(self, roots: dict[str, int] | None) -> None:
        super().__init__(daemon=True)
        self.roots = roots if roots is not None else find_services(*proc_table())
        self.peak_kb = dict.fromkeys(self.roots, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            parents = proc_table()[0]
            for name, pid in self.roots.items():
                kb = 0
                for member in family(pid, parents):
                    with contextlib.suppress(OSError):
                        kb += vm_rss_kb(Path(f"/proc/{member}/status").read_text())
                self.peak_kb[name] = max(self.peak_kb[name], kb)
            if self.done.wait(0.5):
                return

    def peaks_mb(self) -> dict[str, int]:
        self.done.set()
        self.join()
        return {name: round(kb / 1024) for name, kb in self.peak_kb.items()}


# --- load -------------------------------------------------------------------------------
@dataclass
class Crowd:
    """One phase's citizens: how they behave, and what they measured."""

    record_from: float  # turns sent before this (warm-up) are not counted
    stop_at: float
    think: bool
    limit: float  # turns per citizen
    latencies: list[float] = field(default_factory=list)
    busy: int = 0
    errors: int = 0
    ended: float = 0.0  # when the last citizen stopped

    def summary(self) -> Stats:
        return summarize(self.latencies, self.busy, self.errors, self.ended - self.record_from)


@dataclass
class Load:
    """The seeded citizens of one target: "app" (chat API) or "rasa" (REST webhook)."""

    client: httpx.AsyncClient
    target: str
    bases: list[str]  # Rasa replicas: each conversation goes to one, as the app does
    texts: list[str]
    timeout: float
    run_id: str
    seed: int
    headers: dict[str, str]  # Rasa's channel answers only callers with its token

    async def turn(self, sender: str, text: str, crowd: Crowd) -> list[dict[str, Any]]:
        base = self.bases[zlib.crc32(sender.encode()) % len(self.bases)]
        if self.target == "app":
            url, body = f"{base}/api/chat", {"sender_id": sender, "text": text}
        else:
            url, body = f"{base}/webhooks/app/webhook", {"sender": sender, "message": text}
        start = time.perf_counter()
        messages: list[dict[str, Any]] | None = None
        with contextlib.suppress(httpx.HTTPError, TimeoutError, ValueError):
            async with asyncio.timeout(self.timeout):
                response = await self.client.post(url, json=body, headers=self.headers)
            if response.status_code == 200:
                data = response.json()
                items = data.get("messages") if isinstance(data, dict) else data
                messages = [m for m in items or [] if isinstance(m, dict)]
        if start >= crowd.record_from:
            if messages is None:
                crowd.errors += 1
            elif is_busy(messages):
                crowd.busy += 1
            else:
                crowd.latencies.append((time.perf_counter() - start) * 1000)
        if messages is None:
            await asyncio.sleep(0.1)  # a refused connection must not turn into a spin
        return messages or []

    async def citizen(self, crowd: Crowd, phase: str, idx: int, delay: float) -> None:
        rnd = random.Random(f"{self.seed}:{phase}:{idx}")  # noqa: S311 - not secrets
        await asyncio.sleep(delay)
        conversation, sent = 0, 0
        while time.perf_counter() < crowd.stop_at and sent < crowd.limit:
            sender = f"{self.run_id}-{self.target}-{phase}-{idx}-{conversation}"
            last: list[dict[str, Any]] = []
            for turn_no in range(rnd.randint(4, 10)):
                if time.perf_counter() >= crowd.stop_at or sent >= crowd.limit:
                    return
                last = await self.turn(sender, pick_text(rnd, turn_no, last, self.texts), crowd)
                sent += 1
                if crowd.think:
                    pause = min(rnd.uniform(*THINK_S), crowd.stop_at - time.perf_counter())
                    await asyncio.sleep(max(0.0, pause))
            conversation += 1

    async def crowd(self, phase: str, users: int, seconds: float, **how: Any) -> Crowd:
        """``users`` citizens for ``seconds`` after ``how["warmup"]`` s (unless ``limit``)."""
        now, warmup, think = time.perf_counter(), how.get("warmup", 0.0), how.get("think", False)
        crowd = Crowd(now + warmup, now + warmup + seconds, think, how.get("limit", math.inf))
        stagger = THINK_S[1] / users if think else 0.0  # starts spread over one think time
        tasks = [
            asyncio.create_task(self.citizen(crowd, phase, i, i * stagger)) for i in range(users)
        ]
        # The hard deadline: every request is bounded by the timeout, this bounds the phase.
        done, late = await asyncio.wait(tasks, timeout=warmup + seconds + self.timeout + 15)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        crowd.errors += len(late) + sum(1 for t in done if t.exception() is not None)
        crowd.ended = time.perf_counter()
        return crowd

    async def probe(self) -> tuple[float, int]:
        """Seconds the health URL took to answer, and 1 if it failed."""
        base = self.bases[0]
        url = f"{base}/healthz" if self.target == "app" else f"{base}/"
        start, ok = time.perf_counter(), False
        with contextlib.suppress(httpx.HTTPError, TimeoutError):
            async with asyncio.timeout(self.timeout):
                ok = (await self.client.get(url)).status_code == 200
        return round(time.perf_counter() - start, 3), int(not ok)

    async def phase(self, phase: str, duration: float, step: float) -> Stats:
        if phase in ("think50", "think200"):
            return (await self.crowd(phase, int(phase[5:]), duration, think=True)).summary()
        if phase == "burst50":
            bound = max(duration, 2 * self.timeout)
            burst = asyncio.create_task(self.crowd(phase, 50, bound, limit=10))
            await asyncio.sleep(0.2)  # the first 50 messages are on their way
            healthz_s, healthz_errors = await self.probe()
            stats = (await burst).summary()
            after_s, after_errors = await self.probe()
            health = {"healthz_s": healthz_s, "healthz_after_s": after_s}
            return {**stats, **health, "healthz_errors": healthz_errors + after_errors}
        steps: list[Stats] = []
        for users in STEPS:
            crowd = await self.crowd(f"s{users}", users, step, warmup=min(3.0, step / 3))
            steps.append({"concurrency": users, **crowd.summary()})
            print(f"  {self.target:<4} saturation {users:>2} users: {line(steps[-1])}", flush=True)
            if should_stop(steps):
                break
        best = best_step(steps) or {}
        return {
            "best_turns_per_s": best.get("turns_per_s"),
            "best_concurrency": best.get("concurrency"),
            "max_concurrency": steps[-1]["concurrency"],
            **{k: sum(s[k] for s in steps) for k in ("answered", "busy", "errors")},
        }


def line(stats: Stats) -> str:
    def ms(key: str) -> str:
        return "-" if stats.get(key) is None else f"{stats[key]:.0f}"

    if "best_turns_per_s" in stats and stats["best_turns_per_s"] is None:
        head = f"no step held p95 < {P95_LIMIT_MS:.0f} ms with 0 errors"
    elif "best_turns_per_s" in stats:
        head = f"best {stats['best_turns_per_s']} turns/s at {stats['best_concurrency']} users"
    else:
        head = f"p50/p95/p99 {ms('p50_ms')}/{ms('p95_ms')}/{ms('p99_ms')} ms"
        head += f", {stats['turns_per_s']} turns/s"
    tail = f", answered {stats['answered']}, busy {stats['busy']}, errors {stats['errors']}"
    if "healthz_s" in stats:
        tail += f", health {stats['healthz_s']} s (after {stats['healthz_after_s']} s)"
        tail += f", health errors {stats['healthz_errors']}"
    return head + tail


async def run_once(
    args: argparse.Namespace, urls: list[tuple[str, list[str]]], texts: list[str], run: int
) -> Stats:
    run_id = f"L{secrets.token_hex(3)}"  # unique sender ids per run
    result: Stats = {target: {} for target, _ in urls}
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with httpx.AsyncClient(limits=limits, timeout=args.timeout) as client:
        headers = {"X-Internal-Token": args.rasa_token}
        loads = [
            Load(client, t, base, texts, args.timeout, run_id, args.seed, headers)
            for t, base in urls
        ]
        for load in loads:  # warm-up, not counted
            await load.crowd("warm", 2, 3.0)
        for index, phase in enumerate(args.phases):
            # The stack slows down as its databases fill: alternate who goes first.
            for load in loads if (run + index) % 2 == 0 else loads[::-1]:
                stats = await load.phase(phase, args.duration, args.step)
                result[load.target][phase] = stats
                print(f"{load.target:<4} {phase:<10} {line(stats)}", flush=True)
                await asyncio.sleep(2)  # stragglers of the last phase drain
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", help="app base URL of a running stack")
    parser.add_argument("--rasa", help="Rasa base URL of a running stack")
    parser.add_argument(
        "--rasa-token",
        default=os.environ.get("RASA_TOKEN", ""),
        help="a running stack's RASA_TOKEN (Rasa's channel needs it; default: $RASA_TOKEN)",
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--targets", default="app,rasa")
    parser.add_argument("--duration", type=float, default=60, help="seconds of think phases")
    parser.add_argument("--step", type=float, default=15, help="seconds per saturation step")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/eval/questions.yml")
    parser.add_argument("--seed", type=int, default=1)
    topology = parser.add_argument_group("the stack started when no URLs are given")
    topology.add_argument("--rasa-replicas", type=int, default=1)
    topology.add_argument("--app-workers", type=int, default=1)
    topology.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="app data and Rasa's tracker store in fresh PostgreSQL databases on this server "
        "(e.g. postgresql://postgres@127.0.0.1:5432/test); default SQLite files",
    )
    topology.add_argument("--redis", metavar="URL", help="Rasa's lock store (redis://host:port/db)")
    args = parser.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    args.targets = [t for t in args.targets.split(",") if t]
    bad = (set(args.phases) - set(PHASES)) | (set(args.targets) - {"app", "rasa"})
    if bad:
        parser.error(f"unknown phase or target: {', '.join(sorted(bad))}")
    if (args.app or args.rasa) and not all(getattr(args, t) for t in args.targets):
        parser.error("a running stack needs the URL of every target (--app, --rasa)")
    return args


def main() -> int:
    args = parse_args()
    texts = [str(q["text"]) for q in yaml.safe_load(args.questions.read_text(encoding="utf-8"))]
    with contextlib.ExitStack() as exits:
        roots: dict[str, int] | None = None
        if args.app or args.rasa:
            urls = {"app": args.app, "rasa": args.rasa}
            print(f"Using the running stack: app {args.app or '-'}, Rasa {args.rasa or '-'}")
        else:
            sys.path.insert(0, str(ROOT))
            from tests.auxil.stack import make_test_stack

            tmp = Path(exits.enter_context(tempfile.TemporaryDirectory()))
            print("Starting a stack (Rasa, actions, app) on free ports, temporary database...")
            topology: dict[str, Any] = {
                "rasa_replicas": args.rasa_replicas,
                "app_workers": args.app_workers,
                "redis_url": args.redis or "",
            }
            if args.postgres:
                from tests.auxil import services

                os.environ["TEST_DATABASE_URL"] = args.postgres
                app_db = exits.enter_context(services.postgres_database())
                rasa_db = exits.enter_context(services.postgres_database())
                topology |= {"db_url": app_db, "tracker_url": rasa_db.replace("+psycopg", "")}
            print(f"Topology: {json.dumps(topology | {'postgres': bool(args.postgres)})}")
            prepared = make_test_stack(tmp, **topology)
            exits.callback(prepared.stack.stop)
            prepared.stack.start(timeout=300)
            config = prepared.config
            urls = {
                "app": config.url(config.app_port),
                "rasa": ",".join(config.url(port) for port in config.rasa_ports),
            }
            roots = {name: proc.pid for name, proc in prepared.stack.procs.items()}
            args.rasa_token = prepared.token
            print(f"Started: app {urls['app']}, Rasa {urls['rasa']}")
        bases = [(t, [u.strip().rstrip("/") for u in urls[t].split(",")]) for t in args.targets]
        runs: list[Stats] = []
        for run in range(args.runs):
            print(f"== run {run + 1}/{args.runs}", flush=True)
            sampler = MemorySampler(roots)
            sampler.start()
            before = cpu_reference_s()
            try:
                result = asyncio.run(run_once(args, bases, texts, run))
            finally:
                memory = sampler.peaks_mb()
            machine = {"cpu_ref_before_s": before, "cpu_ref_after_s": cpu_reference_s()}
            result |= {"ratios": ratios(result), "memory_mb": memory, "machine": machine}
            print(f"ratios app/rasa {json.dumps(result['ratios'])}; peak RSS MB {memory}")
            print(
                f"machine: a fixed loop took {machine['cpu_ref_before_s']} s before the run, "
                f"{machine['cpu_ref_after_s']} s after",
                flush=True,
            )
            runs.append(result)
    stack = "running" if roots is None else "started"
    summary = median_of_runs(runs) | {"runs": args.runs, "stack": stack}
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
