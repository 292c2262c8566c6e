"""The SoftHSM2 fixtures live in tests/softhsm.py (``softhsm_token`` is registered by
tests/conftest.py; the per-test ones are registered here for the pki tests)."""

from tests.softhsm import SoftHSMToken, fresh_softhsm_token, new_softhsm_token, softhsm_module

__all__ = ["SoftHSMToken", "fresh_softhsm_token", "new_softhsm_token", "softhsm_module"]
