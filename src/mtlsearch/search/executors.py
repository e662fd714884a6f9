"""How a round's evaluations run: in this process, or as Ray tasks on a cluster.

The search loop hands an executor a picklable evaluation call, submits combinations to it (up to
``search.batch_size`` at a time) and collects each result as soon as it is done, submitting the
next proposal in its place. With Ray, ``ray.init()`` without an
address starts a local cluster on this machine, and ``RAY_ADDRESS`` (or ``search.ray.address``)
joins an existing one; the call, with the evaluator and the data it holds, travels to the
workers through Ray's object store, and each evaluation is a task asking for
``search.ray.num_cpus`` CPUs and ``search.ray.num_gpus`` GPUs. A task whose worker dies is
retried up to ``search.ray.max_retries`` times; its interrupted MLflow run stays unfinished and
is never counted as an evaluation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from mtlsearch.errors import ConfigError
from mtlsearch.search.loop import InProcessExecutor

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS = ("local", "ray")


def _call(fn, item):
    return fn(item)


class RayPool:
    """Each submitted evaluation a Ray task; ``next_finished`` returns whichever is done first."""

    def __init__(self, remote, fn: Callable[[T], R]):
        import ray

        self._ray = ray
        self._remote = remote
        self._fn_ref = ray.put(fn)  # one copy in the object store, shared by every task
        self._pending: dict = {}

    def submit(self, item: T) -> None:
        self._pending[self._remote.remote(self._fn_ref, item)] = item

    def next_finished(self) -> tuple[T, R]:
        done, _ = self._ray.wait(list(self._pending), num_returns=1)
        item = self._pending.pop(done[0])
        return item, self._ray.get(done[0])

    def close(self) -> None:
        # the search stopped (budget, patience, an error): drop what is still running
        for ref in self._pending:
            self._ray.cancel(ref, force=True)
        self._pending.clear()


class RayExecutor:
    """Evaluations as Ray tasks asking for ``num_cpus`` and ``num_gpus`` each."""

    def __init__(self, num_cpus: float = 1, num_gpus: float = 0, max_retries: int = 2):
        import ray

        self._remote = ray.remote(_call).options(
            num_cpus=num_cpus, num_gpus=num_gpus, max_retries=int(max_retries), retry_exceptions=False
        )

    def start(self, fn: Callable[[T], R]) -> RayPool:
        return RayPool(self._remote, fn)


@contextmanager
def make_executor(settings) -> Iterator[object]:
    """The executor ``search.executor`` names, with the Ray cluster it needs while it is used."""
    name = getattr(settings, "executor", "local")
    if name not in EXECUTORS:
        raise ConfigError(f"search.executor: expected one of {EXECUTORS}, got {name!r}")
    if name == "local":
        yield InProcessExecutor()
        return
    import ray

    options: Mapping = dict(getattr(settings, "ray", {}) or {})
    started = False
    if not ray.is_initialized():
        address = options.get("address") or os.environ.get("RAY_ADDRESS")
        init = {"address": address, "include_dashboard": False, "log_to_driver": bool(options.get("log_to_driver", False))}
        if not address and options.get("local_num_cpus"):
            init["num_cpus"] = int(options["local_num_cpus"])
        ray.init(**{k: v for k, v in init.items() if v is not None})
        started = True
        log.info("ray: %s", ray.cluster_resources())
    try:
        yield RayExecutor(
            num_cpus=float(options.get("num_cpus", 1)),
            num_gpus=float(options.get("num_gpus", 0)),
            max_retries=int(options.get("max_retries", 2)),
        )
    finally:
        if started:
            ray.shutdown()
