"""Series decisions and confirmations about the regulation's people, stored like any decision:
they survive regeneration and a policy edit."""

from __future__ import annotations

from calsync.app.service import build
from tests.properties.test_regulation_people import DEC31, JAN1, _edited_policies
from tests.support.gen_helpers import series_by_id, shipped, year_2026


def test_series_decision_is_stored_and_survives_regeneration_and_a_policy_edit(
        store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The decision is stored once (migration 0007) and applied at every generation."""
    from calsync.app.service import clash_view
    from calsync.policy import load_policies

    store.series_decisions.add_series_decision("guanliban", "kewuhui-ducha@guanliban.calsync",
                                               "offset",
                                               since="2026-01-01", offset_minutes=45,
                                               actor="zhou_mishukezhang")
    for _ in range(2):  # regeneration
        clashes, _ = clash_view(shipped(), store, JAN1, DEC31, ["guanliban"])
        assert clashes == []
    # A policy edit (revised bumped) keeps it: it is keyed by the series, not the bytes.
    policies = load_policies(_edited_policies(tmp_path))
    assert policies.organizations["guanliban"].revised.year == 2027
    clashes, _ = clash_view(policies, store, JAN1, DEC31, ["guanliban"])
    assert clashes == []
    built = build(policies, store, JAN1, DEC31, ["guanliban"])
    ics = next(r for r in built.resources if r.name == "kewuhui-ducha-fri").ics.decode()
    assert "本系列自2026-01-01起每次推迟45分钟召开" in ics.replace("\r\n ", "")
    # Withdrawn: the clashes are back.
    (sd,) = store.series_decisions.active_series_decisions("guanliban")
    store.series_decisions.withdraw_series_decision(sd.id, actor="zhou_mishukezhang")
    clashes, _ = clash_view(policies, store, JAN1, DEC31, ["guanliban"])
    assert len(clashes) == 101


def test_a_confirmation_is_stored_like_any_decision(store) -> None:  # type: ignore[no-untyped-def]
    occ = series_by_id(year_2026(), "xitong-2026").occurrences[0]
    store.decisions.add_decision("guanliban", occ.uid, occ.nominal_start, "confirm",
                                 actor="zhou_mishukezhang", source="web", note="主任办公会确定")
    built = build(shipped(), store, JAN1, DEC31, ["guanliban"])
    ics = next(r for r in built.resources if r.name == "xitong-2026").ics
    assert b"STATUS:CONFIRMED" in ics and b"STATUS:TENTATIVE" not in ics
