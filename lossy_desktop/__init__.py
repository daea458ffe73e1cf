"""Lossy Desktop: posts confident review notes as timestamped comments on the video's platform."""

__version__ = "0.1.0"
