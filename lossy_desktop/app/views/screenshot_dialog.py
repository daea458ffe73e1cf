"""The page as it was when posting failed, shown inside the app (no external viewer)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImageReader, QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget


class ScreenshotDialog(QDialog):
    def __init__(self, path: Path, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenshotDialog")
        self.setWindowTitle("Screenshot of the failed attempt")
        self.path = path
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)
        image = reader.read()
        self.loaded = not image.isNull()
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.image = QLabel()
        self.image.setObjectName("screenshotImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if self.loaded:
            if image.width() > 940:  # a whole page: fit the width, scroll down
                image = image.scaledToWidth(940, Qt.TransformationMode.SmoothTransformation)
            self.image.setPixmap(QPixmap.fromImage(image))
        else:
            self.image.setText(f"The screenshot {path.name} could not be read.")
        scroll = QScrollArea()
        scroll.setWidget(self.image)
        scroll.setWidgetResizable(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(980, 720)
