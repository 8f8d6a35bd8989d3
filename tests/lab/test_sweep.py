"""The sweep plans task × activation × seed, refuses bad input early, and trains only what is missing."""

from __future__ import annotations

import pytest

from actlab.lab.store import Store
from actlab.lab.sweep import plan, run_sweep
from actlab.lab.types import TrainConfig
from tests.lab.test_store import make_result

SMALL = TrainConfig(steps=50, eval_every=25)


def test_plan_is_every_seed_times_every_activation():
    runs = plan("circle", ["sigmoid", "tanh"], seeds=3, train=SMALL, task_options={"noise": 0.1})
    assert [(r.seed, r.activation) for r in runs] == [(s, a) for s in range(3) for a in ("sigmoid", "tanh")]
    assert all(
        r.task == "circle" and r.train == SMALL and dict(r.task_options) == {"noise": 0.1} for r in runs
    )
    assert len({r.key() for r in runs}) == 6
    assert len({r.group_key() for r in runs}) == 1  # one architecture: the trainer may batch them all
    assert [r.seed for r in plan("circle", ["sigmoid"], seeds=[4, 9], train=SMALL)] == [4, 9]


def test_plan_is_deterministic():
    first = plan("xor", ["sigmoid", "identity"], seeds=2, model_options={"depth": 1, "width": 8}, train=SMALL)
    again = plan("xor", ["sigmoid", "identity"], seeds=2, model_options={"depth": 1, "width": 8}, train=SMALL)
    assert [r.key() for r in first] == [r.key() for r in again]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "circel"}, r"unknown task 'circel'.*circle"),
        ({"activations": ["sigmoid", "tanhh"]}, r"unknown activation 'tanhh'.*tanh"),
        ({"activations": []}, "no activations"),
        ({"activations": ["sigmoid", "sigmoid"]}, "listed twice"),
        ({"activations": ["sigmoid:slope=2"]}, "slope"),
        ({"model": "mpl"}, r"unknown model 'mpl'.*mlp"),
        ({"seeds": 0}, "seeds must be at least 1"),
        ({"model_options": {"colour": 1}}, "unknown model option 'colour'"),
        ({"seeds": [1, 1]}, "repeated"),
        ({"train": TrainConfig(steps=0)}, "steps = 0 is not allowed"),
        ({"train": TrainConfig(lr=-1.0)}, "lr = -1.0 is not allowed"),
        ({"train": TrainConfig(optimizer="adamw")}, "unknown optimizer 'adamw'.*adam"),
        ({"train": TrainConfig(init="orthogonal")}, "unknown init 'orthogonal'.*xavier"),
        ({"train": TrainConfig(batch_size=10_000)}, "batch size 10000 is larger"),
        ({"task_options": {"colour": 1}}, "no option 'colour'"),
        ({"task_options": {"noise": 7}}, "noise"),
        ({"model_options": {"depth": -1}}, "depth"),
    ],
)
def test_plan_refuses_bad_input_early(kwargs, message):
    arguments = {"task": "circle", "activations": ["sigmoid", "tanh"], "seeds": 2, "train": SMALL, **kwargs}
    with pytest.raises(ValueError, match=message):
        plan(**arguments)


class FakeTrainer:
    """Stands in for train_runs: reports each run through on_result, like the real one."""

    def __init__(self):
        self.calls: list[list] = []

    def __call__(self, runs, *, progress=None, on_result=None, jobs=1):
        self.calls.append(list(runs))
        results = []
        for index, spec in enumerate(runs):
            result = make_result(
                spec.activation, spec.seed, metric=0.5 + spec.seed / 10, steps=spec.train.steps
            )
            result.spec = spec
            on_result(result)
            results.append(result)
            if progress:
                progress((index + 1) * spec.train.steps, len(runs) * spec.train.steps)
        return results


def test_run_sweep_trains_only_missing_runs(tmp_path):
    runs = plan("circle", ["sigmoid", "tanh", "step"], seeds=3, train=SMALL)
    trainer = FakeTrainer()
    with Store(tmp_path / "s.sqlite") as store:
        store.save(_as_result(runs[1]))
        store.save(_as_result(runs[4]))
        seen = []
        results = run_sweep(runs, store, progress=lambda d, t: seen.append((d, t)), trainer=trainer)
        trained = [spec for call in trainer.calls for spec in call]
        assert trained == [r for i, r in enumerate(runs) if i not in (1, 4)]
        assert [len(call) for call in trainer.calls] == [3, 3, 1]  # one seed's worth per call
        assert [r.spec for r in results] == runs  # every run of the plan, in plan order
        total = 7 * SMALL.steps  # progress counts run-steps over the 7 missing runs
        assert seen[0] == (0, total) and seen[-1] == (total, total) and all(d <= t == total for d, t in seen)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)

        again = FakeTrainer()
        assert [r.spec for r in run_sweep(runs, store, trainer=again)] == runs
        assert again.calls == []  # the second time nothing is missing
        assert store.count() == 9


def test_run_sweep_rejects_bad_jobs(tmp_path):
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(ValueError, match="jobs"):
        run_sweep(plan("circle", ["sigmoid"], seeds=1, train=SMALL), store, jobs=0, trainer=FakeTrainer())


def _as_result(spec):
    result = make_result(spec.activation, spec.seed, steps=spec.train.steps)
    result.spec = spec
    return result
