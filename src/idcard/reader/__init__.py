"""Reading and personalizing cards: the whole-document reader, personalization over APDUs, and
the transports to cards (PC/SC readers, transcript replay and recording, APDU trace logging).

:func:`read_document` reads a document (ICAO 9303-11 access control, Chip/Terminal/Active
Authentication, every file) into a :class:`ReadResult`; :func:`personalize` writes and locks a
blank chip. Every transport here implements :class:`idcard.transport.Transport`. The PC/SC
transport needs the optional extra ``idkarta[pcsc]`` (pyscard), imported on first use.
"""

from __future__ import annotations

from idcard.reader.atr import ATRInfo, CardCapabilities, parse_atr
from idcard.reader.document import ProtocolRun, ReadResult, TerminalCredentials, read_document
from idcard.reader.logging import LoggingTransport, Mask, SMTraceDecoder, default_mask
from idcard.reader.pcsc import PCSCTransport, list_readers
from idcard.reader.personalize import CardLockedError, PersonalizationError, personalize
from idcard.reader.replay import Recorder, ReplayTransport

__all__ = [
    "ATRInfo",
    "CardCapabilities",
    "CardLockedError",
    "LoggingTransport",
    "Mask",
    "PCSCTransport",
    "PersonalizationError",
    "ProtocolRun",
    "ReadResult",
    "Recorder",
    "ReplayTransport",
    "SMTraceDecoder",
    "TerminalCredentials",
    "default_mask",
    "list_readers",
    "parse_atr",
    "personalize",
    "read_document",
]
