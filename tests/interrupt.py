"""Start a command, wait until a condition holds, then kill -9 its whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def kill_9_when(command: Sequence[str], cwd: Path, ready: Callable[[], bool], what: str,
                timeout_s: float = 300, poll_s: float = 0.1) -> None:
    """Run ``command`` in ``cwd`` (its output in ``cwd/interrupted.log``) and SIGKILL it as soon
    as ``ready()``; fail if it ends first or ``ready`` does not hold within ``timeout_s``."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    log_path = cwd / "interrupted.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.monotonic() + timeout_s
        try:
            while not ready():
                assert process.poll() is None, f"the command ended before {what}: " + log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
                time.sleep(poll_s)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
