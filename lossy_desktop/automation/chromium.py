"""The system's Chromium (or Chrome, or Edge): found, started, and stopped on a profile folder.

Three ways the app runs it, none with a TCP debugging port on a profile that holds a login
(`--remote-debugging-port` listens on 127.0.0.1 for every local user, and any of them could
read the profile's cookies through it):

- `launch_persistent(...)`: posting, verify and keep-alive. Playwright's
  `launch_persistent_context(executable_path=…, user_data_dir=…)` drives the browser through a
  pipe (`--remote-debugging-pipe`), headless, without `--enable-automation` and with
  `--disable-blink-features=AutomationControlled` (so `navigator.webdriver` is false: sign-in
  pages refuse automated browsers). Returns a `PipeBrowser`.
- `LoginWindow.open(...)`: an ordinary browser window on the connection's profile for the user
  to log in: no debugging, no automation switch, nothing injected. The app checks the login
  afterwards, headless, over the pipe.
- `ChromiumProcess.start(...)`: a browser with a DevTools port, for the offline sandbox's fake
  Browserbase only (it stands in for a cloud browser reached over CDP; never a real login).

Every browser gets `BASE_ARGS`: offline-safe, no first-run UI, and no crash reporter (its dumps
can hold cookies). A profile folder can be used by one browser at a time. Chromium marks it
with a `SingletonLock` symlink (`<hostname>-<pid>`; on Windows a `lockfile` held open). A lock
of a live browser is never touched: `ProfileInUse` says so. A lock left by a browser that died is
removed. `OWNER_FILE` records which process started the browser, so one left running by a killed
app is found (`ProfileBrowser.find(...).orphaned`) and stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

from lossy_desktop.core.errors import LossyError

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Playwright, ViewportSize

log = logging.getLogger("lossy.automation")

# Names on PATH, best first.
BROWSER_COMMANDS = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
)

# The crash reporter off: its dumps can hold cookies. Measured with Chromium 156 (Debian): with
# `--disable-breakpad` (Playwright's default) or `--disable-crash-reporter` its crashpad handler
# still runs and a crash still writes a minidump into the user's own ~/.config/chromium/Crash
# Reports/pending (whose upload consent is their everyday browser's). The switch that stops the
# handler, `--disable-crashpad-for-testing`, makes the network service crash ("FD ownership
# violation"): unusable. `--breakpad-dump-location` is honoured: dumps go to a folder inside the
# profile (0700, already holding the cookies, no upload consent there) that is emptied before
# and after every browser on the profile. The two switches stay for Chrome/Edge builds that
# honour them.
CRASH_REPORTER_OFF = ("--disable-crash-reporter", "--disable-breakpad")
CRASH_DIR = "lossy-crash-dumps"

# Flags every browser the app starts gets (the login window too), with `crash_args(profile)`:
# quiet, offline-safe, no first-run UI. The same password store everywhere: Chromium encrypts
# cookies with a key from it, so the login window and the headless sessions must agree
# (Playwright uses `basic` and a mock keychain).
BASE_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--password-store=basic",
    "--use-mock-keychain",
)


def crash_args(profile_dir: Path) -> list[str]:
    """The crash reporter off, and any dump it still writes kept inside the profile."""
    return [*CRASH_REPORTER_OFF, f"--breakpad-dump-location={Path(profile_dir) / CRASH_DIR}"]


def clear_crash_dumps(profile_dir: Path) -> None:
    """Delete what a crash left in the profile's dump folder (it may hold cookies)."""
    folder = Path(profile_dir) / CRASH_DIR
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        log.info("deleted crash dumps in %s", profile_dir)


# navigator.webdriver stays true under --remote-debugging-pipe until this is given.
NOT_AUTOMATED = "--disable-blink-features=AutomationControlled"
# Playwright's default switches that make sign-in pages refuse the browser.
AUTOMATION_DEFAULTS_DROPPED = ("--enable-automation",)
HEADLESS_SIZE: ViewportSize = {"width": 1280, "height": 900}

LOCK_NAMES = ("SingletonLock", "SingletonSocket", "SingletonCookie")
PORT_FILE = "DevToolsActivePort"
STDERR_FILE = "lossy-chromium.log"
# Who started the browser on this profile: {"browser_pid", "owner_pid", "owner_started",
# "detached"}. A browser that was not detached belongs to the process that started it; when
# that process is gone (SIGKILL, a crash) the browser is an orphan (see `orphaned`).
OWNER_FILE = "lossy-owner.json"
_BROWSER_PROCESS_WORDS = ("chrom", "msedge", "edge", "brave")


