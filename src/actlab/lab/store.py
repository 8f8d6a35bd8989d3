"""The lab's only shared state: finished runs in one SQLite file.

A finished run is written in ONE transaction (its row in ``runs`` and its curves/probes/boundary in
``run_details`` land together or not at all), so a sweep killed at any instant leaves only whole runs
behind and resumes by asking ``missing()``. A run's key is its primary key: saving it twice is a no-op.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from actlab.lab.types import RunResult, RunSpec, TrainConfig

DEFAULT_STORE = Path("runs") / "actlab.sqlite"
STORE_ENV = "ACTLAB_STORE"
SCHEMA_VERSION = 1

# Columns of `actlab runs` and of the CSV export, in order.
LIST_COLUMNS = (
    "id",
    "key",
    "task",
    "activation",
    "seed",
    "model",
    "metric_name",
    "test_metric",
    "test_loss",
    "train_loss",
    "seconds",
    "created_at",
    "status",
)
FILTERS = ("task", "activation", "model", "seed", "group_key")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    group_key TEXT NOT NULL,
    task TEXT NOT NULL,
    activation TEXT NOT NULL,
    seed INTEGER NOT NULL,
    model TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    versions_json TEXT NOT NULL,
    final_json TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    higher_is_better INTEGER NOT NULL,
    test_metric REAL,
    seconds REAL NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'done'
);
CREATE INDEX IF NOT EXISTS runs_by_group ON runs (group_key);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, activation);
CREATE TABLE IF NOT EXISTS run_details (
    run_key TEXT PRIMARY KEY REFERENCES runs (key),
    curve_json TEXT NOT NULL,
    probes_json TEXT NOT NULL,
    boundary_json TEXT
);
"""


