"""Offline stand-ins of YouTube, Vimeo, Air and the Browserbase API (see README.md here).

`from lossy_desktop.sandbox.server import SandboxServer`; `lossy-desktop sandbox` on the command
line. Never imported by the app itself.
"""
