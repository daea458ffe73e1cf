"""Usage of a browser session, as the automation layer reports it (it never writes the database).

`UsageRecord` and the billing rule live in core (lossy_desktop/core/billing.py, free of the
database) so the workers can store what a provider's `close()` returns; this module re-exports
them for the automation layer.
"""

from __future__ import annotations

from lossy_desktop.core.billing import BROWSERBASE_MINIMUM_SECONDS, UsageRecord, billed_seconds

__all__ = ["BROWSERBASE_MINIMUM_SECONDS", "UsageRecord", "billed_seconds"]
