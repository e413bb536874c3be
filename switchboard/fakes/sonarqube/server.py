"""SonarQube's `GET /api/measures/component` on loopback, in SonarQube's shapes: measures
as strings, `{"errors": [{"msg": ...}]}` on errors, 401 with an empty body for a bad token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from switchboard.fakes.loopback import LoopbackServer, json_response


class FakeSonarQube(LoopbackServer):
    def __init__(self, token: str = "squ_test") -> None:
        super().__init__()
        self.token = token
        self.projects: dict[str, dict[str, str]] = {}  # key -> {metric: value as text}

    def error_body(self, status: int) -> dict[str, Any]:
        return {"errors": [{"msg": "Insufficient privileges" if status == 403 else "error"}]}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/measures/component", self._measures)]

    async def _measures(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)  # SonarQube says nothing more
        key = request.query.get("component", "")
        wanted = [m for m in request.query.get("metricKeys", "").split(",") if m]
        if not key or not wanted:
            missing = "component" if not key else "metricKeys"
            return json_response(
                {"errors": [{"msg": f"The '{missing}' parameter is missing"}]}, 400
            )
        project = self.projects.get(key)
        if project is None:
            return json_response({"errors": [{"msg": f"Component key '{key}' not found"}]}, 404)
        measures = [
            {"metric": m, "value": project[m], "bestValue": False} for m in wanted if m in project
        ]
        return json_response(
            {
                "component": {
                    "key": key,
                    "name": key,
                    "qualifier": "TRK",
                    "measures": measures,
                }
            }
        )
