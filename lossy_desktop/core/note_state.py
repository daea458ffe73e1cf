"""A note's state: THE one definition, in Python and in SQL.

A note stores one of four statuses (ghost, posting, posted, failed). Three more states are
derived from the stored status and two other fields (`DERIVED`, one table):

- queued:   a ghost with `next_attempt_at` set (a posting job waits for it);
- held:     a ghost, not queued, whose last error kind holds a note (`HOLD_KINDS`, from the
            error taxonomy's policies: the platform connection must be renewed);
- removing: posted, with `next_attempt_at` set (a job is deleting its comment from the platform).

`state_of(note)` derives the state of a note (a stored row or a `NoteView`); `state_sql()`,
`state_is(state)` and `status_filter(value)` give the same classification as SQL for queries
(tests/test_note_state.py proves they agree for every combination of the fields). Everything
else (the state machine, the list, the tray, the command line) calls these. The words a person
reads for each state are in `core.wording`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy import ColumnElement, and_, case, not_, or_

from lossy_desktop.core.error_kinds import HOLD_KINDS
from lossy_desktop.core.models import NOTE_STATUSES, Note

GHOST: Final = "ghost"
QUEUED: Final = "queued"
HELD: Final = "held"
POSTING: Final = "posting"
POSTED: Final = "posted"
REMOVING: Final = "removing"
FAILED: Final = "failed"

# What the database stores (notes.status): ghost, posting, posted, failed.
STORED_STATUSES: Final[tuple[str, ...]] = NOTE_STATUSES
# The states a list is filtered and counted by (`--status`, the app's filter); a removing note
# is listed as posted (`LISTED_AS`).
STATES: Final[tuple[str, ...]] = (GHOST, QUEUED, HELD, POSTING, POSTED, FAILED)
# Every state a note can be in (the state machine's, and `--json`'s `state`).
ALL_STATES: Final[tuple[str, ...]] = (GHOST, QUEUED, HELD, POSTING, POSTED, REMOVING, FAILED)


@dataclass(frozen=True)
class Derived:
    """A state derived from a stored status: the note stores `status`, has `next_attempt_at`
    set (`due`) or not, and (when `holds` is not None) an error kind that holds a note or not."""

    state: str
    status: str
    due: bool
    holds: bool | None = None


DERIVED: Final[tuple[Derived, ...]] = (
    Derived(QUEUED, GHOST, due=True),
    Derived(HELD, GHOST, due=False, holds=True),
    Derived(REMOVING, POSTED, due=True),
)

# The status a note in each state stores (what a transition writes).
STORED_AS: Final[dict[str, str]] = {
    **{status: status for status in STORED_STATUSES},
    **{d.state: d.status for d in DERIVED},
}
# The state a list shows a note under: its own, except a removing note is listed as posted
# (`--status posted` lists it; the app counts it as posted and words it "removing").
LISTED_AS: Final[dict[str, str]] = {**{state: state for state in STATES}, REMOVING: POSTED}


class NoteFields(Protocol):
    """What the state is derived from: a stored `Note` or a `NoteView` snapshot."""

    @property
    def status(self) -> str: ...

    @property
    def next_attempt_at(self) -> float | None: ...

    @property
    def error_kind(self) -> str | None: ...


def derive_state(status: str, next_attempt_at: float | None, error_kind: str | None) -> str:
    """The state of a note storing `status` with these fields."""
    due = next_attempt_at is not None
    holds = error_kind in HOLD_KINDS
    for derived in DERIVED:
        if (
            derived.status == status
            and derived.due == due
            and (derived.holds is None or derived.holds == holds)
        ):
            return derived.state
    return status


def state_of(note: NoteFields) -> str:
    """The state of a note: ghost, queued, held, posting, posted, removing or failed."""
    return derive_state(note.status, note.next_attempt_at, note.error_kind)


def state_after_post_discarded(error_kind: str | None) -> str:
    """The state a posting job that was given up leaves its note in: held when its error kind
    holds a note (a login to renew: "waiting for login"), else failed. The side panel, the
    notifications and `post --until-idle` read a discarded job through this."""
    return HELD if error_kind in HOLD_KINDS else FAILED


def listed_state(note: NoteFields) -> str:
    """The state a list shows the note under (one of `STATES`: removing is listed as posted)."""
    state = state_of(note)
    return LISTED_AS.get(state, state)


# -- the same in SQL -----------------------------------------------------------------------------
def _condition(derived: Derived) -> ColumnElement[bool]:
    due = Note.next_attempt_at.is_not(None) if derived.due else Note.next_attempt_at.is_(None)
    parts = [Note.status == derived.status, due]
    if derived.holds is not None:
        # IS NOT NULL first: `NULL IN (...)` is NULL, and NOT NULL would drop the row.
        holding = and_(Note.error_kind.is_not(None), Note.error_kind.in_(HOLD_KINDS))
        parts.append(holding if derived.holds else not_(holding))
    return and_(*parts)


def state_sql() -> ColumnElement[str]:
    """A note's state as an SQL expression over the notes table (`state_of`, in SQL)."""
    return case(*((_condition(d), d.state) for d in DERIVED), else_=Note.status)


def state_is(state: str) -> ColumnElement[bool]:
    """Notes whose state is exactly `state` (a ghost here is neither queued nor held)."""
    derived = [d for d in DERIVED if d.state == state]
    if derived:
        return or_(*(_condition(d) for d in derived))
    if state not in STORED_STATUSES:
        raise ValueError(f"unknown note state {state!r} (known: {', '.join(ALL_STATES)})")
    refined = [not_(_condition(d)) for d in DERIVED if d.status == state]
    return and_(Note.status == state, *refined)


def status_filter(value: str) -> ColumnElement[bool]:
    """The notes `list(status=value)` / `--status value` gives: a stored status lists every
    note stored so (ghost includes queued and held notes, posted includes removing ones); a
    derived state lists exactly its notes. In Python: `value in (note.status, state_of(note))`."""
    if value in STORED_STATUSES:
        return Note.status == value
    return state_is(value)
