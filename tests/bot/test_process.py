"""Services started by the project do not outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.config import PROJECT_ROOT

PARENT = """
import sys, time
from pathlib import Path
from bot.process import spawn
child = spawn([sys.executable, "-c", "import time; time.sleep(120)"], cwd=Path("."),
              env={"PATH": "/usr/bin:/bin"})
print(child.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead but still listed until its parent (here: init) reaps it
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_a_service_ends_when_the_process_that_started_it_is_killed(tmp_path):
    parent = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", PARENT],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        child = int(parent.stdout.readline())
        assert alive(child)
        assert os.getpgid(child) == child  # its own group: Ctrl-C goes to the parent
        parent.send_signal(signal.SIGKILL)  # no cleanup can run in the parent
        parent.wait(10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child), "the service outlived its parent"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
