"""Where large files are scanned: on this machine (local), or on a Dask cluster (dask).

`civicgen validate`, `stats` and `build` take `--engine local|dask` (the plugin's `engine`
option in mkdocs.yml) and `--scheduler ADDRESS`. With dask, a file of the work tree at
least two partitions long is cut into partitions at row boundaries and each is scanned by
the compiled kernel on a worker (partitions.py); smaller files, and files of a git
revision (which workers cannot read), are scanned here.

The scheduler's address comes from the command line or the CIVICGEN_SCHEDULER variable,
never from mkdocs.yml: a pull request edits that file, and a scheduler of its choosing
would send this process results to unpickle. Without one, a cluster of one worker process
per core starts on this machine, listening on 127.0.0.1 only. Dask is imported only here,
only with the dask engine (`pip install civicgen[dask]`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from ..config import ENGINES, PARTITION_BYTES
from ..exceptions import CivicgenException

SCHEDULER_VARIABLE = "CIVICGEN_SCHEDULER"
CONNECT_SECONDS = 30
NO_WORKERS_TIMEOUT = "300s"  # a task with no worker left to run it fails then, not never


@dataclass(frozen=True)
class Cluster:
    """A connected Dask client and how large a file's partitions are."""

    client: Any  # distributed.Client
    partition_bytes: int = PARTITION_BYTES


CURRENT: ContextVar[Cluster | None] = ContextVar("civicgen_cluster", default=None)
DECIDED: ContextVar[bool] = ContextVar("civicgen_engine_decided", default=False)


def current() -> Cluster | None:
    """The cluster this run scans on, or None: this machine."""
    return CURRENT.get()


@contextmanager
def scanning_on(
    engine: str = "local",
    scheduler: str | None = None,
    partition_bytes: int = PARTITION_BYTES,
    decided: bool = False,
) -> Iterator[Cluster | None]:
    """Scan on the engine while inside (local: nothing to start). decided: the engine was
    chosen on the command line, and an engine named inside (mkdocs.yml's) does not count."""
    if engine not in ENGINES:
        raise CivicgenException(f'unknown engine "{engine}"; use one of: {", ".join(ENGINES)}')
    if DECIDED.get() or CURRENT.get() is not None:  # chosen outside, or a cluster in use
        yield CURRENT.get()
        return
    if partition_bytes < 1:
        raise CivicgenException("the partition size must be at least one byte")
    chosen = DECIDED.set(decided)
    try:
        if engine == "local":
            yield None
            return
        with connected(scheduler or os.environ.get(SCHEDULER_VARIABLE) or None) as client:
            token = CURRENT.set(Cluster(client, partition_bytes))
            try:
                yield CURRENT.get()
            finally:
                CURRENT.reset(token)
    finally:
        DECIDED.reset(chosen)


@contextmanager
def connected(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at that address, or of a cluster started on this machine."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CivicgenException(
            "the dask engine needs Dask's distributed scheduler: pip install 'civicgen[dask]'"
        ) from None
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler is None:
        import dask

        from .parallel import cores

        with dask.config.set({"distributed.scheduler.no-workers-timeout": NO_WORKERS_TIMEOUT}):
            cluster = LocalCluster(n_workers=cores(), threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address="127.0.0.1:0")  # fmt: skip
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise CivicgenException(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address, "
            "or leave --scheduler out to start a cluster on this machine"
        ) from None
    with client:
        yield client
