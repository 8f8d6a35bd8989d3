import base64
import json
import math
import runpy

import numpy as np
import pytest
import torch
from safetensors.torch import load

import actlab
from actlab.playground.data import UploadStore, features, load_points
from actlab.playground.engine import HEATMAP_SIZE, THUMB_SIZE, Engine, activation_curve, grid
from actlab.playground.export import python_code, state_dict_bytes
from actlab.playground.settings import Settings


def make(**overrides) -> Engine:
    overrides.setdefault("n_points", 120)  # small sets keep the suite fast; 60 training points
    s = Settings(**overrides)
    return Engine(s, load_points(s.dataset, s.seed, s.n_points, s.noise, UploadStore(1), s.train_ratio))


def bytes_of(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=np.uint8)


def test_grid_runs_left_to_right_and_top_to_bottom():
    g = grid(4)
    assert g[0, 0] < g[1, 0] and g[0, 1] > g[4, 1]
    assert torch.allclose(g[:4, 1], g[0, 1].expand(4))


def test_frame_shapes_and_json():
    e = make(layers=(3, 2), activations=("tanh", "sigmoid"))
    frame = e.frame()
    json.dumps(frame, allow_nan=False)
    assert bytes_of(frame["heatmap"]).size == HEATMAP_SIZE**2
    assert [len(layer) for layer in frame["neurons"]] == [3, 2]
    assert all(bytes_of(t).size == THUMB_SIZE**2 for layer in frame["neurons"] for t in layer)
    assert [np.shape(w) for w in frame["weights"]] == [(3, 2), (2, 3), (1, 2)]
    assert len(frame["grad_norms"]) == 3 and [len(d) for d in frame["dead"]] == [3, 2]
    assert frame["epoch"] == 0 and frame["confusion"] is not None


def test_heatmap_matches_the_network_output():
    e = make()
    frame = e.frame()
    with torch.no_grad():
        p = torch.sigmoid(e.model(features(grid(HEATMAP_SIZE), e.settings.features))[:, 0])
    assert np.abs(bytes_of(frame["heatmap"]).astype(float) - p.numpy() * 255).max() <= 1.0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_training_lowers_the_loss_and_changes_the_heatmap(optimizer):
    e = make(optimizer=optimizer, lr=0.3 if optimizer == "sgd" else 0.03)
    first = e.frame()
    for _ in range(25):
        e.advance()
    last = e.frame()
    assert e.epoch == 25 and e.steps == 25 * math.ceil(60 / 10)
    assert last["train_loss"] < 0.8 * first["train_loss"]
    assert not np.array_equal(bytes_of(first["heatmap"]), bytes_of(last["heatmap"]))
    assert all(g > 0 for g in last["grad_norms"])


def test_a_seed_fixes_the_whole_run():
    a, b = make(seed=5), make(seed=5)
    for e in (a, b):
        for _ in range(3):
            e.advance()
    assert a.frame()["heatmap"] == b.frame()["heatmap"]
    assert make(seed=6).frame()["heatmap"] != make(seed=5).frame()["heatmap"]


def test_multiclass_uses_softmax_and_cross_entropy():
    e = make(dataset="blobs3", optimizer="adam", lr=0.03, batch_size=20)
    first = e.frame()
    for _ in range(15):
        e.advance()
    last = e.frame()
    assert e.n_outputs == 3 and last["confidence"] is not None
    assert set(np.unique(bytes_of(last["heatmap"]))) <= {0, 1, 2}
    assert last["test_acc"] > 0.9 and last["train_loss"] < first["train_loss"]
    assert np.sum(last["confusion"]) == len(e.y_test)


def test_regression_uses_mse():
    e = make(dataset="plane", layers=(), activations=(), optimizer="adam", lr=0.1, batch_size=5)
    for _ in range(30):
        e.advance()
    frame = e.frame()
    assert frame["train_acc"] is None and frame["confusion"] is None
    assert frame["test_loss"] < 0.01  # a plane is linear in x1, x2


def test_every_hidden_activation_trains_without_error():
    for name in actlab.names():
        if actlab.spec(name).kind != "elementwise":
            continue
        e = make(layers=(3,), activations=(name,), n_points=20)
        e.advance()
        frame = e.frame()
        json.dumps(frame, allow_nan=False)


def test_step_neurons_are_dead():
    # the step function's slope is zero everywhere: no gradient ever reaches its inputs
    frame = make(layers=(3, 2), activations=("step", "tanh")).frame()
    assert frame["dead"][0] == [True, True, True]
    assert frame["dead"][1] == [False, False]


def test_regularisation_shrinks_weights():
    plain, l2 = (
        make(optimizer="sgd", lr=0.1),
        make(optimizer="sgd", lr=0.1, regularization="l2", reg_rate=0.3),
    )
    for e in (plain, l2):
        for _ in range(5):
            e.advance()
    norm = lambda e: sum(float(layer.weight.detach().norm()) for layer in e.linears)
    assert norm(l2) < norm(plain)


def test_update_training_keeps_the_weights():
    e = make()
    e.advance()
    before = [p.clone() for p in e.model.parameters()]
    e.update_training(Settings(lr=0.3, optimizer="adam", batch_size=5))
    assert all(torch.equal(a, b) for a, b in zip(before, e.model.parameters(), strict=True))
    assert isinstance(e.optimizer, torch.optim.Adam) and e.optimizer.param_groups[0]["lr"] == 0.3


def test_advance_respects_a_time_budget():
    e = make(batch_size=1)
    e.advance(budget_s=0.0)
    assert e.steps == 1 and e.epoch == 0


def test_export_rebuilds_the_same_network(tmp_path):
    e = make(features=("x1", "x2", "x1sq", "sinx2"), layers=(5, 3), activations=("sigmoid", "tanh"))
    for _ in range(3):
        e.advance()
    weights = tmp_path / "playground_model.safetensors"
    weights.write_bytes(state_dict_bytes(e))
    assert set(load(weights.read_bytes())) == set(e.model.state_dict())
    script = tmp_path / "model.py"
    script.write_text(python_code(e, str(weights)))
    namespace = runpy.run_path(str(script))
    xy = torch.tensor([[0.5, -1.0], [4.0, 2.0]])
    with torch.no_grad():
        expected = torch.sigmoid(e.model(features(xy, e.settings.features))[:, 0])
    assert torch.allclose(namespace["predict"](xy), expected)


def test_activation_curve_comes_from_the_catalogue():
    c = activation_curve("sigmoid", points=11)
    x = torch.tensor(c["x"], dtype=torch.float64)
    assert np.allclose(c["f"], torch.sigmoid(x).numpy(), atol=1e-6)
    assert np.allclose(c["df"], actlab.derivative("sigmoid", x).numpy(), atol=1e-6)
