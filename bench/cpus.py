"""Which CPUs the benchmarks' servers and load generators run on."""

from __future__ import annotations

import os
from contextlib import contextmanager


def cpu_split() -> tuple[set[int], set[int]] | None:
    """The CPUs for the servers and for the load generator: the first one and the others, where the machine has
    two or more and the system can pin processes (None: nothing is pinned). Unpinned, the bare page's rate jumped
    between about 400 and 2,300 requests per second from one window to the next on the same server, as the
    threads' hand-offs of the interpreter lock crossed cores or not; pinned, it stayed within 3 %."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return ({cpus[0]}, set(cpus[1:])) if len(cpus) >= 2 else None


def pin_load_generator() -> None:
    """Move this process (the load generator, and every thread it starts from now on) off the servers' CPU."""
    if SPLIT:
        os.sched_setaffinity(0, SPLIT[1])
        print(f"Servers on CPU {sorted(SPLIT[0])}, load generator on CPU {sorted(SPLIT[1])}", flush=True)


def pinning() -> dict | None:
    """The split, for the results file."""
    return {"servers": sorted(SPLIT[0]), "load": sorted(SPLIT[1])} if SPLIT else None


@contextmanager
def servers_pinned():
    """Start server processes in this block on the servers' CPU: a child keeps the affinity it is forked with."""
    if not SPLIT:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, SPLIT[0])
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


SPLIT = cpu_split()  # taken once, before this process pins itself to the load generator's CPUs
