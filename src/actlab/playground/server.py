"""The playground's web server: the page, a JSON API, uploads, exports and one WebSocket per tab.

Protocol (WebSocket ``/ws``, JSON text messages). The page sends objects with a ``type``:
``{"type": "configure", "settings": {...}}`` (a partial update), ``{"type": "play"}``, ``"pause"``,
``"step"`` (one epoch) and ``"reset"``. The server answers ``hello`` (session id, settings, limits),
``settings`` (accepted settings), ``data`` (the points, when the data set changes), ``frame`` (see
``Engine.frame``; ``playing`` says whether more follow) and ``error`` (``errors`` maps each bad field to
a message; ``message`` for whole-message problems). A bad message never changes the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import torch
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.websockets import WebSocketDisconnect, WebSocketState

import actlab
from actlab.playground.data import FEATURE_LABELS, UploadError, UploadStore, load_points
from actlab.playground.engine import Engine, activation_curve
from actlab.playground.export import python_code, state_dict_bytes
from actlab.playground.settings import (
    BUILTIN_DATASETS,
    FEATURES,
    INITS,
    OPTIMIZERS,
    REGULARIZATIONS,
    Limits,
    Settings,
    SettingsError,
    hidden_activation_names,
    validate_settings,
)

MESSAGE_TYPES = ("configure", "play", "pause", "step", "reset")
STATIC = resources.files("actlab.playground") / "static"


@dataclass
class Session:
    """One tab: its settings, its engine, whether it is playing, and when it was last used."""

    id: str
    settings: Settings
    engine: Engine
    lock: threading.Lock = field(default_factory=threading.Lock)
    playing: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    socket: Any = None  # the tab's WebSocket, so that an expired session can be closed


class TooManySessions(RuntimeError):
    pass


class Playground:
    """Server state: the sessions (bounded, idle ones closed) and the uploaded data sets."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sessions: dict[str, Session] = {}
        self.uploads = UploadStore(limits.max_uploads)
        self.uploads_lock = threading.Lock()

    def make_engine(self, settings: Settings) -> Engine:
        with self.uploads_lock:
            points = load_points(
                settings.dataset,
                settings.seed,
                settings.n_points,
                settings.noise,
                self.uploads,
                settings.train_ratio,
            )
        return Engine(settings, points)

    def open_session(self) -> Session:
        self.expire_idle()
        if len(self.sessions) >= self.limits.max_sessions:
            raise TooManySessions(
                f"this server already runs {len(self.sessions)} sessions (its limit); close another tab "
                "or start the server with a higher --max-sessions"
            )
        settings = Settings()
        session = Session(secrets.token_urlsafe(16), settings, self.make_engine(settings))
        self.sessions[session.id] = session
        return session

    def close_session(self, session: Session) -> None:
        session.closed = True
        session.wake.set()
        self.sessions.pop(session.id, None)

    def expire_idle(self, now: float | None = None) -> list[Session]:
        """Close sessions untouched for ``idle_timeout_s`` (a playing session counts as in use)."""
        now = time.monotonic() if now is None else now
        stale = [
            s
            for s in self.sessions.values()
            if not s.playing and now - s.last_seen > self.limits.idle_timeout_s
        ]
        for s in stale:
            self.close_session(s)
        return stale

    def dataset_ids(self) -> set[str]:
        with self.uploads_lock:
            return self.uploads.keys()


def catalogue() -> dict[str, Any]:
    """Every catalogue entry for the page's menus; hidden layers take the elementwise ones."""
    entries = []
    for name in actlab.names():
        info = actlab.spec(name).info()
        entries.append(
            {
                k: info[k]
                for k in (
                    "name",
                    "family",
                    "kind",
                    "summary",
                    "formula",
                    "derivative_formula",
                    "aliases",
                    "properties",
                )
            }
        )
    return {"activations": entries, "hidden": hidden_activation_names()}


