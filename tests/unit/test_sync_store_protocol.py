"""The real store is what the sync layer's Protocols describe (calsync.sync.store_protocol,
calsync.ical.tasks.DecisionItem): every repository method sync calls exists on ``Store``'s
repository with the same parameters, and every field sync or a decision's VTODO reads is a
field of the stored record. No database is opened (an engine connects on first use)."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import get_type_hints

import pytest
from sqlalchemy import create_engine

import calsync.sync
from calsync.ical.tasks import DecisionItem
from calsync.store import Store
from calsync.store.minutes import ActionItem
from calsync.store.records import CollectionState, Conflict, ResourceState, SyncRun
from calsync.sync.store_protocol import (
    CollectionStateRow,
    ConflictRow,
    ResourceRow,
    RunRow,
    SyncStore,
)

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
EMPTY = inspect.Parameter.empty


def methods(protocol: type) -> list[str]:
    return sorted(n for n, v in vars(protocol).items()
                  if inspect.isfunction(v) and not n.startswith("_"))


def fields(protocol: type) -> list[str]:
    return sorted(n for n, v in vars(protocol).items() if isinstance(v, property))


def repositories() -> dict[str, type]:
    """SyncStore's repositories: attribute -> the Protocol it must satisfy."""
    return {name: get_type_hints(getattr(SyncStore, name).fget)["return"]
            for name in fields(SyncStore)}


def wanted() -> list[tuple[str, str]]:
    return sorted((repo, m) for repo, proto in repositories().items() for m in methods(proto))


def sync_calls() -> set[tuple[str, str]]:
    """Every ``store.<repository>.<method>`` (``store`` a name or an attribute) in calsync.sync."""
    out = set()
    for path in Path(calsync.sync.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)):
                continue
            base = node.value.value
            if (isinstance(base, ast.Name) and base.id == "store") or (
                    isinstance(base, ast.Attribute) and base.attr == "store"):
                out.add((node.value.attr, node.attr))
    return out


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = Store(create_engine("sqlite://"))  # never connects: only its repositories are read
    yield s
    s.close()


def test_the_protocol_lists_exactly_what_sync_calls() -> None:
    assert sync_calls() == set(wanted())


@pytest.mark.parametrize(("repo", "name"), wanted())
def test_store_has_each_sync_method_with_the_same_parameters(store: Store, repo: str,
                                                             name: str) -> None:
    real = getattr(getattr(store, repo, None), name, None)
    assert callable(real), f"Store has no {repo}.{name}"
    want = dict(inspect.signature(getattr(repositories()[repo], name)).parameters)
    del want["self"]  # ``real`` is bound
    have = inspect.signature(real).parameters
    # the same positional parameters first, in the same order ...
    positional = [p for p, v in want.items() if v.kind in POSITIONAL]
    assert [p for p, v in have.items() if v.kind in POSITIONAL][:len(positional)] == positional
    for p, v in want.items():  # ... every one the Protocol names, of the same kind ...
        assert p in have and have[p].kind == v.kind, (name, p)
        assert (have[p].default is EMPTY) == (v.default is EMPTY), (name, p)
    for p, v in have.items():  # ... and what sync never passes has a default
        assert p in want or v.default is not EMPTY, (name, p)


@pytest.mark.parametrize(("protocol", "record"), [
    (ResourceRow, ResourceState), (ConflictRow, Conflict),
    (CollectionStateRow, CollectionState), (RunRow, SyncRun), (DecisionItem, ActionItem)])
def test_each_row_protocol_reads_fields_of_the_record(protocol: type, record: type) -> None:
    assert fields(protocol)
    assert set(fields(protocol)) <= {f.name for f in dataclasses.fields(record)}
