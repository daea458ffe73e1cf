"""The Posting tab: when notes post by themselves, the queue's limits, keeping logins alive."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QSpinBox,
    QVBoxLayout,
)

from lossy_desktop.app.views.schedule_field import DailyTimeField
from lossy_desktop.app.views.settings.page import SettingsPage


class PostingTab(SettingsPage):
    def build(self) -> None:
        layout = QVBoxLayout(self)
        auto = QGroupBox("Automatic posting")
        form = QFormLayout(auto)
        threshold = QDoubleSpinBox()
        threshold.setDecimals(2)
        threshold.setSingleStep(0.05)
        form.addRow(
            "Post notes at least this confident", self.field("auto_post_threshold", threshold)
        )
        form.addRow(
            "",
            self.hint("Notes below it stay as ghosts until you post them yourself (Post now)."),
        )
        layout.addWidget(auto)

        queue = QGroupBox("Queue limits")
        qform = QFormLayout(queue)
        qform.addRow("Posts at once", self.field("automation_concurrency", QSpinBox()))
        allowed = QSpinBox()
        allowed.setSuffix(" comments")
        period = QSpinBox()
        period.setPrefix("every ")
        period.setSuffix(" s")
        rate = QHBoxLayout()
        rate.addWidget(self.field("automation_rate_allowed", allowed))
        rate.addWidget(self.field("automation_rate_period_s", period))
        rate.addStretch(1)
        qform.addRow("Each account posts at most", rate)
        gap = QDoubleSpinBox()
        gap.setDecimals(1)
        gap.setSuffix(" s")
        gap.setSpecialValueText("no gap")
        qform.addRow("Least gap between comments", self.field("comment_interval_s", gap))
        qform.addRow("Attempts before giving up", self.field("max_attempts", QSpinBox()))
        timeout = QSpinBox()
        timeout.setSuffix(" s")
        qform.addRow(
            "Longest Browserbase posting session",
            self.field("browserbase_session_timeout_s", timeout),
        )
        qform.addRow(
            "",
            self.hint(
                "Platforms punish bursts of comments: the defaults (3 at once; for each "
                "account at most 10 comments a minute, at least 6 s apart plus a random extra) "
                "are on the safe side."
            ),
        )
        layout.addWidget(queue)

        keep = QGroupBox("Keeping logins alive")
        kform = QFormLayout(keep)
        daily = DailyTimeField()
        kform.addRow("Check logins", self.field("keepalive_cron", daily))
        daily.setToolTip("Lossy opens each platform in the background so its login stays alive")
        days = QSpinBox()
        days.setSuffix(" days")
        kform.addRow("…unused for at least", self.field("keepalive_idle_days", days))
        layout.addWidget(keep)
        layout.addStretch(1)