def default_store_path() -> Path:
    """``$ACTLAB_STORE`` if set, else ``runs/actlab.sqlite`` in the working directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


class Store:
    """Finished runs in a SQLite file: ``missing()`` says what to train, ``save()`` keeps a result."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if self.path.is_dir():
            raise ValueError(f"store path {str(self.path)!r} is a folder; give a file such as runs.sqlite")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The trainer may report results from worker threads; one connection behind one lock.
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as err:
            raise ValueError(f"{str(self.path)!r} is not an actlab store (SQLite said: {err})") from None

    def _migrate(self) -> None:
        with self._transaction() as db:
            # executescript() would COMMIT mid-transaction, so the statements go one by one.
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise ValueError(
                    f"store {str(self.path)!r} has schema version {row[0]}, newer than this actlab "
                    f"({SCHEMA_VERSION}); upgrade actlab or use another --store"
                )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------

    def save(self, result: RunResult) -> bool:
        """Store a finished run in one transaction; False (and nothing written) if its key is stored."""
        spec = result.spec
        key = spec.key()
        created_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        test_metric = result.final.get("test_metric")
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO runs (key, group_key, task, activation, seed, model, spec_json,"
                " versions_json, final_json, metric_name, higher_is_better, test_metric, seconds, created_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done')",
                (
                    key,
                    spec.group_key(),
                    spec.task,
                    spec.activation,
                    spec.seed,
                    spec.model,
                    _dumps(spec.as_dict()),
                    _dumps(result.versions),
                    _dumps(result.final),
                    result.metric_name,
                    int(result.higher_is_better),
                    _finite_or_none(test_metric),
                    float(result.seconds),
                    created_at,
                ),
            )
            if cursor.rowcount == 0:
                return False  # already stored: a run is never stored twice
            db.execute(
                "INSERT INTO run_details (run_key, curve_json, probes_json, boundary_json) VALUES (?, ?, ?, ?)",
                (
                    key,
                    _dumps(result.curve),
                    _dumps(result.probes),
                    None if result.boundary is None else _dumps(result.boundary),
                ),
            )
        return True

    # --- reading -------------------------------------------------------------------------------

    def keys(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT key FROM runs")}

    def missing(self, run_specs: Sequence[RunSpec]) -> list[RunSpec]:
        """The runs of ``run_specs`` not yet stored, in their given order."""
        wanted = [spec.key() for spec in run_specs]
        stored = self._stored_among(wanted)
        return [spec for spec, key in zip(run_specs, wanted, strict=True) if key not in stored]

    def _stored_among(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._lock:
            # SQLite caps the number of bound parameters; ask in chunks.
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    r[0] for r in self._db.execute(f"SELECT key FROM runs WHERE key IN ({marks})", chunk)
                )
        return found

    def results(self, keys: Iterable[str] | None = None, **filters: Any) -> list[RunResult]:
        """Full RunResults, by key (in the keys' order, unknown keys skipped) or by column filters."""
        if keys is not None:
            keys = list(keys)
            by_key: dict[str, RunResult] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                where = f"r.key IN ({','.join('?' * len(chunk))})"
                for result in self._select_results(where, chunk):
                    by_key[result.spec.key()] = result
            return [by_key[k] for k in keys if k in by_key]
        where, params = _where(filters)
        return self._select_results(where, params)

    def _select_results(self, where: str, params: Sequence[Any]) -> list[RunResult]:
        sql = (
            "SELECT r.spec_json, r.final_json, d.curve_json, d.probes_json, r.seconds, r.metric_name,"
            " r.higher_is_better, d.boundary_json, r.versions_json FROM runs r JOIN run_details d"
            f" ON d.run_key = r.key WHERE {where} ORDER BY r.id"
        )
        with self._lock:
            rows = self._db.execute(sql, list(params)).fetchall()
        return [
            RunResult(
                spec=spec_from_dict(json.loads(spec_json)),
                final=json.loads(final_json),
                curve=json.loads(curve_json),
                probes=json.loads(probes_json),
                seconds=seconds,
                metric_name=metric_name,
                higher_is_better=bool(higher),
                boundary=None if boundary_json is None else json.loads(boundary_json),
                versions=json.loads(versions_json),
            )
            for spec_json, final_json, curve_json, probes_json, seconds, metric_name, higher, boundary_json, versions_json in rows
        ]

    def list_runs(self, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """One summary row per stored run (newest first): the columns in ``LIST_COLUMNS``."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive number of runs, got {limit}")
        where, params = _where(filters)
        sql = (
            "SELECT id, key, task, activation, seed, model, metric_name, test_metric, final_json, seconds,"
            f" created_at, status FROM runs WHERE {where} ORDER BY id DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        listed = []
        for row in rows:
            final = json.loads(row[8])
            listed.append(
                {
                    "id": row[0],
                    "key": row[1],
                    "task": row[2],
                    "activation": row[3],
                    "seed": row[4],
                    "model": row[5],
                    "metric_name": row[6],
                    "test_metric": row[7],
                    "test_loss": final.get("test_loss"),
                    "train_loss": final.get("train_loss"),
                    "seconds": row[9],
                    "created_at": row[10],
                    "status": row[11],
                }
            )
        return listed

    def count(self, **filters: Any) -> int:
        where, params = _where(filters)
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM runs WHERE {where}", params).fetchone()[0])

    def export_csv(self, path: str | os.PathLike[str], limit: int | None = None, **filters: Any) -> int:
        """Write the listed runs (``LIST_COLUMNS``) to a CSV file; returns the number of rows."""
        rows = self.list_runs(limit=limit, **filters)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(LIST_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT under the store's lock; ROLLBACK on any error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            # IMMEDIATE takes the write lock up front, so two processes sharing a store queue politely.
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._db

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
        finally:
            self._lock.release()


def spec_from_dict(data: dict[str, Any]) -> RunSpec:
    """Rebuild a RunSpec from ``RunSpec.as_dict()`` (as stored), so that its key is unchanged."""
    train_fields = {f.name for f in fields(TrainConfig)}
    train = TrainConfig(**{k: v for k, v in data.get("train", {}).items() if k in train_fields})
    return RunSpec(
        task=data["task"],
        activation=data["activation"],
        seed=int(data["seed"]),
        model=data.get("model", "mlp"),
        task_options=tuple((k, _freeze(v)) for k, v in data.get("task_options", {}).items()),
        model_options=tuple((k, _freeze(v)) for k, v in data.get("model_options", {}).items()),
        train=train,
    )


def _freeze(value: Any) -> Any:
    # JSON gives lists back where the spec held tuples; RunSpec must stay hashable.
    return tuple(_freeze(v) for v in value) if isinstance(value, list) else value


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for name, value in filters.items():
        if name not in FILTERS:
            raise ValueError(f"unknown run filter {name!r}; allowed: {', '.join(FILTERS)}")
        if value is None:
            continue
        clauses.append(f"{name} = ?")
        params.append(value)
    return (" AND ".join(clauses) or "1"), params


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, allow_nan=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return value.tolist()
    return str(value)


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
