"""Who the point is: its code, kind, place code and operators (``point.json`` of a station folder).

The point's kind decides which scheme it may accept (scheme, second scheme line 292: residents
apply only at "ichki ishlar organlarining migratsiya va fuqarolikni rasmiylashtirish
bo‘linmalari"); its operators and their roles decide who may approve a free replacement.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.domain.application import PointKind
from station.errors import UsageError
from station.point.errors import UnknownOperator

__all__ = ["CONFIG_NAME", "OperatorRole", "PointConfig"]

CONFIG_NAME = "point.json"

_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")


class OperatorRole(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and value):
        return value
    raise UsageError(f"point.{key}: not a non-empty text")


@dataclass(frozen=True, slots=True)
class PointConfig:
    """One collection point: ``operators`` maps each login to its role."""

    code: str
    name: str
    kind: PointKind
    place_code: str  # the region/district code the Center puts into new PINFLs (digits 8-10)
    operators: Mapping[str, OperatorRole] = field(default_factory=dict)
    center_tls: str | None = None
    """The folder of the point's TLS files for a served Center over https (``cert.pem``,
    ``key.pem``, ``ca.pem`` as ``idkarta pki point-ca issue --point`` writes them), relative
    to the station folder or absolute; None: no mutual TLS."""

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise UsageError(f"point.code: {self.code!r} is not 2-16 capitals, digits or '-'")
        if not (len(self.place_code) == 3 and self.place_code.isdigit()):
            raise UsageError(f"point.place_code: {self.place_code!r} is not 3 digits")
        if not self.name.strip():
            raise UsageError("point.name: empty")
        for login in self.operators:
            if not _LOGIN.fullmatch(login):
                raise UsageError(f"point.operators: {login!r} is not a login (a-z, 0-9, . _ -)")

    def role(self, login: str, *, field: str = "operator") -> OperatorRole:
        """The role of ``login`` at this point, or :class:`UnknownOperator` naming ``field``."""
        try:
            return self.operators[login]
        except KeyError:
            raise UnknownOperator(
                field, f"{login!r} is not an operator of point {self.code}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind.value,
                "place_code": self.place_code,
                "operators": {k: v.value for k, v in sorted(self.operators.items())},
                **({"center_tls": self.center_tls} if self.center_tls else {})}  # fmt: skip

    @classmethod
    def from_json(cls, data: object) -> PointConfig:
        if not isinstance(data, dict):
            raise UsageError("point: not a JSON object")
        try:
            operators = data.get("operators", {})
            if not isinstance(operators, dict):
                raise UsageError("point.operators: not an object")
            return cls(code=str(data["code"]), name=str(data["name"]),
                       kind=PointKind(data["kind"]), place_code=str(data["place_code"]),
                       operators={str(k): OperatorRole(v) for k, v in operators.items()},
                       center_tls=_optional_text(data, "center_tls"))
        except KeyError as exc:
            raise UsageError(f"point.{exc.args[0]}: missing") from None
        except ValueError as exc:
            raise UsageError(f"point: {exc}") from None

    @classmethod
    def load(cls, folder: Path) -> PointConfig:
        """The ``point.json`` of a station folder."""
        path = folder / CONFIG_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"{folder}: no {CONFIG_NAME} (run 'idkarta point init')") from None
        except OSError as exc:
            raise UsageError(f"{path}: {exc.strerror}") from None
        try:
            return cls.from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