class BrowserNotFound(LossyError):
    """No Chromium, Chrome or Edge on this machine; the message says what to install."""

    exit_code = 20


class ProfileInUse(LossyError):
    """Another browser process is using this profile folder."""

    exit_code = 21


class BrowserStartFailed(LossyError):
    """The browser process started but never opened its DevTools port (or died)."""

    exit_code = 22


# --------------------------------------------------------------------------------------------
# Finding a browser


def _windows_candidates() -> list[Path]:
    roots = [
        os.environ.get("PROGRAMFILES", r"C:\Program Files"),
        os.environ.get("PROGRAMFILES(X86)", r"C:\Program Files (x86)"),
        os.environ.get("LOCALAPPDATA", ""),
    ]
    tails = (
        r"Google\Chrome\Application\chrome.exe",
        r"Chromium\Application\chrome.exe",
        r"Microsoft\Edge\Application\msedge.exe",
    )
    return [Path(root) / tail for root in roots if root for tail in tails]


def _macos_candidates() -> list[Path]:
    apps = (
        "Google Chrome.app/Contents/MacOS/Google Chrome",
        "Chromium.app/Contents/MacOS/Chromium",
        "Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    )
    roots = (Path("/Applications"), Path.home() / "Applications")
    return [root / app for root in roots for app in apps]


def _linux_candidates() -> list[Path]:
    return [
        Path(p)
        for p in (
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/snap/bin/chromium",
            "/usr/bin/google-chrome",
            "/usr/bin/google-chrome-stable",
            "/opt/google/chrome/chrome",
            "/usr/bin/microsoft-edge",
            "/opt/microsoft/msedge/msedge",
        )
    ]


def candidate_paths() -> list[Path]:
    """Where a browser usually is on this OS (not checked for existence)."""
    if sys.platform == "win32":
        return _windows_candidates()
    if sys.platform == "darwin":
        return _macos_candidates()
    return _linux_candidates()


def _linux_distro_ids() -> set[str]:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip('"').lower().split())
    return ids


def install_hint() -> str:
    """What to install on this machine, as one sentence."""
    if sys.platform == "win32":
        return "Install Google Chrome or Microsoft Edge (https://www.google.com/chrome/)."
    if sys.platform == "darwin":
        return (
            "Install Google Chrome (https://www.google.com/chrome/) "
            "or `brew install --cask chromium`."
        )
    ids = _linux_distro_ids()
    if "ubuntu" in ids:
        return "Install Chromium: `sudo snap install chromium` (or Google Chrome's .deb)."
    if "debian" in ids:
        return "Install Chromium: `sudo apt install chromium`."
    if ids & {"fedora", "rhel", "centos"}:
        return "Install Chromium: `sudo dnf install chromium`."
    if ids & {"arch", "manjaro"}:
        return "Install Chromium: `sudo pacman -S chromium`."
    if ids & {"opensuse", "suse", "opensuse-leap", "opensuse-tumbleweed"}:
        return "Install Chromium: `sudo zypper install chromium`."
    return "Install Chromium or Google Chrome with your system's package manager."


