"""The Center's HTTP API (``/v1``, FastAPI): :func:`create_app` over a Center database."""

from station.api.app import API_VERSION, create_app, openapi_document

__all__ = ["API_VERSION", "create_app", "openapi_document"]
