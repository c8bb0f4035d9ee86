"""Backends the storage tests run on: memory, a SQLite file, and PostgreSQL when a test server is configured."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from autolearn.storage import InMemoryStorage, SQLStorage, Storage
from autolearn.storage.sql import metadata

POSTGRES_ENV = "AUTOLEARN_TEST_POSTGRES_URL"


def postgres_url() -> str:
    """The test server's URL, or a skip that says how to enable these tests."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set, PostgreSQL storage tests skipped "
                    "(e.g. postgresql+psycopg2://autolearn:autolearn@localhost:5432/autolearn_test)")
    return url


def reset_postgres(url: str) -> None:
    """Drop our tables so each storage starts empty (the test database is ours alone)."""
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty SQL database: a SQLite file, or the PostgreSQL test database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    url = postgres_url()
    reset_postgres(url)
    return url


def storage_factory(backend: str, tmp_path: Path) -> tuple[Callable[[], Storage], Callable[[Storage], Storage] | None]:
    """(factory of empty storages, reopen over the same data) for ``backend``."""
    if backend == "memory":
        return InMemoryStorage, None
    if backend == "sqlite":
        paths = iter(tmp_path / f"h{i}.sqlite" for i in range(1000))
        return (lambda: SQLStorage(next(paths))), (lambda s: SQLStorage(s.url))
    url = postgres_url()

    def fresh() -> Storage:
        reset_postgres(url)
        return SQLStorage(url)

    return fresh, (lambda s: SQLStorage(s.url))


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storages(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Callable[[], Storage], Callable | None]:
    """(factory, reopen) on every backend."""
    return storage_factory(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_storages(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Callable[[], Storage], Callable]:
    """(factory, reopen) on the backends that keep data."""
    return storage_factory(request.param, tmp_path)
