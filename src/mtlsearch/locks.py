"""Stores shared by several processes on this machine (the MLflow store, the Optuna storage):
their lock files, and creating a new one once."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def lock_path(uri: str, suffix: str = ".mtlsearch.lock") -> Path:
    """One lock file per store: beside a sqlite file, else in the temp folder."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///"):]).with_suffix(suffix)
    return Path(tempfile.gettempdir()) / f"mtlsearch-{hashlib.sha256(uri.encode()).hexdigest()[:16]}{suffix}"


def create_once(uri: str, create: Callable[[], T], attempts: int = 20, delay_s: float = 0.5,
                suffix: str = ".mtlsearch.lock") -> T:
    """``create()`` under the store's lock file, retried while another client (``mlflow ui``,
    optuna-dashboard, a second search) is creating the same new sqlite file: neither MLflow's
    migrations nor Optuna's table creation guard against a second process."""
    from filelock import FileLock

    with FileLock(str(lock_path(uri, suffix))):
        for attempt in range(attempts):
            try:
                return create()
            except Exception as exc:  # noqa: BLE001 - a racing creation; the last one is raised
                if attempt == attempts - 1:
                    raise
                log.info("the store %s is being created by another client (%s): retrying", uri,
                         type(exc).__name__)
                time.sleep(delay_s)
    raise AssertionError("unreachable")  # the loop returns or raises
