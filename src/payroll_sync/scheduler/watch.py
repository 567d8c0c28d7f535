"""The settings file as the scheduler follows it: re-read when it changes, kept when broken."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import structlog

from payroll_sync import config
from payroll_sync.errors import SyncError
from payroll_sync.schemas.settings import Settings

log = structlog.get_logger("payroll_sync.scheduler")

Load = Callable[[str], Settings]


def _fingerprint(path: str) -> str:
    # By content, not modification time: timestamps are coarse (two quick edits of the same
    # size can share one), and a file restored from a backup may carry an old one. The file is
    # small; reading it every few seconds costs nothing.
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable: {type(error).__name__}"


class SettingsWatcher:
    """Holds the current settings; `refresh()` re-reads the file when it has changed.

    The first load happens in the constructor and raises `ConfigError` on a bad file: a
    scheduler must not start without settings. Later a broken file is logged and the settings
    loaded before stay in force until the file is fixed.
    """

    def __init__(self, path: str, *, load: Load = config.load_settings) -> None:
        self.path = path
        self._load = load
        self._seen = _fingerprint(path)
        self.settings = load(path)

    def refresh(self) -> bool:
        """Re-read the file if it changed since the last look; True if new settings are in force."""
        seen = _fingerprint(self.path)
        if seen == self._seen:
            return False
        # Remembered even when the file is broken: one error event per change, not one per pass.
        # (Should the file change again between the look and the load, the next pass sees that.)
        self._seen = seen
        try:
            settings = self._load(self.path)
        except SyncError as error:
            log.error("schedule.reload_failed", path=self.path, reason=error.reason)
            return False
        self.settings = settings
        log.info(
            "schedule.reloaded",
            path=self.path,
            integrations=len(settings.integrations),
            scheduled=sorted(
                name for name, item in settings.integrations.items() if item.schedule.enabled
            ),
        )
        return True
