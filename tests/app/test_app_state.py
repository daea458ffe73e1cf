from __future__ import annotations

import pytest

from lossy_desktop.services import Services


def test_app_state_round_trips_and_survives_reopen(data_dir):
    with Services.open(data_dir) as svc:
        assert svc.app_state.get("tray_hint_hidden", False) is False
        svc.app_state.set("tray_hint_hidden", True)
        svc.app_state.set("geometry", {"w": 800, "h": 600})
    with Services.open(data_dir) as svc:
        assert svc.app_state.get("tray_hint_hidden") is True
        assert svc.app_state.get("geometry") == {"w": 800, "h": 600}
        svc.app_state.delete("geometry")
        assert svc.app_state.get("geometry", "gone") == "gone"


def test_app_state_refuses_bad_keys(services):
    with pytest.raises(ValueError, match="1 to 64"):
        services.app_state.set("", 1)
    with pytest.raises(ValueError, match="1 to 64"):
        services.app_state.set("k" * 65, 1)
