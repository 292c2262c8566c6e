"""The file key store's scrypt cost in the test suite (registered by tests/conftest.py).

File key stores write keys with scrypt at N = 2^17 (128 MiB, about half a second a key, more
under load). The suite runs with the test-only cost N = 2^10 through
:func:`pki.filestore.test_only_scrypt_cost`; a test that asks for ``full_scrypt_cost`` gets the
real default (tests/pki/test_pki_filestore.py checks it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

try:
    from pki.filestore import ScryptCost, test_only_scrypt_cost
except ImportError:  # older sources (a regression test run against main): nothing to lower
    test_only_scrypt_cost = None


@pytest.fixture(scope="session", autouse=True)
def cheap_scrypt_cost() -> Iterator[None]:
    """The whole session writes key files with scrypt N = 2^10 (tests only)."""
    if test_only_scrypt_cost is None:
        yield
        return
    with test_only_scrypt_cost(ScryptCost(n=2**10)):
        yield


@pytest.fixture
def full_scrypt_cost() -> Iterator[None]:
    """The real scrypt cost for this test."""
    if test_only_scrypt_cost is None:
        yield
        return
    with test_only_scrypt_cost(None):
        yield
