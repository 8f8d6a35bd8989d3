import json
import runpy

import pytest
import torch
from starlette.websockets import WebSocketDisconnect

import actlab
from actlab.playground import Limits, create_app


def receive(ws, kind: str, limit: int = 50) -> dict:
    """The next message of type ``kind`` (frames of a playing session may come in between)."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def opened(ws) -> dict:
    hello = receive(ws, "hello")
    receive(ws, "data")
    receive(ws, "frame")
    return hello


def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "actlab playground" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: everything ships in the package


def test_config_lists_the_whole_catalogue(client):
    config = client.get("/api/config").json()
    assert [a["name"] for a in config["activations"]] == actlab.names()
    assert config["hidden"] == [n for n in actlab.names() if actlab.spec(n).kind == "elementwise"]
    assert {"circle", "xor", "gauss", "spiral", "moons", "plane"} <= set(config["datasets"])
    assert config["limits"]["max_layers"] == 6 and config["limits"]["max_width"] == 8


def test_activation_curve_endpoint(client):
    curve = client.get("/api/activation/tanh").json()
    x = torch.tensor(curve["x"], dtype=torch.float64)
    assert torch.allclose(torch.tensor(curve["f"], dtype=torch.float64), torch.tanh(x), atol=1e-6)
    missing = client.get("/api/activation/tanhh")
    assert missing.status_code == 404 and "tanh" in missing.json()["detail"]
    assert client.get("/api/activation/" + "x" * 100).status_code == 400


def test_websocket_session_trains_and_reports(client):
    with client.websocket_connect("/ws") as ws:
        hello = opened(ws)
        assert hello["settings"]["activations"] == ["tanh", "tanh"]
        ws.send_json({"type": "configure", "settings": {"n_points": 100, "activations": ["sigmoid", "tanh"]}})
        assert receive(ws, "settings")["settings"]["activations"] == ["sigmoid", "tanh"]
        data = receive(ws, "data")
        assert len(data["train"]["x"]) == 50 and data["output"] == "sigmoid"
        first = receive(ws, "frame")
        for _ in range(3):
            ws.send_json({"type": "step"})
            frame = receive(ws, "frame")
        assert frame["epoch"] == 3 and frame["heatmap"] != first["heatmap"]


def test_play_streams_frames_until_pause(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "configure", "settings": {"n_points": 60}})
        receive(ws, "frame")
        ws.send_json({"type": "play"})
        frames = [receive(ws, "frame") for _ in range(4)]
        assert all(f["playing"] for f in frames)
        assert frames[-1]["steps"] > frames[0]["steps"]
        ws.send_json({"type": "pause"})
        while receive(ws, "frame")["playing"]:
            pass


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "fly"}', "unknown message type"),
        ('{"type": "play", "speed": 2}', "unknown field"),
        ('{"type": "configure"}', "settings"),
        ('{"type": "configure", "settings": {"lr": 1e9}}', "lr"),
        ('{"type": "configure", "settings": {"bogus": 1}}', "bogus"),
        ('{"type": "configure", "settings": {"layers": [8,8,8,8,8,8,8]}}', "layers"),
        ('{"type": "configure", "settings": {"layers": [100]}}', "layers"),
        ('{"type": "configure", "settings": {"activations": ["nope", "tanh"]}}', "activations"),
        ('{"type": "configure", "settings": {"dataset": "upload:0123456789abcdef"}}', "upload"),
        ("[" * 50_000 + "]" * 10_000, "malformed JSON"),
    ],
)
def test_bad_messages_get_an_error_and_the_session_survives(client, message, words):
    with client.websocket_connect("/ws") as ws:
        hello = opened(ws)
        ws.send_text(message)
        error = receive(ws, "error")
        assert words in json.dumps(error)
        ws.send_json({"type": "step"})  # still alive, settings unchanged
        frame = receive(ws, "frame")
        assert frame["epoch"] == 1
        ws.send_json({"type": "configure", "settings": {"seed": 1}})
        assert receive(ws, "settings")["settings"]["lr"] == hello["settings"]["lr"]


def test_oversized_and_binary_messages_are_refused(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_text(json.dumps({"type": "configure", "settings": {"x" * 100_000: 1}}))
        assert "over the limit" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary" in receive(ws, "error")["message"]
        ws.send_json({"type": "step"})
        assert receive(ws, "frame")["epoch"] == 1


def test_tabs_have_their_own_sessions_and_the_number_is_bounded(client):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        ha, hb = opened(a), opened(b)
        assert ha["session"] != hb["session"]
        a.send_json({"type": "configure", "settings": {"lr": 0.3}})
        assert receive(a, "settings")["settings"]["lr"] == 0.3
        b.send_json({"type": "step"})
        assert receive(b, "frame")["epoch"] == 1
        with client.websocket_connect("/ws") as c:
            opened(c)
            with client.websocket_connect("/ws") as d:  # the client fixture allows 3 sessions
                error = d.receive_json()
                assert error["type"] == "error" and "limit" in error["message"]
                with pytest.raises(WebSocketDisconnect):
                    d.receive_json()
    # closed tabs free their sessions
    assert client.app.state.playground.sessions == {}


def test_idle_sessions_are_closed():
    from fastapi.testclient import TestClient

    with TestClient(create_app(Limits(idle_timeout_s=1.0))) as client:
        with client.websocket_connect("/ws") as ws:
            opened(ws)
            state = client.app.state.playground
            (session,) = state.sessions.values()
            assert state.expire_idle(now=session.last_seen + 0.5) == []
            assert state.expire_idle(now=session.last_seen + 2.0) == [session]
            assert state.sessions == {}


def test_upload_then_train_on_it(client):
    rows = "x,y,label\n" + "\n".join(f"{i % 7},{i % 5},{int(i % 7 > 3)}" for i in range(80))
    reply = client.post("/api/upload", content=rows.encode(), headers={"content-type": "text/csv"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["kind"] == "binary" and body["rows"] == 80
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "configure", "settings": {"dataset": body["dataset"]}})
        assert receive(ws, "settings")["settings"]["dataset"] == body["dataset"]
        data = receive(ws, "data")
        assert len(data["train"]["x"]) + len(data["test"]["x"]) == 80


def test_bad_and_oversized_uploads_are_refused(client):
    bad = client.post("/api/upload", content=b"1,2\n3,4\n")
    assert bad.status_code == 400 and "3 columns" in bad.json()["error"]
    limit = client.app.state.playground.limits.max_upload_bytes
    big = client.post("/api/upload", content=b"1,2,0\n" * (limit // 6 + 10))
    assert big.status_code == 413
    assert client.get("/api/config").status_code == 200  # still serving


def test_export_endpoints(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        sid = opened(ws)["session"]
        ws.send_json({"type": "step"})
        receive(ws, "frame")
        weights = client.get(f"/api/session/{sid}/model.safetensors")
        code = client.get(f"/api/session/{sid}/model.py")
    assert weights.status_code == 200 and code.status_code == 200
    (tmp_path / "playground_model.safetensors").write_bytes(weights.content)
    script = tmp_path / "model.py"
    script.write_text(
        code.text.replace(
            "'playground_model.safetensors'", repr(str(tmp_path / "playground_model.safetensors"))
        )
    )
    predict = runpy.run_path(str(script))["predict"]
    p = predict(torch.tensor([[0.0, 0.0], [5.0, 5.0]]))
    assert p.shape == (2,) and bool(((p >= 0) & (p <= 1)).all())
    assert client.get("/api/session/nope/model.py").status_code == 404
