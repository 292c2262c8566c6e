"""The published OpenAPI document of the Center's API is the application's own, and says what
the points rely on (routes under /v1, the JSON error body)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from station.api import openapi_document

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "api" / "center-v1.openapi.json"


def test_the_openapi_document_is_current() -> None:
    spec = importlib.util.spec_from_file_location("genopenapi", ROOT / "tools" / "gen_openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert DOC.read_text(encoding="utf-8") == module.render(), (
        "run: PYTHONPATH=src python tools/gen_openapi.py"
    )


def test_the_document_lists_the_v1_routes_and_the_error_body() -> None:
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    assert doc == openapi_document()
    routes = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == {
        ("/v1/requests", "post"),
        ("/v1/cards/{card}", "get"),
        ("/v1/cards/{card}/status", "post"),
        ("/v1/cards/{card}/esign", "post"),
        ("/v1/cards/{card}/sod", "post"),
        ("/v1/persons/{pinfl}", "get"),
        ("/v1/points", "post"),
        ("/v1/status", "get"),
    }
    post = doc["paths"]["/v1/requests"]["post"]
    assert post["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    error = doc["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"type", "field", "message", "problems"}
    request = doc["components"]["schemas"]["RequestIn"]
    assert set(request["properties"]["ground"]["$ref"].split("/")[-1:]) == {"Ground"}
