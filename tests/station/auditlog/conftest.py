"""The SoftHSM2 token fixture (tests/softhsm.py) for the audit key's tests."""

from tests.softhsm import softhsm_module, softhsm_token

__all__ = ["softhsm_module", "softhsm_token"]