def _usable(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def find_browser(configured: str | os.PathLike[str] | None = None) -> Path:
    """The browser to run: `configured` (a path or a command name) if given, else the first
    Chromium/Chrome/Edge found on PATH or in the usual install folders.

    Raises BrowserNotFound with what to install (or what is wrong with `configured`).
    """
    if configured is not None and str(configured).strip():
        raw = str(configured).strip()
        path = Path(raw).expanduser()
        if _usable(path):
            return path.resolve()
        found = shutil.which(raw)
        if found:
            return Path(found)
        raise BrowserNotFound(
            f"The configured browser {raw!r} does not exist or is not executable. Fix the "
            "browser_path setting (or clear it to let Lossy Desktop find one)."
        )
    for name in BROWSER_COMMANDS:
        found = shutil.which(name)
        if found:
            return Path(found)
    for path in candidate_paths():
        if _usable(path):
            return path
    raise BrowserNotFound(
        "No Chromium, Google Chrome or Microsoft Edge was found on this computer. "
        + install_hint()
        + " Or point the browser_path setting at one."
    )


# --------------------------------------------------------------------------------------------
# The profile lock


def _lock_owner(profile_dir: Path) -> tuple[str, int] | None:
    """(hostname, pid) from Chromium's SingletonLock symlink, or None when there is none."""
    lock = profile_dir / "SingletonLock"
    try:
        target = os.readlink(lock)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        # A regular file (or unreadable link): treat as unknown owner on this host.
        return (socket.gethostname(), -1) if lock.exists() else None
    host, _, pid = target.rpartition("-")
    try:
        return host, int(pid)
    except ValueError:
        return host, -1


def _is_browser_process(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        name = proc.name().lower()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(word in name for word in _BROWSER_PROCESS_WORDS)


def profile_owner_pid(profile_dir: Path) -> int | None:
    """The pid of the live browser that holds this profile, or None when none does."""
    owner = _lock_owner(profile_dir)
    if owner is None:
        return None
    host, pid = owner
    if host == socket.gethostname() and _is_browser_process(pid):
        return pid
    return None


def check_profile_free(profile_dir: Path) -> None:
    """Raise ProfileInUse when a live browser holds the profile; remove a dead browser's lock."""
    if sys.platform == "win32":
        lockfile = profile_dir / "lockfile"
        try:
            lockfile.unlink(missing_ok=True)
        except PermissionError:
            raise ProfileInUse(
                f"The browser profile {profile_dir} is open in another browser window. Close "
                "that browser (or finish the login that uses it) and try again."
            ) from None
        return
    owner = _lock_owner(profile_dir)
    if owner is None:
        return
    host, pid = owner
    if host != socket.gethostname():
        raise ProfileInUse(
            f"The browser profile {profile_dir} is locked by a browser on another computer "
            f"({host}). Close it there; if that computer is gone, delete "
            f"{profile_dir / 'SingletonLock'}."
        )
    if _is_browser_process(pid):
        raise ProfileInUse(
            f"The browser profile {profile_dir} is in use by a running browser (pid {pid}). "
            "Close that browser window (or finish the login that uses it) and try again."
        )
    log.info("removing the stale browser lock of dead pid %s in %s", pid, profile_dir)
    for name in LOCK_NAMES:
        with contextlib.suppress(OSError):
            (profile_dir / name).unlink()


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def has_display() -> bool:
    """Whether a headed browser window can be shown here."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _read_port_file(profile_dir: Path) -> tuple[int, str] | None:
    try:
        lines = (profile_dir / PORT_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    if len(lines) < 2:
        return None
    try:
        port = int(lines[0].strip())
    except ValueError:
        return None
    return (port, lines[1].strip()) if 0 < port < 65536 else None


# --------------------------------------------------------------------------------------------
# The processes


def _sandbox_args() -> list[str]:
    return ["--no-sandbox"] if _is_root() else []


def _popen_kwargs(detached: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP
        if detached:
            flags |= subprocess.DETACHED_PROCESS
        kwargs["creationflags"] = flags
    else:
        kwargs["start_new_session"] = True  # our signals (Ctrl+C) don't hit it directly
    return kwargs


def _prepare_profile(profile_dir: Path) -> Path:
    profile_dir = Path(profile_dir).resolve()
    profile_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_profile_free(profile_dir)
    clear_crash_dumps(profile_dir)
    return profile_dir


# The priority of a browser doing background work: below the app's (POSIX nice 10; Windows'
# "below normal" class).
BACKGROUND_PRIORITY: int = psutil.BELOW_NORMAL_PRIORITY_CLASS if sys.platform == "win32" else 10


def lower_autogroup(pid: int) -> bool:
    """Linux: lower the scheduling weight of `pid`'s whole session (its "autogroup").

    Playwright starts the browser in a session of its own (Node's `detached`), and with
    autogroup scheduling (on by default in most desktop kernels) the CPU is first shared
    fairly between sessions: a process's nice value then only ranks it against processes of
    its own session, and a nice-10 browser still gets as much CPU as the whole app. The
    session's own nice value (`/proc/PID/autogroup`) is what ranks the two. Every process the
    browser forks later (renderers) belongs to the same session. True when it was set."""
    path = Path(f"/proc/{pid}/autogroup")
    if sys.platform != "linux" or not path.exists():
        return False
    try:
        if os.getsid(pid) == os.getsid(0):
            return False  # the app's own session: lowering it would lower the app too
        path.write_text(f"{BACKGROUND_PRIORITY}\n")
        return True
    except OSError:
        return False


class ProfileBrowser:
    """A browser process running on a profile folder, known by its pid (no port needed)."""

    def __init__(
        self,
        *,
        pid: int,
        profile_dir: Path,
        executable: Path | None = None,
        headless: bool = False,
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self._pid = pid
        self.profile_dir = profile_dir
        self.executable = executable
        self.headless = headless
        self._popen = popen
        self._stopped = False
        self.owner: dict[str, Any] | None = None  # the OWNER_FILE record (find() reads it)

    @classmethod
    def find(cls, profile_dir: Path) -> ProfileBrowser | None:
        """The browser running on `profile_dir` (whoever started it), else None."""
        profile_dir = Path(profile_dir).resolve()
        pid = profile_owner_pid(profile_dir)
        if pid is None:
            pid = _browser_pid_by_flag(profile_dir)
        if pid is None:
            return None
        proc = cls(pid=pid, profile_dir=profile_dir)
        proc.owner = _read_owner(profile_dir, pid)
        return proc

    @property
    def orphaned(self) -> bool:
        """True for a browser that its starter meant to stop (not detached) while that starter
        is gone: it was SIGKILLed or crashed with the browser still running. Such a browser may
        hold half-done pages; stop it and start a fresh one."""
        owner = self.owner
        if not owner or owner.get("detached"):
            return False
        return not _process_alive(int(owner["owner_pid"]), owner.get("owner_started"))

    @property
    def detached(self) -> bool:
        return bool(self.owner and self.owner.get("detached"))

    @property
    def is_login_window(self) -> bool:
        """Started by `LoginWindow.open` (an ordinary window for the user to log in)."""
        return bool(self.owner and self.owner.get("kind") == "login")

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        try:
            proc = psutil.Process(self._pid)
            return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return True

    def lower_priority(self) -> int:
        """Run the browser's processes below the app's own (background work: posting,
        verifying, keep-alive), so a page load on a 2-core machine does not take the CPU from
        the window the person is using. Processes the browser forks later (new tabs' renderers,
        from its zygote) inherit it. How many processes were lowered."""
        lowered = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.Error, OSError):
                proc.nice(BACKGROUND_PRIORITY)
                lowered += 1
        lower_autogroup(self._pid)
        return lowered

    def tree(self) -> list[psutil.Process]:
        """The browser process and all its children (renderers, GPU, network service...)."""
        try:
            parent = psutil.Process(self._pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.Error:
            return []

    # -- stopping

    def _close_gracefully(self, timeout: float) -> bool:
        """Ask the browser to close (it saves the profile); True when it is gone."""
        if sys.platform == "win32":
            # taskkill without /F sends the windows a close request, as the user would.
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    ["taskkill", "/PID", str(self._pid), "/T"],
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
        else:
            # Chromium's SIGTERM handler shuts down cleanly: cookies are written to disk.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self._pid, signal.SIGTERM)
        return self._wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the browser gracefully so the profile is flushed to disk; kill it (and its
        children) if it is still there after `timeout`."""
        if self._stopped and not self.alive:
            return
        self._stopped = True
        if not self.alive:
            self._reap(0)
            _kill_leftovers(self.profile_dir)  # children of a browser that crashed or was killed
            clear_crash_dumps(self.profile_dir)
            return
        deadline = time.monotonic() + timeout
        children = self._children()
        if not self._close_gracefully(max(0.5, deadline - time.monotonic())):
            log.warning("browser pid %s did not close; killing it", self._pid)
            _kill_tree(self._pid)
            self._wait(5.0)
        for child in children:
            with contextlib.suppress(psutil.Error):
                if child.is_running():
                    child.kill()
        # A kill is not instant: return only once the children are really gone.
        with contextlib.suppress(psutil.Error):
            psutil.wait_procs(children, timeout=3.0)
        self._reap(1.0)
        _kill_leftovers(self.profile_dir)
        clear_crash_dumps(self.profile_dir)
        log.info("browser pid %s stopped", self._pid)

    def wait(self, timeout: float) -> bool:
        """Wait until the browser has exited (the user closed it); True when it has."""
        return self._wait(timeout)

    def _children(self) -> list[psutil.Process]:
        try:
            children: list[psutil.Process] = psutil.Process(self._pid).children(recursive=True)
            return children
        except psutil.Error:
            return []

    def _wait(self, seconds: float) -> bool:
        seconds = max(0.0, seconds)
        if self._popen is not None:
            try:
                self._popen.wait(seconds)
                return True
            except subprocess.TimeoutExpired:
                return False
        # Not our child: it may stay a zombie until its new parent reaps it (some containers'
        # init never does), so wait for "not alive" rather than for the pid to go.
        deadline = time.monotonic() + seconds
        while self.alive:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _reap(self, seconds: float) -> None:
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(seconds)

    def __repr__(self) -> str:
        state = "alive" if self.alive else "stopped"
        return f"<{type(self).__name__} pid={self._pid} {state}>"


class LoginWindow(ProfileBrowser):
    """An ordinary browser window on a profile, for the user to log in: no debugging port or
    pipe, no automation switch, nothing injected. The login lands in the profile; the app
    checks it afterwards with a headless `launch_persistent` session."""

    @staticmethod
    def build_args(
        executable: Path, profile_dir: Path, url: str, *, extra_args: Iterable[str] = ()
    ) -> list[str]:
        return [
            str(executable),
            f"--user-data-dir={profile_dir}",
            *BASE_ARGS,
            *crash_args(profile_dir),
            *_sandbox_args(),
            *extra_args,
            "--new-window",
            url,
        ]

    @classmethod
    def open(
        cls,
        profile_dir: Path,
        url: str,
        *,
        executable: Path | None = None,
        extra_args: Sequence[str] = (),
        detached: bool = False,
        timeout: float = 30.0,
    ) -> LoginWindow:
        """Open the window on `url`; returns once the browser holds the profile.

        `detached`: the window outlives this Python process (the command line's
        `connections add`); otherwise it is this process's, and an orphan if this process dies.
        Raises ProfileInUse, BrowserNotFound, BrowserStartFailed.
        """
        if not has_display():
            raise BrowserStartFailed("There is no display here to open a browser window on.")
        exe = executable or find_browser()
        profile_dir = _prepare_profile(profile_dir)
        args = cls.build_args(exe, profile_dir, url, extra_args=extra_args)
        _write_owner(profile_dir, None, detached, "login")
        with open(profile_dir / STDERR_FILE, "wb") as stderr:
            popen = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                close_fds=True,
                **_popen_kwargs(detached),
            )
        _write_owner(profile_dir, popen.pid, detached, "login")
        log.info(
            "opened a login window (%s, pid %s) on profile %s", exe.name, popen.pid, profile_dir
        )
        deadline = time.monotonic() + timeout
        try:
            while profile_owner_pid(profile_dir) is None and sys.platform != "win32":
                if popen.poll() is not None:
                    raise BrowserStartFailed(
                        f"The browser exited at start (code {popen.returncode}). "
                        + _tail(profile_dir / STDERR_FILE)
                    )
                if time.monotonic() >= deadline:
                    raise BrowserStartFailed(
                        f"The browser window did not open within {timeout:g} s. "
                        + _tail(profile_dir / STDERR_FILE)
                    )
                time.sleep(0.05)
        except BaseException:
            _kill_tree(popen.pid)
            with contextlib.suppress(Exception):
                popen.wait(5)
            raise
        window = cls(
            pid=popen.pid,
            profile_dir=profile_dir,
            executable=exe,
            popen=None if detached else popen,
        )
        window.owner = _read_owner(profile_dir, popen.pid)
        if detached:
            # Nobody will wait() for it from here; a reaper thread avoids a zombie while we live.
            threading.Thread(target=popen.wait, name="chromium-reaper", daemon=True).start()
        return window


# What a copy of a profile needs to read its logins: the cookie database (and its journal) and
# `Local State` (where Windows keeps the key the cookies are encrypted with).
LOGIN_FILES = ("Local State", "Default/Cookies", "Default/Cookies-journal")
SNAPSHOT_PREFIX = ".lossy-snapshot-"


def snapshot_login(profile_dir: Path) -> Path | None:
    """Copy the login a running window has saved so far (Chromium writes new cookies to disk
    within 30 s, and all of them when the window closes) into a new 0700 folder next to the
    profile, for a headless check while the window stays open. None when nothing is saved yet.
    The caller deletes the copy (`shutil.rmtree`): it holds the cookies."""
    profile_dir = Path(profile_dir).resolve()
    if not (profile_dir / "Default" / "Cookies").is_file():
        return None
    target = Path(
        tempfile.mkdtemp(prefix=SNAPSHOT_PREFIX + profile_dir.name + "-", dir=profile_dir.parent)
    )
    try:
        for name in LOGIN_FILES:
            source = profile_dir / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.copyfile(source, target / name)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


class PipeBrowser:
    """A browser Playwright drives through a pipe (`launch_persistent`): its one context, and
    its process (for the tree, orphan records and a last-resort stop)."""

    def __init__(self, context: BrowserContext, process: ProfileBrowser) -> None:
        self.context = context
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.alive

    async def close(self, timeout: float = 10.0) -> None:
        """Close the browser (Playwright's Browser.close over the pipe: the profile is saved),
        then make sure nothing of it is left. Never raises."""
        try:
            await asyncio.wait_for(self.context.close(), timeout)
        except Exception as error:
            log.debug("closing the browser over its pipe: %s", type(error).__name__)
        await asyncio.to_thread(self.process.stop, 5.0)


async def launch_persistent(
    playwright: Playwright,
    profile_dir: Path,
    *,
    headless: bool = True,
    executable: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 30.0,
) -> PipeBrowser:
    """The browser on `profile_dir`, driven by Playwright through a pipe: no TCP port, no
    `--enable-automation`, `navigator.webdriver` false. Raises ProfileInUse, BrowserNotFound,
    BrowserStartFailed."""
    exe = executable or find_browser()
    profile_dir = await asyncio.to_thread(_prepare_profile, profile_dir)
    # Recorded before the start (browser pid still unknown) and again after it: this process
    # may be killed at any moment, also while the browser is being started.
    _write_owner(profile_dir, None, False)
    args = [*BASE_ARGS, *crash_args(profile_dir), NOT_AUTOMATED, *extra_args]
    try:
        context = await playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(exe),
            headless=headless,
            args=args,
            ignore_default_args=list(AUTOMATION_DEFAULTS_DROPPED),
            timeout=timeout * 1000,
            viewport=HEADLESS_SIZE if headless else None,
            no_viewport=not headless,
        )
    except Exception as error:
        await asyncio.to_thread(_kill_leftovers, profile_dir)
        message = str(getattr(error, "message", error)).strip().splitlines()
        raise BrowserStartFailed(
            "The browser did not start" + (f": {message[0][:300]}" if message else ".")
        ) from None
    pid = profile_owner_pid(profile_dir) or _browser_pid_by_flag(profile_dir)
    if pid is None:
        await context.close()
        raise BrowserStartFailed("The browser started but its process could not be found.")
    _write_owner(profile_dir, pid, False)
    process = ProfileBrowser(pid=pid, profile_dir=profile_dir, executable=exe, headless=headless)
    process.owner = _read_owner(profile_dir, pid)
    if headless:  # nobody is looking at it: it must not make the app's window stutter
        await asyncio.to_thread(process.lower_priority)
    log.info(
        "started %s (pid %s, %s, pipe) on profile %s",
        exe.name,
        pid,
        "headless" if headless else "headed",
        profile_dir,
    )
    return PipeBrowser(context, process)


class ChromiumProcess(ProfileBrowser):
    """A browser with its DevTools endpoint on 127.0.0.1 — for the sandbox's fake Browserbase
    only (a stand-in for a cloud browser that Playwright reaches with `connect_over_cdp`). The
    local provider never uses it: a TCP port would expose a real login to every local user."""

    def __init__(
        self,
        *,
        pid: int,
        profile_dir: Path,
        port: int,
        browser_ws_url: str,
        executable: Path | None,
        headless: bool,
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        super().__init__(
            pid=pid, profile_dir=profile_dir, executable=executable, headless=headless, popen=popen
        )
        self._port = port
        self._browser_ws_url = browser_ws_url

    # -- starting

    @staticmethod
    def build_args(
        executable: Path, profile_dir: Path, *, headless: bool, extra_args: Iterable[str] = ()
    ) -> list[str]:
        args = [
            str(executable),
            f"--user-data-dir={profile_dir}",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            *BASE_ARGS,
            *crash_args(profile_dir),
            NOT_AUTOMATED,
        ]
        if headless:
            args += ["--headless=new", "--window-size=1280,900", "--mute-audio"]
        args += _sandbox_args()
        args += list(extra_args)
        args.append("about:blank")
        return args

    @classmethod
    def start(
        cls,
        profile_dir: Path,
        *,
        headless: bool,
        executable: Path | None = None,
        extra_args: Sequence[str] = (),
        detached: bool = False,
        timeout: float = 30.0,
    ) -> ChromiumProcess:
        """Start the browser on `profile_dir` and wait until its DevTools endpoint answers.

        `detached`: the browser outlives this Python process (own session, no pipes): for a
        command-line login that returns at once. Raises ProfileInUse, BrowserNotFound,
        BrowserStartFailed.
        """
        exe = executable or find_browser()
        profile_dir = _prepare_profile(profile_dir)
        with contextlib.suppress(FileNotFoundError):
            (profile_dir / PORT_FILE).unlink()
        args = cls.build_args(exe, profile_dir, headless=headless, extra_args=extra_args)
        stderr_path = profile_dir / STDERR_FILE
        kwargs = _popen_kwargs(detached)
        # Recorded before the start (browser pid still unknown) and again after it: this
        # process may be killed at any moment, also while the browser is being started.
        _write_owner(profile_dir, None, detached, "cdp")
        with open(stderr_path, "wb") as stderr:
            popen = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                close_fds=True,
                **kwargs,
            )
        # Recorded at once: this process may be killed while the browser is still starting.
        _write_owner(profile_dir, popen.pid, detached, "cdp")
        log.info(
            "started %s (pid %s, %s) on profile %s",
            exe.name,
            popen.pid,
            "headless" if headless else "headed",
            profile_dir,
        )
        deadline = time.monotonic() + timeout
        try:
            port_info = None
            while time.monotonic() < deadline:
                port_info = _read_port_file(profile_dir)
                if port_info is not None:
                    break
                if popen.poll() is not None:
                    raise BrowserStartFailed(
                        f"The browser exited at start (code {popen.returncode}). "
                        + _tail(stderr_path)
                    )
                time.sleep(0.05)
            if port_info is None:
                raise BrowserStartFailed(
                    f"The browser did not open its DevTools port within {timeout:g} s. "
                    + _tail(stderr_path)
                )
            port, ws_path = port_info
            ws_url = _browser_ws_url(port, deadline) or f"ws://127.0.0.1:{port}{ws_path}"
        except BaseException:
            _kill_tree(popen.pid)
            with contextlib.suppress(Exception):
                popen.wait(5)
            raise
        proc = cls(
            pid=popen.pid,
            profile_dir=profile_dir,
            port=port,
            browser_ws_url=ws_url,
            executable=exe,
            headless=headless,
            popen=None if detached else popen,
        )
        if detached:
            # Nobody will wait() for it from here; a reaper thread avoids a zombie while we live.
            threading.Thread(target=popen.wait, name="chromium-reaper", daemon=True).start()
        return proc

    @classmethod
    def attach(cls, profile_dir: Path, *, timeout: float = 3.0) -> ChromiumProcess | None:
        """The browser already running on `profile_dir` (started detached earlier), if its
        DevTools endpoint answers; else None."""
        profile_dir = Path(profile_dir).resolve()
        pid = profile_owner_pid(profile_dir)
        port_info = _read_port_file(profile_dir)
        if pid is None or port_info is None:
            return None
        port = port_info[0]
        try:
            with httpx.Client(timeout=timeout, trust_env=False) as client:
                version = client.get(f"http://127.0.0.1:{port}/json/version").json()
        except (httpx.HTTPError, ValueError):
            return None
        ws_url = str(version.get("webSocketDebuggerUrl") or "")
        if not ws_url:
            return None
        headless = "Headless" in str(version.get("User-Agent", ""))
        proc = cls(
            pid=pid,
            profile_dir=profile_dir,
            port=port,
            browser_ws_url=ws_url,
            executable=None,
            headless=headless,
        )
        proc.owner = _read_owner(profile_dir, pid)
        return proc

    # -- facts

    @property
    def port(self) -> int:
        return self._port

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def browser_ws_url(self) -> str:
        return self._browser_ws_url

    def pages(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The open tabs (type "page") from /json/list: id, url, title, webSocketDebuggerUrl."""
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            response = client.get(f"{self.http_url}/json/list")
            response.raise_for_status()
            items = response.json()
        return [dict(item) for item in items if item.get("type") == "page"]

    # -- stopping

    def _close_gracefully(self, timeout: float) -> bool:
        """Browser.close over CDP (the profile is flushed), else SIGTERM."""
        if _cdp_browser_close(self._browser_ws_url, timeout=min(3.0, timeout / 2)) and self._wait(
            timeout / 2
        ):
            return True
        return super()._close_gracefully(timeout / 2)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        with contextlib.suppress(OSError):
            (self.profile_dir / PORT_FILE).unlink()

    def __repr__(self) -> str:
        state = "alive" if self.alive else "stopped"
        return f"<ChromiumProcess pid={self._pid} port={self._port} {state}>"


def _tail(path: Path, limit: int = 600) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    return f"Its last output: {text[-limit:]}" if text else ""


def _browser_ws_url(port: int, deadline: float) -> str | None:
    """webSocketDebuggerUrl from /json/version, retried until `deadline`."""
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            try:
                data = client.get(f"http://127.0.0.1:{port}/json/version").json()
                return str(data["webSocketDebuggerUrl"])
            except (httpx.HTTPError, ValueError, KeyError):
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.05)


def _process_alive(pid: int, started: float | None = None) -> bool:
    """Whether `pid` runs (not a zombie) and, given its start time, is still that process."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return started is None or abs(proc.create_time() - float(started)) < 1.0
    except psutil.AccessDenied:
        return True
    except psutil.Error:
        return False


def _write_owner(
    profile_dir: Path, browser_pid: int | None, detached: bool, kind: str = "pipe"
) -> None:
    try:
        started = psutil.Process(os.getpid()).create_time()
    except psutil.Error:
        started = None
    record = {
        "browser_pid": browser_pid,
        "owner_pid": os.getpid(),
        "owner_started": started,
        "detached": detached,
        "kind": kind,  # "pipe" (driven by Playwright), "login" (a window), "cdp" (sandbox)
    }
    path = profile_dir / OWNER_FILE
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as error:
        log.warning("could not record the browser's owner in %s: %s", path, error)


def _read_owner(profile_dir: Path, browser_pid: int) -> dict[str, Any] | None:
    """The OWNER_FILE record when it describes this browser pid (or a start that was cut off
    before the pid was known), else None."""
    try:
        record = json.loads((profile_dir / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("browser_pid") not in (None, browser_pid):
        return None
    if not isinstance(record.get("owner_pid"), int):
        return None
    return record


def _processes_of(profile_dir: Path) -> list[psutil.Process]:
    """Every process running with this exact profile (`--user-data-dir=<profile_dir>`)."""
    flag = f"--user-data-dir={profile_dir}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if flag in (proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _browser_pid_by_flag(profile_dir: Path) -> int | None:
    """The browser process of this profile found by its command line (where there is no
    SingletonLock symlink to read): the one whose parent is not of the same profile."""
    procs = _processes_of(profile_dir)
    pids = {proc.pid for proc in procs}
    for proc in procs:
        try:
            if proc.ppid() not in pids and proc.status() != psutil.STATUS_ZOMBIE:
                return int(proc.pid)
        except psutil.Error:
            continue
    return None


def _kill_leftovers(profile_dir: Path) -> None:
    """Kill processes still running with this exact profile (renderers, zygotes or GPU helpers
    left when the browser process itself crashed or was killed)."""
    leftovers = _processes_of(profile_dir)
    for proc in leftovers:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if leftovers:
        psutil.wait_procs(leftovers, timeout=5)


def _kill_tree(pid: int) -> None:
    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


def _cdp_browser_close(ws_url: str, timeout: float) -> bool:
    """Send Browser.close over CDP. Runs its own event loop on a helper thread, so it works
    from any thread (also from inside a running loop). True when the browser acknowledged."""
    result: list[bool] = []

    async def send() -> bool:
        import aiohttp

        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=client_timeout, trust_env=False) as session,
            session.ws_connect(ws_url, max_msg_size=0) as ws,
        ):
            await ws.send_str(json.dumps({"id": 1, "method": "Browser.close"}))
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                if json.loads(str(message.data)).get("id") == 1:
                    return True
            return True  # the socket closed: the browser is going away

    def runner() -> None:
        try:
            result.append(asyncio.run(asyncio.wait_for(send(), timeout)))
        except Exception as error:
            log.debug("Browser.close over CDP failed: %s", type(error).__name__)
            result.append(False)

    thread = threading.Thread(target=runner, name="cdp-close", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(result and result[0])


def platform_summary() -> str:
    """For diagnostics: OS and the browser that would be used (or why none)."""
    try:
        browser = str(find_browser())
    except BrowserNotFound:
        browser = "none found"
    return f"{platform.system()} {platform.release()}; browser: {browser}"
