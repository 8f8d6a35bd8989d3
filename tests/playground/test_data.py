import numpy as np
import pytest
import torch

from actlab.playground.data import VIEW, UploadError, UploadStore, features, load_points, parse_csv, split
from actlab.playground.settings import BUILTIN_DATASETS, FEATURES


@pytest.mark.parametrize("name", list(BUILTIN_DATASETS))
def test_builtin_sets_fill_the_view_with_valid_labels(name):
    p = load_points(name, seed=3, n_points=300, noise=10, uploads=UploadStore(1))
    assert p.x.shape == (300, 2) and p.x.dtype == np.float32
    assert np.abs(p.x).max() <= VIEW
    assert p.kind == BUILTIN_DATASETS[name]
    if p.kind == "regression":
        assert p.n_classes == 0 and np.abs(p.y).max() <= 1
    else:
        assert set(np.unique(p.y)) == set(range(p.n_classes))


@pytest.mark.parametrize("name", [n for n, kind in BUILTIN_DATASETS.items() if kind != "regression"])
def test_noise_free_classification_sets_are_balanced(name):
    p = load_points(name, seed=0, n_points=300, noise=0, uploads=UploadStore(1))
    counts = np.bincount(p.y)
    # xor's labels are the quadrants of uniform points, so only balanced on average; the others by design
    tolerance = 30 if name == "xor" else 1
    assert counts.max() - counts.min() <= tolerance


def test_a_seed_fixes_the_points_and_another_changes_them():
    a = load_points("spiral", 1, 200, 20, UploadStore(1))
    b = load_points("spiral", 1, 200, 20, UploadStore(1))
    c = load_points("spiral", 2, 200, 20, UploadStore(1))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


def test_the_planar_sets_are_the_labs_tasks():
    from actlab.lab.tasks import make_task

    p = load_points("circle", 2, 100, 20, UploadStore(1), train_ratio=70)
    task = make_task("circle", seed=2, n=100, noise=0.2, train_ratio=0.7)
    train, test = split(100, 70)
    assert np.allclose(p.x[train], np.clip(task.x_train.numpy(), -VIEW, VIEW))
    assert np.array_equal(p.y[test], task.y_test.numpy())


def test_split_keeps_both_parts_non_empty():
    tr, te = split(10, 90)
    assert (tr.stop, te.start, te.stop) == (9, 9, 10)
    tr, te = split(4, 10)
    assert tr.stop >= 1 and te.stop - te.start >= 1


def test_features_follow_their_formulas():
    xy = torch.tensor([[1.0, 2.0], [-0.5, 3.0]])
    f = features(xy, FEATURES)
    expected = torch.stack(
        [
            xy[:, 0],
            xy[:, 1],
            xy[:, 0] ** 2,
            xy[:, 1] ** 2,
            xy[:, 0] * xy[:, 1],
            torch.sin(xy[:, 0]),
            torch.sin(xy[:, 1]),
        ],
        1,
    )
    assert torch.allclose(f, expected)
    assert features(xy, ("x2",)).shape == (2, 1)


def test_csv_with_header_and_classes():
    rows = "\n".join(f"{i},{-i * 2},{i % 3}" for i in range(30))
    p = parse_csv(("a,b,label\n" + rows).encode(), max_rows=100, max_classes=10)
    assert p.kind == "multiclass" and p.n_classes == 3 and len(p.y) == 30
    assert p.x.min() >= -5 and p.x.max() <= 5 and np.isclose(p.x.max(), 5)


def test_csv_binary_labels_any_values_and_semicolons():
    rows = "\n".join(f"{i};{i * i};{7 if i % 2 else -1}" for i in range(10))
    p = parse_csv(rows.encode(), max_rows=100, max_classes=10)
    assert p.kind == "binary" and p.label_names == ["-1", "7"]


def test_csv_regression_targets_are_scaled():
    rows = "\n".join(f"{i},{i},{i * 0.37}" for i in range(20))
    p = parse_csv(rows.encode(), max_rows=100, max_classes=10)
    assert p.kind == "regression" and np.isclose(p.y.min(), -1) and np.isclose(p.y.max(), 1)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"1,2\n3,4\n", "3 columns"),
        (b"1,2,0\n3,x,1\n1,1,1\n2,2,0\n", "not a number"),
        (b"1,2,0\n3,4,1\n", "at least 4"),
        (b"1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "same label"),
        (b"1,2,nan\n3,4,1\n5,6,0\n7,8,0\n", "finite"),
        (b"\xff\xfe\x00\x01", "UTF-8"),
    ],
)
def test_bad_csv_is_refused_with_the_reason(raw, words):
    with pytest.raises(UploadError, match=words):
        parse_csv(raw, max_rows=100, max_classes=10)


def test_csv_row_limit():
    rows = "\n".join(f"{i},{i},{i % 2}" for i in range(50))
    with pytest.raises(UploadError, match="at most 20"):
        parse_csv(rows.encode(), max_rows=20, max_classes=10)


def test_upload_store_is_bounded():
    store = UploadStore(2)
    keys = [
        store.add(f"{k},1,0\n2,{k},1\n3,3,0\n4,4,1\n".encode(), max_rows=10, max_classes=10)[0]
        for k in range(3)
    ]
    assert store.keys() == set(keys[1:])
    with pytest.raises(ValueError, match="upload"):
        store.get(keys[0])
