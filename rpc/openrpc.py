"""Build the OpenRPC document for `rpc.discover` from the catalogue."""

from __future__ import annotations

from typing import Any

from . import API_VERSION
from .contract import METHODS, NOTIFICATIONS
from .errors import MESSAGES


def document(server_version: str) -> dict[str, Any]:
    methods = []
    for method in METHODS:
        params = [
            {
                "name": name,
                "required": name in method.required,
                "schema": schema,
                **({"description": schema["description"]} if "description" in schema else {}),
            }
            for name, schema in method.params.items()
        ]
        methods.append(
            {
                "name": method.name,
                "summary": method.summary,
                "paramStructure": "by-name",
                "params": params,
                "result": {"name": "result", "schema": method.result},
                "x-requires-scope": "admin" if method.admin else "read",
                "x-websocket-only": method.ws_only,
                "x-params-schema": method.params_schema,
            }
        )
    return {
        "openrpc": "1.2.6",
        "info": {"title": "Label Appliance", "version": API_VERSION, "x-server-version": server_version},
        "methods": methods,
        "components": {
            "errors": {str(code): {"code": code, "message": text} for code, text in MESSAGES.items()},
        },
        "x-notifications": [
            {"name": n.name, "topic": n.topic, "summary": n.summary} for n in NOTIFICATIONS
        ],
    }
