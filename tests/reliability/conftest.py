"""Reliability tests: their shared helpers (reliability_helpers) importable from every file."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
