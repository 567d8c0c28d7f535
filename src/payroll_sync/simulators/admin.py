"""What both simulators' apps are built from: the controlled app, the `/_admin/` routes it
serves (settings, request counts, whole state), JSON answers and bearer tokens.

- `GET /_admin/settings`, `PATCH /_admin/settings` (faults, rate limit, tokens; partial)
- `GET /_admin/requests[?log=1]`, `DELETE /_admin/requests` (counts by method and route)
- `GET /_admin/state`, `PUT /_admin/state` (the whole dataset, in the data-file format)
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from aiohttp import web

from payroll_sync.simulators.controls import (
    Controls,
    ErrorResponder,
    RateKey,
    SettingsPatch,
    control_middleware,
)

#: Largest request body the simulators accept: a whole company's state for `PUT /_admin/state`.
ADMIN_STATE_MAX_BYTES = 64 * 1024 * 1024

_encoder = msgspec.json.Encoder()
_patch_decoder = msgspec.json.Decoder(SettingsPatch)


def json_response(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        body=_encoder.encode(payload), status=status, content_type="application/json"
    )


def bearer_token(request: web.Request, header: str = "Authorization") -> str | None:
    """The token of a `Bearer <token>` header, or None when there is none."""
    scheme, _, token = request.headers.get(header, "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def controlled_app(
    controls: Controls,
    rate_key: RateKey,
    respond: ErrorResponder,
    dump_state: Callable[[], bytes],
    load_state: Callable[[bytes], None],
) -> web.Application:
    """A simulator's app, before its API routes: every API request goes through `controls`
    (answering the API's errors with `respond`), and the `/_admin/` routes are served."""
    app = web.Application(
        middlewares=[control_middleware(controls, rate_key, respond)],  # type: ignore[list-item]
        # `PUT /_admin/state` takes a whole company (thousands of rows), beyond aiohttp's 1 MiB.
        client_max_size=ADMIN_STATE_MAX_BYTES,
    )
    add_admin_routes(app, controls, dump_state, load_state)
    return app


def _bad_request(message: str) -> web.Response:
    return json_response({"error": "Bad Request", "message": message}, status=400)


def add_admin_routes(
    app: web.Application,
    controls: Controls,
    dump_state: Callable[[], bytes],
    load_state: Callable[[bytes], None],
) -> None:
    """`load_state` raises ValueError (with a message naming the field) on invalid data."""

    async def get_settings(_: web.Request) -> web.Response:
        return json_response(controls.settings)

    async def patch_settings(request: web.Request) -> web.Response:
        try:
            controls.update(_patch_decoder.decode(await request.read()))
        except (msgspec.DecodeError, ValueError) as exc:
            return _bad_request(str(exc))
        return json_response(controls.settings)

    async def get_requests(request: web.Request) -> web.Response:
        return json_response(controls.stats.report(request.query.get("log") == "1"))

    async def reset_requests(_: web.Request) -> web.Response:
        controls.stats = type(controls.stats)()
        return web.Response(status=204)

    async def get_state(_: web.Request) -> web.Response:
        return web.Response(body=dump_state(), content_type="application/json")

    async def put_state(request: web.Request) -> web.Response:
        try:
            load_state(await request.read())
        except ValueError as exc:  # msgspec's errors are ValueErrors too
            return _bad_request(str(exc))
        return web.Response(status=204)

    app.router.add_get("/_admin/settings", get_settings)
    app.router.add_patch("/_admin/settings", patch_settings)
    app.router.add_get("/_admin/requests", get_requests)
    app.router.add_delete("/_admin/requests", reset_requests)
    app.router.add_get("/_admin/state", get_state)
    app.router.add_put("/_admin/state", put_state)
