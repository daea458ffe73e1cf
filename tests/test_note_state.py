"""A note's state has one definition (core/note_state.py): its Python function and its SQL
expressions classify every combination of the fields that matter the same way."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import ColumnElement, select

from lossy_desktop.automation.errors import AutomationError
from lossy_desktop.core.db import Database
from lossy_desktop.core.error_kinds import HOLD_KINDS, KIND_POLICY, KINDS
from lossy_desktop.core.models import NOTE_STATUSES, Note, Video
from lossy_desktop.core.note_state import (
    ALL_STATES,
    LISTED_AS,
    STATES,
    STORED_AS,
    derive_state,
    listed_state,
    state_is,
    state_of,
    state_sql,
    status_filter,
)
from lossy_desktop.core.notes import TRANSITIONS, NoteView
from lossy_desktop.core.wording import STATE_HELP, STATE_WORDS

# Every combination of what a state is derived from: the stored status (and one no code
# writes), a next attempt time or none, and no error kind, every kind of the taxonomy or an
# unknown one.
COMBINATIONS = list(
    itertools.product(
        (*NOTE_STATUSES, "bogus"),
        (None, 0.0, 1_700_000_000.0),
        (None, *KINDS, "not_a_kind", ""),
    )
)


@pytest.fixture(scope="module")
def db() -> Database:
    """One row per combination."""
    database = Database.in_memory()
    with database.write() as session:
        video = Video(platform="youtube", url="https://www.youtube.com/watch?v=x", created_at=0.0)
        session.add(video)
        session.flush()
        for n, (status, due, kind) in enumerate(COMBINATIONS, start=1):
            session.add(
                Note(
                    id=n,
                    video_id=video.id,
                    text="x",
                    timestamp_seconds=0.0,
                    status=status,
                    error_kind=kind,
                    next_attempt_at=due,
                    created_at=0.0,
                    updated_at=0.0,
                )
            )
    return database


Combo = tuple[str, float | None, str | None]


def _python(predicate: Callable[[Combo], bool]) -> set[int]:
    return {n for n, combo in enumerate(COMBINATIONS, start=1) if predicate(combo)}


def _sql(db: Database, where: ColumnElement[bool]) -> set[int]:
    with db.read() as session:
        return set(session.scalars(select(Note.id).where(where)))


def test_the_sql_expression_gives_every_row_the_python_state(db: Database) -> None:
    with db.read() as session:
        rows = {n: state for n, state in session.execute(select(Note.id, state_sql()))}
    for n, combo in enumerate(COMBINATIONS, start=1):
        assert rows[n] == derive_state(*combo), combo
    # and the stored rows themselves, read back as ORM objects
    with db.read() as session:
        for note in session.scalars(select(Note)):
            assert state_of(note) == rows[note.id]


@pytest.mark.parametrize("state", ALL_STATES)
def test_each_state_selects_exactly_its_notes(db: Database, state: str) -> None:
    expected = _python(lambda combo: derive_state(*combo) == state)
    assert expected, f"no combination is {state}"
    assert _sql(db, state_is(state)) == expected


@pytest.mark.parametrize("value", STATES)
def test_the_status_filter_lists_the_stored_status_or_the_derived_state(
    db: Database, value: str
) -> None:
    # `--status ghost` lists queued and held notes too; `--status posted` lists removing ones
    expected = _python(lambda combo: value in (combo[0], derive_state(*combo)))
    assert _sql(db, status_filter(value)) == expected


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown note state 'lost'"):
        state_is("lost")


def test_the_derived_states() -> None:
    assert derive_state("ghost", None, None) == "ghost"
    assert derive_state("ghost", 5.0, None) == "queued"
    assert derive_state("ghost", 5.0, "session_expired") == "queued"
    assert derive_state("ghost", None, "session_expired") == "held"
    assert derive_state("ghost", None, "not_logged_in") == "held"
    assert derive_state("ghost", None, "site_challenge") == "held"
    assert derive_state("ghost", None, "network_error") == "ghost"
    assert derive_state("posted", 5.0, None) == "removing"
    assert derive_state("posted", None, "network_error") == "posted"
    assert derive_state("failed", 5.0, "session_expired") == "failed"
    assert derive_state("posting", None, "session_expired") == "posting"


def test_hold_kinds_are_the_taxonomy_kinds_that_hold() -> None:
    assert HOLD_KINDS == ("session_expired", "not_logged_in", "site_challenge")
    assert set(HOLD_KINDS) == {k for k in KINDS if AutomationError(k, "x").holds}
    assert set(HOLD_KINDS) == {k for k, p in KIND_POLICY.items() if p.holds}


def test_every_state_has_a_stored_status_a_list_a_transition_row_and_words() -> None:
    assert set(STORED_AS) == set(ALL_STATES) == set(TRANSITIONS)
    assert set(STORED_AS.values()) == set(NOTE_STATUSES)
    assert set(LISTED_AS) == set(ALL_STATES) and set(LISTED_AS.values()) == set(STATES)
    assert set(STATE_WORDS) == set(ALL_STATES) == set(STATE_HELP)
    for state in ALL_STATES:
        assert (
            derive_state(
                STORED_AS[state],
                1.0 if state in ("queued", "removing") else None,
                "session_expired" if state == "held" else None,
            )
            == state
        )


def test_a_snapshot_and_the_list_use_the_same_state() -> None:
    base = dict.fromkeys(NoteView.__dataclass_fields__)
    for status, due, kind in COMBINATIONS:
        view = NoteView(**{**base, "status": status, "next_attempt_at": due, "error_kind": kind})
        state = derive_state(status, due, kind)
        assert view.state == state
        assert (view.queued, view.held, view.removing) == (
            state == "queued",
            state == "held",
            state == "removing",
        )
        assert listed_state(view) == ("posted" if state == "removing" else state)


def test_a_discarded_post_leaves_its_note_held_only_for_a_login_to_renew() -> None:
    from lossy_desktop.core.note_state import FAILED, HELD, state_after_post_discarded

    for kind, policy in KIND_POLICY.items():
        assert state_after_post_discarded(kind) == (HELD if policy.holds else FAILED), kind
    assert state_after_post_discarded(None) == FAILED
