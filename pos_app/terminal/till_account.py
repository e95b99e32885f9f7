"""The one OS account that runs the till and owns its data.

Cashiers sign in inside the app; the operating system sees one account, the till's
kiosk account, and only it may read or write the data directory (the database and its
``-wal``/``-shm`` files, the terminal key, the PIN pepper). Store IT met what happens
otherwise: a doctor run by an admin left ``-wal``/``-shm`` files the till could not
write ("attempt to write a readonly database"), and an enrollment run as root left a
key the till could not read.

So every command that touches the data calls :func:`become_till_account` first:

- run by the till's account, it goes ahead and creates files 0600 (umask 077);
- run by root, it becomes the till's account before opening anything, so
  ``sudo pos-app enroll ...`` leaves files the till can use;
- run by anyone else, it refuses and prints the command to run instead.

Which account: ``[paths] owner`` (``pos-app setup --owner`` writes it), else the owner
of the data directory, else whoever creates it (a developer's own data directory).
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pos_app.core.errors import PosError

if sys.platform != "win32":  # POSIX account databases; Windows uses the installer's ACLs
    import grp
    import pwd

OWNER_DROP_IN = "00-till-account.toml"
LOG_GROUP = "pos-app"  # store IT reads the logs (never secrets) through this group


class DataOwnerError(PosError):
    code = "data_owner"


@dataclass(frozen=True, slots=True)
class TillAccount:
    name: str
    uid: int
    gid: int
    home: str


def lookup(name: str) -> TillAccount:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise DataOwnerError(
            f"there is no OS account {name!r}: create the till's account first "
            f"(sudo adduser {name}) or correct [paths] owner"
        ) from None
    return TillAccount(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def till_account(owner: str, directory: Path) -> TillAccount | None:
    """The configured owner, else the data directory's owner; None before either exists."""
    if owner:
        return lookup(owner)
    try:
        uid = directory.stat().st_uid
    except FileNotFoundError:
        return None
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return TillAccount(str(uid), uid, directory.stat().st_gid, "/")
    return TillAccount(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def setup_command(owner: str = "ACCOUNT") -> str:
    return f"sudo pos-app setup --owner {owner}"


def become_till_account(
    *,
    owner: str,
    directory: Path,
    argv: Sequence[str],
    system_install: bool,
    inspect_only: bool = False,
) -> TillAccount | None:
    """Make this process the till's account before it touches the data, or refuse.

    ``system_install``: the data directory comes from /etc (the package), where root
    must never end up owning the till's files. ``inspect_only`` (doctor): files the
    till's account cannot use are reported by the caller, not refused here."""
    if os.name != "posix":
        return None  # Windows: the installer's ACLs do this job (packaging/windows)
    os.umask(0o077)
    account = till_account(owner, directory)
    euid = os.geteuid()
    if account is None or account.uid == 0:
        if euid == 0 and system_install:
            raise DataOwnerError(
                f"no OS account is named to own the till's data in {directory}; name the "
                f"till's (kiosk) account once: {setup_command()}"
            )
        return account
    if euid == 0:
        _switch_to(account)
    elif euid != account.uid:
        me = pwd.getpwuid(euid).pw_name if _known(euid) else str(euid)
        raise DataOwnerError(
            f"the till's data in {directory} belongs to the account {account.name}, and "
            f"this command runs as {me}: run it as the till's account: "
            f"sudo -u {account.name} {shlex.join(['pos-app', *argv])}"
        )
    found = [] if inspect_only else problems(directory, account)
    if found:
        raise DataOwnerError(f"{found[0]}; fix: {setup_command(account.name)}")
    return account


def _known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def _switch_to(account: TillAccount) -> None:
    os.setgroups(os.getgrouplist(account.name, account.gid))
    os.setgid(account.gid)
    os.setuid(account.uid)
    os.environ.update(HOME=account.home, USER=account.name, LOGNAME=account.name)
    print(f"pos-app: running as {account.name}, the till's account", file=sys.stderr)


def problems(directory: Path, account: TillAccount) -> list[str]:
    """Every path under the data directory the till's account cannot use, or others can read."""
    if not directory.exists():
        return []
    found = []
    for path in [directory, *sorted(directory.rglob("*"))]:
        info = path.lstat()
        is_dir = stat.S_ISDIR(info.st_mode)
        mode = stat.S_IMODE(info.st_mode)
        needed = 0o700 if is_dir else 0o600
        if info.st_uid != account.uid:
            found.append(f"{path} belongs to {_name(info.st_uid)}, not to {account.name}")
        elif mode & needed != needed:
            found.append(f"{path} is not readable and writable by {account.name}")
        elif mode & 0o077:
            found.append(f"{path} can be read by other accounts (mode {mode:04o})")
    return found


def _name(uid: int) -> str:
    return pwd.getpwuid(uid).pw_name if _known(uid) else f"uid {uid}"


def setup(owner: str, *, data_dir: Path, log_dir: Path, config_dir: Path) -> list[str]:
    """Hand the data and log directories to the till's account (root only); idempotent,
    so it also repairs what another account left behind."""
    account = lookup(owner)
    if account.uid == 0:
        raise DataOwnerError("the till must not run as root: name its desktop (kiosk) account")
    if os.geteuid() != 0:
        raise DataOwnerError(f"setting up needs root: {setup_command(owner)}")
    data_dir.mkdir(parents=True, exist_ok=True)
    _hand_over(data_dir, uid=account.uid, gid=account.gid, dir_mode=0o700, file_mode=0o600)
    log_gid = _group_id(LOG_GROUP, default=account.gid)
    log_dir.mkdir(parents=True, exist_ok=True)
    _hand_over(log_dir, uid=account.uid, gid=log_gid, dir_mode=0o2750, file_mode=0o640)
    config_dir.mkdir(parents=True, exist_ok=True)
    drop_in = config_dir / OWNER_DROP_IN
    drop_in.write_text(
        f"# Written by 'pos-app setup': the OS account that runs the till and owns its data.\n"
        f'[paths]\nowner = "{account.name}"\n',
        encoding="utf-8",
    )
    drop_in.chmod(0o644)
    return [
        f"{data_dir}: owned by {account.name}, mode 0700, files 0600",
        f"{log_dir}: owned by {account.name}, group {_group_name(log_gid)}, mode 2750",
        f"{drop_in}: [paths] owner = {account.name!r}",
    ]


def _hand_over(top: Path, *, uid: int, gid: int, dir_mode: int, file_mode: int) -> None:
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            path.unlink()  # nothing in these directories is a link; one could point anywhere
            continue
        os.chown(path, uid, gid)
        path.chmod(dir_mode if path.is_dir() else file_mode)


def _group_id(name: str, *, default: int) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return default


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
