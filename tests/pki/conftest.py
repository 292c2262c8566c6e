"""Fixtures of the pki tests. The SoftHSM2 ones live in tests/softhsm.py (``softhsm_token`` is
registered by tests/conftest.py; the per-test ones are registered here); the scrypt cost of file
key stores in tests/scrypt_cost.py."""

from tests.softhsm import SoftHSMToken, fresh_softhsm_token, new_softhsm_token, softhsm_module

__all__ = ["SoftHSMToken", "fresh_softhsm_token", "new_softhsm_token", "softhsm_module"]
