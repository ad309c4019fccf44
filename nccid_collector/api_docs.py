"""The OpenAPI document and its page: off unless an administrator starts with ``--api-docs``,
and then only for a signed-in user.

Why off: the document lists every route and limit, which helps whoever probes the service
more than the sites using it; the contract is docs/api.md. The page embeds the document, so a
browser needs no second (unauthenticated) request for it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>NCCID collection service API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="api"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({spec: %s, dom_id: "#api"});</script>
</body></html>"""


def install_api_docs(app: FastAPI, signed_in: Any) -> None:
    """Serve ``/openapi.json`` and ``/docs`` to callers that pass the ``signed_in`` dependency."""

    @app.get("/openapi.json", include_in_schema=False, name="api_docs",
             dependencies=[Depends(signed_in)])
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi(), headers={"Cache-Control": "no-store"})

    @app.get("/docs", include_in_schema=False, name="api_docs",
             dependencies=[Depends(signed_in)])
    def openapi_page() -> HTMLResponse:
        spec = json.dumps(app.openapi()).replace("</", "<\\/")
        return HTMLResponse(PAGE % spec, headers={"Cache-Control": "no-store"})
