import pytest

import actlab
from actlab.playground.settings import FEATURES, Limits, Settings, SettingsError, validate_settings

LIMITS = Limits()


def errors_of(data, **kwargs):
    with pytest.raises(SettingsError) as info:
        validate_settings(data, LIMITS, **kwargs)
    return info.value.errors


def test_defaults_are_valid_and_round_trip():
    s = validate_settings(Settings().as_dict(), LIMITS)
    assert s == Settings()


def test_partial_update_keeps_the_rest():
    base = Settings()
    s = validate_settings({"lr": 0.1}, LIMITS, base=base)
    assert s.lr == 0.1 and s.layers == base.layers and s.dataset == base.dataset


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lr", 20),
        ("lr", 0),
        ("lr", "0.1"),
        ("lr", float("nan")),
        ("lr", True),
        ("noise", 51),
        ("train_ratio", 5),
        ("batch_size", 0),
        ("batch_size", 2.5),
        ("seed", -1),
        ("n_points", 10**9),
        ("optimizer", "rmsprop"),
        ("regularization", "l3"),
        ("reg_rate", -1),
        ("init", "orthogonal"),
        ("dataset", "mnist"),
        ("dataset", "upload:0123456789abcdef"),
        ("features", []),
        ("features", ["x3"]),
        ("features", ["x1", "x1"]),
        ("features", "x1"),
        ("layers", [4] * (LIMITS.max_layers + 1)),
        ("layers", [LIMITS.max_width + 1]),
        ("layers", [0]),
        ("layers", ["4"]),
        ("activations", ["no_such_activation", "tanh"]),
        ("activations", [3, "tanh"]),
    ],
)
def test_bad_values_are_rejected_with_the_field_named(field, value):
    errors = errors_of({field: value})
    assert list(errors) == [field]
    assert errors[field]


def test_unknown_field_is_rejected_with_a_hint():
    errors = errors_of({"learning_rate": 0.1})
    assert "learning_rate" in errors and "unknown" in errors["learning_rate"]
    assert "lr" in errors["learning_rate"]


def test_all_bad_fields_are_reported_and_nothing_is_applied():
    errors = errors_of({"lr": 99, "noise": -1, "bogus": 1})
    assert set(errors) == {"lr", "noise", "bogus"}


def test_not_an_object():
    assert "settings" in errors_of([1, 2])


def test_activation_count_must_match_layers():
    errors = errors_of({"layers": [4, 2], "activations": ["tanh"]})
    assert "activations" in errors


def test_changing_layers_alone_extends_activations():
    s = validate_settings({"layers": [3, 3, 3]}, LIMITS, base=Settings(activations=("sigmoid", "tanh")))
    assert s.activations == ("sigmoid", "tanh", "tanh")
    s = validate_settings({"layers": [3]}, LIMITS, base=Settings(activations=("sigmoid", "tanh")))
    assert s.activations == ("sigmoid",)


def test_aliases_resolve_to_canonical_names():
    alias = actlab.spec("tanh").aliases[0]
    s = validate_settings({"activations": [alias, "tanh"]}, LIMITS)
    assert s.activations == ("tanh", "tanh")


def test_non_elementwise_activations_are_refused_for_hidden_layers():
    for name in actlab.names():
        if actlab.spec(name).kind != "elementwise":
            errors = errors_of({"activations": [name, "tanh"]})
            assert "elementwise" in errors["activations"]


def test_every_elementwise_entry_is_accepted():
    for name in actlab.names():
        if actlab.spec(name).kind == "elementwise":
            assert validate_settings({"activations": [name, name]}, LIMITS).activations == (name, name)


def test_features_come_back_in_canonical_order():
    s = validate_settings({"features": ["sinx2", "x1"]}, LIMITS)
    assert s.features == tuple(f for f in FEATURES if f in ("sinx2", "x1"))


def test_uploads_known_to_the_server_are_accepted():
    key = "upload:0123456789abcdef"
    assert validate_settings({"dataset": key}, LIMITS, datasets={key}).dataset == key


def test_limits_are_configurable_but_bounded():
    wide = Limits(max_layers=10, max_width=32)
    assert validate_settings({"layers": [32] * 10}, wide).layers == (32,) * 10
    for bad in ({"max_layers": 0}, {"max_width": 10_000}, {"max_sessions": 1000}, {"max_points": True}):
        with pytest.raises(ValueError):
            Limits(**bad)
