"""Notice that a newer pos-app was installed under a running till.

The till restarts into the new release by itself, but only at an idle moment
(pos_app/ui/kiosk.py decides when): never during a sale. A release counts as
installed only when dpkg says so (``install ok installed``), that is after its
files were unpacked *and* its postinst ran, never half-way through an upgrade.
Elsewhere than on Debian there is no dpkg and nothing is watched.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

PACKAGE = "pos-app"


def installed_version(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> str:
    """The fully installed version of the package, or "" (not a .deb install, or mid-upgrade)."""
    if shutil.which("dpkg-query") is None:
        return ""
    try:
        done = run(
            ["dpkg-query", "-W", "-f=${Status}\\t${Version}", PACKAGE],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    status, _, version = done.stdout.partition("\t")
    return version.strip() if done.returncode == 0 and status == "install ok installed" else ""


class UpdateWatch:
    """``pending()`` names a newly installed version, once one differs from the start's."""

    def __init__(self, query: Callable[[], str] = installed_version) -> None:
        self._query = query
        self.running = query()

    def pending(self) -> str:
        if not self.running:
            return ""  # not installed from the package: nothing to restart into
        now = self._query()
        return now if now and now != self.running else ""
