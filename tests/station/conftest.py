"""Registers the session's private pcscd (tests/pcsc_harness.py) for the station's CLI tests."""

from tests.pcsc_harness import pcscd

__all__ = ["pcscd"]
