"""Run history: in memory, or SQL (SQLite by default, any SQLAlchemy URL)."""

from __future__ import annotations

import os

from autolearn.storage._base import Storage, StudyExistsError, StudyInfo, StudyNotFoundError
from autolearn.storage.memory import InMemoryStorage
from autolearn.storage.sql import SQLStorage


def get_storage(storage: Storage | str | os.PathLike[str] | None) -> Storage:
    """The storage a user named, so every entry point accepts the same spellings.

    ``None`` → :class:`InMemoryStorage` (nothing is kept after the process ends); a path such as
    ``"run_dir/history.sqlite"`` or a ``"sqlite:///..."`` URL → a SQLite file (directory created); any other
    SQLAlchemy URL (``"postgresql+psycopg2://user:pw@host/db"``) → :class:`SQLStorage` on that database;
    a :class:`Storage` is returned as it is.
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        return SQLStorage(storage)
    raise TypeError(f"storage must be None, a path, a database URL or a Storage, not {type(storage).__name__}")


__all__ = ["InMemoryStorage", "SQLStorage", "Storage", "StudyExistsError", "StudyInfo", "StudyNotFoundError",
           "get_storage"]
