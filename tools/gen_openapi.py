"""Regenerate docs/api/center-v1.openapi.json, the OpenAPI document of the Center's /v1 API
(run from the repo root). `tests/station/api/test_openapi.py` fails when it is out of date."""

from __future__ import annotations

import json
import sys
from pathlib import Path

PATH = Path("docs") / "api" / "center-v1.openapi.json"


def render() -> str:
    from station.api import openapi_document

    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    (root / PATH).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
