"""Validation predictions of finished trials, kept within a memory cap, for building the ensemble.

A long search finishes thousands of trials and every one has an (n_valid, C) prediction matrix; keeping
them all in RAM is what makes AutoML systems run out of memory on wide multiclass data. So the store:

* keeps predictions as float32 (half the memory of float64; ensemble selection averages them and the
  metric differences it resolves are far above float32 resolution);
* keeps the *best* predictions in memory up to ``memory_limit_mb`` and spills the rest to ``.npy`` files
  in a private folder under ``spill_dir``, read back memory-mapped (the OS pages them in on demand);
  with ``spill_dir=None`` the predictions that don't fit are dropped instead;
* keeps at most ``max_per_family`` predictions per model family, dropping the worst: ensembles gain
  from diverse families, rarely from the 40th-best configuration of the same one.

``close()`` (or garbage collection, or interpreter exit) removes the spill folder.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import threading
import weakref
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class _Entry:
    trial_id: Hashable
    family: str
    loss: float
    order: int  # insertion order: breaks ties between equal losses, earlier first
    array: np.ndarray | None  # in memory, or None when spilled
    path: Path | None  # the spill file, or None when in memory
    nbytes: int

    @property
    def key(self) -> tuple[float, int]:
        return (self.loss, self.order)


class PredictionStore:
    """Per-trial validation predictions with a memory cap, spilling and a per-family limit.

    Parameters
    ----------
    memory_limit_mb : float
        Memory for predictions held in RAM (0 spills everything).
    spill_dir : path or None
        Where spill files go (a private sub-folder is created on first spill); ``None`` drops the
        predictions that don't fit instead.
    max_per_family : int or None
        Keep at most this many predictions per model family (the best ones).

    Example
    -------
    >>> store = PredictionStore(memory_limit_mb=512, spill_dir=None)
    >>> store.add(7, "lightgbm", 0.21, np.full((3, 2), 0.5))
    True
    >>> store.candidates(n_best=10)
    [7]
    """

    def __init__(self, memory_limit_mb: float, spill_dir: Path | str | None, max_per_family: int | None = None):
        if memory_limit_mb < 0:
            raise ValueError(f"memory_limit_mb must be non-negative, got {memory_limit_mb}")
        if max_per_family is not None and max_per_family < 1:
            raise ValueError(f"max_per_family must be at least 1, got {max_per_family}")
        self.memory_limit_mb = float(memory_limit_mb)
        self.spill_dir = None if spill_dir is None else Path(spill_dir)
        self.max_per_family = max_per_family
        self._entries: dict[Hashable, _Entry] = {}
        self._shape: tuple[int, ...] | None = None
        self._in_memory = 0  # bytes
        self._counter = 0
        self._folder: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._lock = threading.RLock()
        self._closed = False

    # -- the interface ---------------------------------------------------------------------------
    def add(self, trial_id: Hashable, family: str, loss: float, prediction: np.ndarray) -> bool:
        """Store a trial's prediction; False when it is not kept (non-finite loss, worse than the
        ``max_per_family`` best of its family, or no room and no ``spill_dir``). Re-adding a trial id
        replaces its prediction."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the prediction store is closed")
            array = np.array(prediction, dtype=np.float32, order="C", copy=True)
            if self._shape is not None and array.shape != self._shape and self._entries:
                raise ValueError(f"prediction of trial {trial_id!r} has shape {array.shape}; the store holds "
                                 f"{self._shape} (use one store per validation set)")
            if not math.isfinite(loss):
                return False
            if trial_id in self._entries:
                self.drop(trial_id)
            self._shape = array.shape
            array.flags.writeable = False
            entry = _Entry(trial_id, family, float(loss), self._counter, array, None, array.nbytes)
            self._counter += 1

            if self.max_per_family is not None:
                family_entries = [e for e in self._entries.values() if e.family == family]
                if len(family_entries) >= self.max_per_family:
                    worst = max(family_entries, key=lambda e: e.key)
                    if entry.key > worst.key:
                        return False
                    self.drop(worst.trial_id)
            return self._place(entry)

    def get(self, trial_id: Hashable) -> np.ndarray:
        """The stored float32 prediction (read-only; memory-mapped when spilled)."""
        with self._lock:
            entry = self._entries[trial_id]
            if entry.array is not None:
                return entry.array
            assert entry.path is not None
            return np.load(entry.path, mmap_mode="r")

    def candidates(self, n_best_per_family: int | None = None, n_best: int | None = None) -> list[Hashable]:
        """Trial ids, best (lowest loss) first: at most ``n_best_per_family`` per family, then the
        ``n_best`` best of those. Capping per family first keeps the library diverse."""
        with self._lock:
            ranked = sorted(self._entries.values(), key=lambda e: e.key)
        if n_best_per_family is not None:
            seen: dict[str, int] = {}
            kept = []
            for entry in ranked:
                if seen.get(entry.family, 0) < n_best_per_family:
                    seen[entry.family] = seen.get(entry.family, 0) + 1
                    kept.append(entry)
            ranked = kept
        ids = [entry.trial_id for entry in ranked]
        return ids if n_best is None else ids[:n_best]

    def drop(self, trial_id: Hashable) -> None:
        """Forget a trial (and delete its spill file); freed memory goes to the best spilled ones."""
        with self._lock:
            entry = self._entries.pop(trial_id, None)
            if entry is None:
                return
            if entry.array is not None:
                self._in_memory -= entry.nbytes
            if entry.path is not None:
                entry.path.unlink(missing_ok=True)
            self._promote()

    def close(self) -> None:
        """Forget everything and remove the spill folder."""
        with self._lock:
            self._entries.clear()
            self._in_memory = 0
            self._closed = True
            if self._cleanup is not None:
                self._cleanup()

    # -- inspection ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, trial_id: object) -> bool:
        return trial_id in self._entries

    def __enter__(self) -> PredictionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def loss(self, trial_id: Hashable) -> float:
        return self._entries[trial_id].loss

    def family(self, trial_id: Hashable) -> str:
        return self._entries[trial_id].family

    def is_spilled(self, trial_id: Hashable) -> bool:
        return self._entries[trial_id].array is None

    @property
    def memory_mb(self) -> float:
        """Megabytes of predictions currently held in RAM."""
        return self._in_memory / 2**20

    @property
    def folder(self) -> Path | None:
        """The private spill folder (None until the first spill)."""
        return self._folder

    # -- placement -------------------------------------------------------------------------------
    @property
    def _limit(self) -> int:
        return int(self.memory_limit_mb * 2**20)

    def _place(self, entry: _Entry) -> bool:
        """Keep the best predictions in memory: evict worse in-memory ones to make room, or send the
        new one to disk when it is the worst."""
        while self._in_memory + entry.nbytes > self._limit:
            resident = [e for e in self._entries.values() if e.array is not None]
            worst = max(resident, key=lambda e: e.key, default=None)
            if worst is None or worst.key < entry.key:
                if not self._spill(entry):
                    return False
                self._entries[entry.trial_id] = entry
                return True
            if not self._spill(worst):
                del self._entries[worst.trial_id]
            self._in_memory -= worst.nbytes
        self._entries[entry.trial_id] = entry
        self._in_memory += entry.nbytes
        return True

    def _spill(self, entry: _Entry) -> bool:
        """Write an entry's array to disk and free it; False without a spill directory."""
        if self.spill_dir is None:
            return False
        assert entry.array is not None
        if self._folder is None:
            self.spill_dir.mkdir(parents=True, exist_ok=True)
            self._folder = Path(tempfile.mkdtemp(prefix="predictions-", dir=self.spill_dir))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        entry.path = self._folder / f"{entry.order}.npy"
        np.save(entry.path, entry.array)
        entry.array = None
        return True

    def _promote(self) -> None:
        """Load the best spilled predictions back while they fit in memory."""
        spilled = sorted((e for e in self._entries.values() if e.array is None), key=lambda e: e.key)
        for entry in spilled:
            if self._in_memory + entry.nbytes > self._limit:
                break
            assert entry.path is not None
            array = np.load(entry.path)
            array.flags.writeable = False
            entry.path.unlink(missing_ok=True)
            entry.array, entry.path = array, None
            self._in_memory += entry.nbytes
