"""Where cells run: this process, a local process pool, or a Dask cluster.

All three offer the same four verbs to the runner (``share``, ``submit``, ``wait_first``,
``close``) and return futures with ``.result()``, so the runner's batching and the numbers it
produces do not depend on the backend: a cell's result is a function of its model, parameters
and seed only.

* ``serial``: in this process, one cell after another; for debugging and for models so cheap
  that shipping them costs more than running them.
* ``local`` (default): a process pool on this machine, no server to start. Workers are forked
  from a *forkserver* that has already imported the simulation, so a pool starts in a fraction
  of a second, and no worker inherits the driver's threads (progress bar, Dask client).
* ``dask``: ``dask.distributed``; a ``LocalCluster`` of single-threaded worker processes when
  no address is given (the simulation holds the GIL, so one thread per process), else the
  scheduler at ``address``. Remote workers must run the same code: the backend compares their
  source hash and package versions (``experiments.storage.provenance``) with the driver's first.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from experiments.errors import BackendError
from experiments.storage.provenance import code_fingerprint

KINDS = ("local", "dask", "serial")
PRELOAD = ("experiments.engine.runner", "sim.model")
"""Modules the forkserver imports once, so that forked workers start warm."""
FAST_WORKERS = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.worker.memory.monitor-interval": "1s"}
"""LocalCluster settings that let a cell run as fast as in a plain process. Dask starts its
workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc return memory to the system
so eagerly that this allocation-heavy simulation runs ~27 % slower (measured: 1.13 s ->
1.44 s for a two-year baseline); ``None`` leaves glibc's own adaptive threshold. The others
switch off work a simulation has no use for: a stack sample every 10 ms, an event-loop tick
every 20 ms, a memory poll every 100 ms. Remote workers started by ``dask worker`` need the
first two in a Dask config file (see the README)."""
MAX_WORKERS = 256
"""The most worker processes a local pool starts (each holds a simulation in memory)."""
CONNECT_TIMEOUT_S = 20
ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss)://)?(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])"
                     r":(?P<port>\d{1,5})")
"""A scheduler address Dask can dial: ``[protocol://]host:port`` (an IPv6 host in brackets)."""
WATCH_INTERVAL_S = 1.0
"""How often a pool worker checks that its driver still lives."""


class Backend:
    """The runner's view of a pool of workers."""

    kind = "serial"
    workers = 1
    closed = False

    def describe(self) -> str:
        return "serial (this process)"

    def share(self, obj: Any) -> Any:
        """A handle to pass ``obj`` to many tasks (Dask ships it to each worker once)."""
        return obj

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        if self.closed:  # as a closed pool refuses new work
            raise BackendError(f"the {self.kind} backend is closed")
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - the future carries it to the runner
            future.set_exception(exc)
        return future

    def wait_first(self, futures: Iterable[Any]) -> list[Any]:
        """The futures that have finished, waiting until at least one has."""
        done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
        return list(done)

    def close(self) -> None:
        """Release the workers; running tasks are abandoned. The serial backend has no
        workers: it only stops taking tasks."""
        self.closed = True

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalBackend(Backend):
    kind = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=_context(),
                                            initializer=_start_worker, initargs=(os.getpid(),))

    def describe(self) -> str:
        return f"{self.workers} local worker{'s' if self.workers > 1 else ''}"

    def submit(self, fn: Callable, *args: Any) -> cf.Future:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    kind = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        self.address = address
        try:
            if address:
                self._client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
            else:
                with dask.config.set(FAST_WORKERS):
                    self._cluster = LocalCluster(
                        n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                        processes=True, dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        try:
            self.workers = sum(self._client.nthreads().values())
            if self.workers == 0:
                raise BackendError(f"the Dask scheduler at {address} has no workers")
            if address:
                _check_workers(self._client.run(code_fingerprint))
        except BaseException:
            self.close()
            raise

    def describe(self) -> str:
        where = f"Dask scheduler {self.address}" if self.address else "Dask LocalCluster"
        return f"{where}, {self.workers} worker thread{'s' if self.workers > 1 else ''}"

    def share(self, obj: Any) -> Any:
        return self._client.scatter(obj, broadcast=True, hash=False)

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self._client.submit(fn, *args, pure=False)

    def wait_first(self, futures: Iterable[Any]) -> list[Any]:
        from distributed import as_completed

        futures = list(futures)
        done = [f for f in futures if f.done()]
        if not done:  # this client's loop: there may be other clients in the process
            first = next(as_completed(futures, loop=self._client.loop))
            done = [first, *(f for f in futures if f is not first and f.done())]
        return done

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_backend(kind: str = "local", workers: int | None = None,
                 address: str | None = None) -> Backend:
    """A started backend; use it as a context manager so that its workers are released."""
    if kind not in KINDS:
        raise BackendError(f"unknown backend {kind!r}; choose one of {', '.join(KINDS)}")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise BackendError(f"--workers must be between 1 and {MAX_WORKERS} (got {workers})")
    if address and kind != "dask":
        raise BackendError("--address needs --backend dask")
    if address:
        check_address(address)
    if address and workers is not None:
        raise BackendError("--workers applies to local pools; a Dask scheduler at --address "
                           "uses the workers connected to it")
    if kind == "serial":
        return Backend()
    if kind == "local":
        return LocalBackend(workers)
    return DaskBackend(workers, address)


def check_address(address: str) -> None:
    """Refuse an address Dask could not dial before trying to (a malformed one stalls the
    client for its whole timeout and fails again while closing)."""
    match = ADDRESS.fullmatch(address)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise BackendError(f"--address must be tcp://HOST:PORT (got {address!r})")


def _check_workers(remote: dict[str, dict[str, str]]) -> None:
    here = code_fingerprint()
    for worker, theirs in sorted(remote.items()):
        diff = [f"{key} {theirs.get(key)} (here {value})" for key, value in here.items()
                if theirs.get(key) != value]
        if diff:
            raise BackendError(f"Dask worker {worker} runs different code: {', '.join(diff)}; "
                               "install the same xbsim and packages on every worker")


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return context


def _start_worker(driver: int) -> None:
    """Ignore Ctrl-C (the driver cancels the sweep and keeps finished parts) and exit when
    the driver dies: a pool worker killed with its driver (``kill -9``) would otherwise wait
    forever on its task queue, and keep the forkserver alive with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(driver,), daemon=True,
                     name="xbsim-driver-watch").start()


def _exit_with(driver: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL_S)
        try:
            os.kill(driver, 0)
        except (ProcessLookupError, PermissionError):  # gone, or its PID reused by another
            os._exit(1)
