"""The words the user sees for a note's state: one word per state, the same in the list, the
status bar, the tray and the command line, each with a sentence that explains it.

The state keys (ghost, queued, held, posting, posted, failed; defined in core.note_state) stay
the contract of `--status`, `--json` and the database; only what is shown to a person is worded
here. `removing` (a posted
note whose comment is being deleted) is a state of `--json` only: `--status posted` lists it."""

from __future__ import annotations

from lossy_desktop.core.platforms import PLATFORMS

STATE_WORDS: dict[str, str] = {
    "ghost": "ghost",
    "queued": "queued",
    "held": "waiting for login",
    "posting": "posting",
    "posted": "posted",
    "removing": "removing",
    "failed": "failed",
}

STATE_HELP: dict[str, str] = {
    "ghost": "Ghost: a note kept here but not posted: the recorder was not confident enough to "
    "post it by itself (below the auto-post threshold in Settings), or you cancelled it. "
    "Choose Post now to post it.",
    "queued": "Queued: waiting its turn; it is posted by itself, spaced apart from other "
    "comments on the same account.",
    "held": "Waiting for login: {platform} is not connected, or its login has expired. Connect "
    "{platform} and the note is posted by itself.",
    "posting": "Posting: a browser is putting the comment on {platform} right now.",
    "posted": "Posted: the comment is on {platform}.",
    "removing": "Removing: a browser is deleting the comment from {platform}; the note then "
    "stays here as a ghost, with its history.",
    "failed": "Failed: the comment was not posted; the reason is in Last error. Fix the note "
    "(Edit) or try again.",
}


def state_word(state: str) -> str:
    """The word shown for a state key (`held` -> `waiting for login`)."""
    return STATE_WORDS.get(state, state)


def state_help(state: str, platform: str | None = None) -> str:
    """The sentence that explains a state, with the platform's label filled in."""
    label = PLATFORMS[platform].label if platform in PLATFORMS else "the platform"
    return STATE_HELP.get(state, state).format(platform=label)


def platform_label(platform: str | None) -> str:
    return PLATFORMS[platform].label if platform in PLATFORMS else (platform or "the platform")


# The steps of posting a comment, in order: the key a worker or agent reports (JobContext.step)
# -> the words a person reads (side panel, command line). The one table of step words.
STEP_STARTING = "starting browser"
STEP_OPENING = "opening video"
STEP_SEEKING = "seeking"
STEP_TYPING = "typing"
STEP_SUBMITTING = "submitting"
STEP_CONFIRMING = "confirming"
POSTING_STEPS: dict[str, str] = {
    STEP_STARTING: "Starting the browser",
    STEP_OPENING: "Opening the video",
    STEP_SEEKING: "Going to the note's time",
    STEP_TYPING: "Typing the comment",
    STEP_SUBMITTING: "Sending the comment",
    STEP_CONFIRMING: "Checking the comment is there",
}


def step_number(step: str | None) -> int | None:
    """1-based position of a posting step (None for any other step, e.g. a login check)."""
    return list(POSTING_STEPS).index(step) + 1 if step in POSTING_STEPS else None


def step_text(step: str | None) -> str:
    """What a person reads for a step: "Typing the comment (4 of 6)"; other steps (the
    keep-alive's "visiting youtube") as they are, capitalised."""
    if not step:
        return "Starting…"
    number = step_number(step)
    if number is None:
        return step[:1].upper() + step[1:]
    return f"{POSTING_STEPS[step]} ({number} of {len(POSTING_STEPS)})"
