"""Fixtures of the pki tests. The SoftHSM2 ones live in tests/softhsm.py (``softhsm_token`` is
registered by tests/conftest.py; the per-test ones are registered here).

File key stores write keys with scrypt at N = 2^17 (about half a second a key, more under load);
the pki tests run with the test-only cost N = 2^10, except where a test asks for
``full_scrypt_cost`` (tests/pki/test_pki_filestore.py checks the real default)."""

from collections.abc import Iterator

import pytest
from tests.softhsm import SoftHSMToken, fresh_softhsm_token, new_softhsm_token, softhsm_module

__all__ = ["SoftHSMToken", "fresh_softhsm_token", "new_softhsm_token", "softhsm_module"]

try:
    from pki.filestore import ScryptCost, test_only_scrypt_cost
except ImportError:  # older sources (a regression test run against main): nothing to lower
    test_only_scrypt_cost = None


@pytest.fixture(scope="session", autouse=True)
def _cheap_scrypt() -> Iterator[None]:
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
