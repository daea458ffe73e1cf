"""What a worker says about a job: Oban's return values as small frozen dataclasses.

- `Ok()`: done; the job is completed.
- `Error(message, kind)`: retried with backoff (30·3^(attempt−1) s ± 10 %) until max_attempts,
  then discarded. `kind` is the error taxonomy's name (network_error, script_failed, ...).
- `Snooze(seconds, reason)`: try again in `seconds`; does not use up an attempt.
- `Discard(reason, kind)`: give up now; never retried (selector_failed, not_logged_in, ...).
- `Cancel(reason)`: the job is no longer wanted (the note was deleted or cancelled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Ok:
    pass


@dataclass(frozen=True)
class Error:
    message: str
    kind: str | None = None


@dataclass(frozen=True)
class Snooze:
    seconds: float
    reason: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.seconds, int | float) or isinstance(self.seconds, bool):
            raise TypeError(f"Snooze seconds must be a number (got {self.seconds!r})")
        if not math.isfinite(self.seconds) or self.seconds < 0:
            raise ValueError(f"Snooze seconds must be finite and >= 0 (got {self.seconds!r})")


@dataclass(frozen=True)
class Discard:
    reason: str
    kind: str | None = None


@dataclass(frozen=True)
class Cancel:
    reason: str


Result = Ok | Error | Snooze | Discard | Cancel
