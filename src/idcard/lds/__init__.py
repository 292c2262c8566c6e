"""The Logical Data Structure (ICAO Doc 9303-10): every elementary file as a frozen dataclass.

Each class has ``NAME`` (the dump-folder file name), ``decode(bytes)``, ``encode()``,
``to_json()`` and keeps the exact bytes read in ``raw`` (what passive authentication hashes).
:data:`FILES` is the typed registry: file name → class, file identifier, short file identifier
and outer tag (Doc 9303-10 §4.6, Table 34); :func:`decode_file` dispatches through it.

The registry imports the security-object modules (EF.SOD, EF.CardAccess, EF.CardSecurity, DG14,
DG15) on first use, so that importing one data-group module stays cheap and free of cycles.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from idcard.errors import DecodeError
from idcard.lds.biometric import BiometricHeader, BiometricTemplate
from idcard.lds.com import DG_TAGS, EFCOM
from idcard.lds.dg1 import DG1
from idcard.lds.dg2 import DG2, FaceBiometric
from idcard.lds.dg3 import DG3, FingerBiometric
from idcard.lds.dg4 import DG4
from idcard.lds.dg11 import DG11, DateValue
from idcard.lds.dg12 import DG12
from idcard.lds.dg13 import DG6, DG8, DG9, DG10, DG13
from idcard.lds.dg16 import DG16, PersonToNotify
from idcard.lds.displayed import DG5, DG7
from idcard.lds.face import FaceImage, FaceImageDataBlock, FaceImageRecord, FeaturePoint
from idcard.lds.finger import FingerImage, FingerImageRecord

__all__ = [
    "FILES",
    "FILE_NAMES",
    "LDSFile",
    "LDSFileType",
    "by_fid",
    "by_tag",
    "decode_file",
    "EFCOM",
    "DG1",
    "DG2",
    "DG3",
    "DG4",
    "DG5",
    "DG6",
    "DG7",
    "DG8",
    "DG9",
    "DG10",
    "DG11",
    "DG12",
    "DG13",
    "DG16",
    "DG_TAGS",
    "BiometricHeader",
    "BiometricTemplate",
    "DateValue",
    "FaceBiometric",
    "FaceImage",
    "FaceImageDataBlock",
    "FaceImageRecord",
    "FeaturePoint",
    "FingerBiometric",
    "FingerImage",
    "FingerImageRecord",
    "PersonToNotify",
]


class LDSFile(Protocol):
    """What every LDS file class offers (STYLE.md §3)."""

    NAME: ClassVar[str]

    @property
    def raw(self) -> bytes: ...

    def encode(self) -> bytes: ...

    def to_json(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class LDSFileType:
    """One registry entry: how a file is named, addressed and decoded.

    ``fid`` is the file identifier and ``sfi`` the short file identifier (Doc 9303-10 §4.6.1
    Table 34); ``in_mf`` marks EF.CardAccess/EF.CardSecurity, which sit in the master file
    rather than the eMRTD application; ``tag`` is the outer tag (None for the CardAccess and
    CardSecurity files, which are a bare SET / ContentInfo).
    """

    name: str
    cls: type[Any]
    fid: int
    sfi: int
    tag: int | None
    in_mf: bool = False

    def decode(self, data: bytes) -> LDSFile:
        """``cls.decode(data)``."""
        decoded: LDSFile = self.cls.decode(bytes(data))
        return decoded


FILE_NAMES: tuple[str, ...] = (
    "EF.CardAccess",
    "EF.CardSecurity",
    "EF.COM",
    "EF.SOD",
    *(f"DG{n}" for n in range(1, 17)),
)
"""Every file name of a dump folder, in reading order."""


def _build() -> dict[str, LDSFileType]:
    from idcard.lds.dg14 import DG14
    from idcard.lds.dg15 import DG15
    from idcard.lds.security_infos import CardAccess, CardSecurity
    from idcard.lds.sod import SOD

    groups: list[type[Any]] = [
        DG1, DG2, DG3, DG4, DG5, DG6, DG7, DG8, DG9, DG10, DG11, DG12, DG13, DG14, DG15, DG16,
    ]  # fmt: skip
    files = {
        "EF.CardAccess": LDSFileType("EF.CardAccess", CardAccess, 0x011C, 0x1C, None, True),
        "EF.CardSecurity": LDSFileType("EF.CardSecurity", CardSecurity, 0x011D, 0x1D, None, True),
        "EF.COM": LDSFileType("EF.COM", EFCOM, 0x011E, 0x1E, EFCOM.TAG),
        "EF.SOD": LDSFileType("EF.SOD", SOD, 0x011D, 0x1D, 0x77),
    }
    for n, cls in enumerate(groups, start=1):
        name = f"DG{n}"
        files[name] = LDSFileType(name, cls, 0x0100 + n, n, DG_TAGS[name])
    return files


class _Registry(Mapping[str, LDSFileType]):
    """A read-only mapping that imports and builds the registry on first access."""

    def __init__(self) -> None:
        self._files: dict[str, LDSFileType] | None = None

    def _load(self) -> dict[str, LDSFileType]:
        if self._files is None:
            self._files = _build()
        return self._files

    def __getitem__(self, name: str) -> LDSFileType:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


FILES: Mapping[str, LDSFileType] = _Registry()
"""File name → :class:`LDSFileType`, for every file of the LDS (built on first access)."""


def by_tag(tag: int) -> LDSFileType:
    """The file whose outer tag is ``tag`` (0x61 → DG1, 0x77 → EF.SOD, …)."""
    for entry in FILES.values():
        if entry.tag == tag:
            return entry
    raise DecodeError(f"no LDS file has outer tag {tag:X}")


def by_fid(fid: int, *, in_mf: bool = False) -> LDSFileType:
    """The file with identifier ``fid`` in the eMRTD application (or the MF if ``in_mf``)."""
    for entry in FILES.values():
        if entry.fid == fid and entry.in_mf == in_mf:
            return entry
    raise DecodeError(f"no LDS file has identifier {fid:04X}")


def decode_file(name: str, data: bytes) -> LDSFile:
    """Decode ``data`` as the file called ``name`` ("EF.COM", "DG2", …).

    An unknown name is a DecodeError, as is any malformed content (with its offset).
    """
    entry = FILES.get(name)
    if entry is None:
        raise DecodeError(f"unknown LDS file name {name!r}")
    return entry.decode(data)
