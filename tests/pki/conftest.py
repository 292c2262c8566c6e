"""The SoftHSM2 fixture now lives in tests/softhsm.py (registered by tests/conftest.py)."""

from tests.softhsm import SoftHSMToken, softhsm_module

__all__ = ["SoftHSMToken", "softhsm_module"]
