"""Pausing Python's cyclic garbage collector while a batch is ingested.

A batch of 1,000 events allocates some 30 container objects per event (validated models, normalised
identities, rows, results) that all live until the batch is written and then die together, freed by
reference counting. With the collector running, those objects survive its young generations and are
promoted to the oldest one, so every few batches it runs a full collection over the whole heap (about
170 ms for a 270k-object process on the benchmark machine): a quarter of the ingest time. Paused for
the batch, the collector finds almost nothing new to promote. Cycles made meanwhile are collected once
it runs again.

The collector is process-wide, so overlapping batches (threads) share one pause: the first to enter
disables it, the last to leave enables it again (only if it was enabled before). Should batches keep
overlapping so that it never gets to run, a full collection is forced every ``MAX_PAUSE`` seconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE = 10.0  # seconds of back-to-back pauses before a collection is forced

_lock = threading.Lock()
_holders = 0
_resume = False  # was the collector enabled when the first holder paused it?
_since = 0.0  # when the collector last ran (or the pause began)


@contextmanager
def paused() -> Iterator[None]:
    global _holders, _resume, _since
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            _since = time.monotonic()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                if _resume:
                    gc.enable()
            elif _resume and time.monotonic() - _since > MAX_PAUSE:
                _since = time.monotonic()
                gc.collect()