def create_app(limits: Limits | None = None) -> FastAPI:
    """The playground application; serve it with uvicorn (``actlab.playground.serve``)."""
    limits = limits or Limits()
    state = Playground(limits)
    torch.set_num_threads(1)  # tiny networks: threads cost more than they give, and tabs share the cores
    app = FastAPI(title="actlab playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.playground = state
    curve_cache: dict[str, dict[str, Any]] = {}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/api/config")
    def config() -> dict[str, Any]:
        return {
            **catalogue(),
            "datasets": BUILTIN_DATASETS,
            "features": [{"name": f, "label": FEATURE_LABELS[f]} for f in FEATURES],
            "optimizers": list(OPTIMIZERS),
            "regularizations": list(REGULARIZATIONS),
            "inits": list(INITS),
            "defaults": Settings().as_dict(),
            "limits": limits.as_dict(),
            "version": actlab.__version__,
        }

    @app.get("/api/activation/{name}")
    def activation(name: str) -> dict[str, Any]:
        if len(name) > 64:
            raise HTTPException(400, "activation name too long")
        try:
            canonical = actlab.spec(name).name
        except ValueError as err:
            raise HTTPException(404, str(err)) from None
        if canonical not in curve_cache:
            curve_cache[canonical] = activation_curve(canonical)
        return curve_cache[canonical]

    @app.post("/api/upload")
    async def upload(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limits.max_upload_bytes):
            return _too_large(limits)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limits.max_upload_bytes:
                return _too_large(limits)

        def add() -> tuple[str, Any]:
            with state.uploads_lock:
                return state.uploads.add(
                    bytes(body), max_rows=limits.max_upload_rows, max_classes=limits.max_classes
                )

        try:
            key, points = await asyncio.to_thread(add)
        except UploadError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return JSONResponse(
            {
                "dataset": key,
                "kind": points.kind,
                "rows": len(points.y),
                "n_classes": points.n_classes,
                "label_names": points.label_names,
            }
        )

    def _session(sid: str) -> Session:
        session = state.sessions.get(sid)
        if session is None:
            raise HTTPException(404, "no such session (sessions end when their tab closes)")
        return session

    @app.get("/api/session/{sid}/model.safetensors")
    def export_weights(sid: str) -> Response:
        session = _session(sid)
        with session.lock:
            data = state_dict_bytes(session.engine)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": 'attachment; filename="playground_model.safetensors"'},
        )

    @app.get("/api/session/{sid}/model.py")
    def export_code(sid: str) -> PlainTextResponse:
        session = _session(sid)
        with session.lock:
            code = python_code(session.engine)
        return PlainTextResponse(
            code, headers={"Content-Disposition": 'attachment; filename="playground_model.py"'}
        )

    @app.websocket("/ws")
    async def websocket(ws: WebSocket) -> None:
        await ws.accept()
        await close_expired()
        try:
            session = await asyncio.to_thread(state.open_session)
        except TooManySessions as err:
            await ws.send_text(json.dumps({"type": "error", "message": str(err)}))
            await ws.close(code=1013)
            return
        session.socket = ws
        send_lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with send_lock:
                if ws.client_state == WebSocketState.CONNECTED:
                    await ws.send_text(json.dumps(message, allow_nan=False))

        async def render(train: bool) -> dict[str, Any]:
            def work() -> dict[str, Any]:
                with session.lock:
                    if train:
                        session.engine.advance(budget_s=0.6 / limits.max_fps)
                    return session.engine.frame()

            frame = await asyncio.to_thread(work)
            frame["playing"] = session.playing
            return frame

        async def player() -> None:
            loop = asyncio.get_running_loop()
            while not session.closed:
                if not session.playing:
                    session.wake.clear()
                    await session.wake.wait()
                    continue
                start = loop.time()
                await send(await render(train=True))
                await asyncio.sleep(max(0.0, 1.0 / limits.max_fps - (loop.time() - start)))

        await send(
            {
                "type": "hello",
                "session": session.id,
                "settings": session.settings.as_dict(),
                "limits": limits.as_dict(),
            }
        )
        await send(session.engine.data_message())
        await send(await render(train=False))
        player_task = asyncio.create_task(player())
        try:
            while not session.closed:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                session.last_seen = time.monotonic()
                reply = await handle(session, message)
                for item in reply:
                    await send(item)
        except WebSocketDisconnect:
            pass
        finally:
            state.close_session(session)
            player_task.cancel()
            try:
                await player_task
            except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                pass
            if ws.client_state == WebSocketState.CONNECTED:
                try:
                    await ws.close()
                except RuntimeError:
                    pass

    async def handle(session: Session, message: dict[str, Any]) -> list[dict[str, Any]]:
        text = message.get("text")
        if text is None:
            return [_error("send JSON text messages, not binary frames")]
        if len(text) > limits.max_message_bytes:
            return [
                _error(f"message of {len(text)} characters is over the limit of {limits.max_message_bytes}")
            ]
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return [_error("malformed JSON")]
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            return [_error('a message is a JSON object with a "type"')]
        kind = data["type"]
        if kind not in MESSAGE_TYPES:
            return [_error(f"unknown message type {kind[:40]!r}; use one of {', '.join(MESSAGE_TYPES)}")]
        extra = set(data) - ({"type", "settings"} if kind == "configure" else {"type"})
        if extra:
            return [
                _error(f"unknown field(s) in a {kind} message: {', '.join(sorted(map(str, extra)))[:200]}")
            ]
        if kind == "configure":
            return await configure(session, data.get("settings"))
        if kind == "play":
            session.playing = True
            session.wake.set()
            return []
        if kind == "pause":
            session.playing = False
            return [await asyncio.to_thread(_frame, session)]
        if kind == "step":
            session.playing = False

            def one_epoch() -> dict[str, Any]:
                with session.lock:
                    session.engine.advance()
                    frame = session.engine.frame()
                frame["playing"] = False
                return frame

            return [await asyncio.to_thread(one_epoch)]
        # reset: same settings, fresh weights
        return await rebuild(session, session.settings)

    async def configure(session: Session, raw: Any) -> list[dict[str, Any]]:
        if raw is None:
            return [_error('a configure message needs "settings"')]
        try:
            settings = validate_settings(raw, limits, base=session.settings, datasets=state.dataset_ids())
        except SettingsError as err:
            return [{"type": "error", "errors": err.errors, "settings": session.settings.as_dict()}]
        old = session.settings
        if settings.network_key() == old.network_key():
            with session.lock:
                session.engine.update_training(settings)
                session.settings = settings
            return [{"type": "settings", "settings": settings.as_dict()}]
        return await rebuild(session, settings)

    async def rebuild(session: Session, settings: Settings) -> list[dict[str, Any]]:
        try:
            engine = await asyncio.to_thread(state.make_engine, settings)
        except ValueError as err:  # an upload dropped from the store meanwhile
            return [
                {"type": "error", "errors": {"dataset": str(err)}, "settings": session.settings.as_dict()}
            ]
        with session.lock:
            session.engine = engine
            session.settings = settings
        replies = [{"type": "settings", "settings": settings.as_dict()}]
        # the features or the split can change the points' roles: send the data on every rebuild
        replies.append(engine.data_message())
        replies.append(await asyncio.to_thread(_frame, session))
        return replies

    def _frame(session: Session) -> dict[str, Any]:
        with session.lock:
            frame = session.engine.frame()
        frame["playing"] = session.playing
        return frame

    async def close_expired() -> None:
        for session in state.expire_idle():
            await _close_socket(
                session, f"session closed after {limits.idle_timeout_s:g} s idle; reload the page"
            )

    async def janitor() -> None:
        while True:
            await asyncio.sleep(min(30.0, limits.idle_timeout_s / 2))
            await close_expired()

    app.state.close_expired = close_expired
    app.router.lifespan_context = _lifespan(janitor, state)
    return app


def _lifespan(janitor: Any, state: Playground) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(janitor())
        # build one engine before serving: the first tab then opens without the catalogue's first load
        await asyncio.to_thread(state.make_engine, Settings())
        try:
            yield
        finally:
            task.cancel()
            for session in list(state.sessions.values()):
                state.close_session(session)

    return lifespan


async def _close_socket(session: Session, reason: str) -> None:
    ws = session.socket
    if ws is None or ws.client_state != WebSocketState.CONNECTED:
        return
    try:
        await ws.send_text(json.dumps({"type": "error", "message": reason}))
        await ws.close(code=1001)
    except (RuntimeError, WebSocketDisconnect):
        pass


def _error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message}


def _too_large(limits: Limits) -> JSONResponse:
    return JSONResponse(
        {"error": f"upload over the limit of {limits.max_upload_bytes} bytes"}, status_code=413
    )
