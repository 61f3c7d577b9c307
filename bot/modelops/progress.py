"""What a training job is doing, read from ``rasa train``'s output, and the log the page shows."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

__all__ = ["log_tail", "long_components", "parse_progress"]

_COMPONENT = re.compile(r"Starting to train component '(\w+)'")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_BAR = re.compile(r"\d+%\||\d+it \[")  # a tqdm progress line


def long_components(config: Path) -> list[str]:
    """Names of the components that train for many epochs (with a progress bar), in order."""
    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    entries = [*(doc.get("pipeline") or []), *(doc.get("policies") or [])]
    return [str(e["name"]).rsplit(".", 1)[-1] for e in entries if "epochs" in e]


def parse_progress(log: str, long: list[str]) -> tuple[int, str]:
    """(percent of the training step, what it is doing) from ``rasa train``'s output."""
    starts = list(_COMPONENT.finditer(log))
    if not starts:
        return 0, "Chuẩn bị dữ liệu"
    last = starts[-1]
    name = last.group(1)
    epochs = _EPOCHS.findall(log[last.end() :]) if name in long else []
    done = sum(1 for m in starts[:-1] if m.group(1) in long)
    share = 100 / max(1, len(long))
    current = int(epochs[-1]) / 100 if epochs else 0.0
    percent = int(min(99, (done + current) * share))
    suffix = f" ({epochs[-1]}%)" if epochs else ""
    return percent, f"Đang học: {name}{suffix}"


def log_tail(path: Path, lines: int = 40) -> list[str]:
    """The last lines of a job's output without warnings, progress bars at their latest state."""
    if not path.is_file():
        return []
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 64_000))
        text = _ANSI.sub("", f.read().decode("utf-8", errors="replace"))
    out: list[str] = []
    skipped = False
    for line in re.split(r"[\r\n]+", text):
        line = line.rstrip()
        if not line:
            continue
        # Python warnings (and the source line they quote) say nothing to an admin
        if "Warning" in line or "site-packages/" in line or (skipped and line[:1].isspace()):
            skipped = True
            continue
        skipped = False
        same = out and line.split(":")[0] == out[-1].split(":")[0]
        if same and _BAR.search(line) and _BAR.search(out[-1]):
            out[-1] = line  # the same progress bar, later
        else:
            out.append(line)
    return out[-lines:]
