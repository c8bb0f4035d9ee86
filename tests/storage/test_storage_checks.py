"""Every storage passes the conformance checks of autolearn.testing.storage."""

import pytest

from autolearn.testing.storage import CHECKS, check_persistence


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_storage_check(storages, check):
    factory, _ = storages
    check(factory)


def test_persistence(sql_storages):
    factory, reopen = sql_storages
    check_persistence(factory, reopen)
