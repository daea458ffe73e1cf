"""Browser providers: where the browser runs. One interface (`Provider`), two implementations
(`LocalProvider`: this computer's Chromium; `BrowserbaseProvider`: Browserbase's cloud), the same
`connect_over_cdp` path. `provider_for(connection, settings, data_dir)` picks the connection's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lossy_desktop.automation.providers.base import (
    PURPOSES,
    BrowserSession,
    ConnectionLike,
    Provider,
    session_scope,
)
from lossy_desktop.core.billing import UsageRecord
from lossy_desktop.core.clock import Clock, system_clock
from lossy_desktop.core.errors import ValidationError
from lossy_desktop.core.paths import DataDir

if TYPE_CHECKING:
    from lossy_desktop.core.settings import Settings

__all__ = [
    "PURPOSES",
    "BrowserSession",
    "ConnectionLike",
    "Provider",
    "UsageRecord",
    "provider_for",
    "session_scope",
]


def provider_for(
    connection: ConnectionLike | str,
    settings: Settings | None,
    data_dir: DataDir | Path,
    *,
    clock: Clock = system_clock,
) -> Provider:
    """The provider a connection uses (or the one named: "local" / "browserbase")."""
    name = connection if isinstance(connection, str) else connection.provider
    data = data_dir if isinstance(data_dir, DataDir) else DataDir(Path(data_dir))
    if name == "local":
        from lossy_desktop.automation.providers.local import LocalProvider

        return LocalProvider(data, settings, clock=clock)
    if name == "browserbase":
        from lossy_desktop.automation.providers.browserbase import (
            BrowserbaseProvider,
            client_id_for,
        )

        return BrowserbaseProvider(settings, clock=clock, client_id=client_id_for(str(data.root)))
    raise ValidationError("provider", f"unknown provider {name!r} (use local or browserbase)")
