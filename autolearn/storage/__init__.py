"""Run history: in memory, or SQL (SQLite by default, any SQLAlchemy URL)."""

from autolearn.storage._base import Storage, StudyExistsError, StudyInfo, StudyNotFoundError

__all__ = ["Storage", "StudyExistsError", "StudyInfo", "StudyNotFoundError"]
