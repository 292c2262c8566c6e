"""Transports to cards: PC/SC readers, transcript replay and recording, APDU trace logging.

Every class here implements :class:`idcard.transport.Transport`. The PC/SC transport needs the
optional extra ``idkarta[pcsc]`` (pyscard), imported on first use.
"""

from __future__ import annotations

from idcard.reader.atr import ATRInfo, CardCapabilities, parse_atr
from idcard.reader.logging import LoggingTransport, Mask, default_mask
from idcard.reader.pcsc import PCSCTransport, list_readers
from idcard.reader.replay import Recorder, ReplayTransport

__all__ = [
    "ATRInfo",
    "CardCapabilities",
    "LoggingTransport",
    "Mask",
    "PCSCTransport",
    "Recorder",
    "ReplayTransport",
    "default_mask",
    "list_readers",
    "parse_atr",
]
