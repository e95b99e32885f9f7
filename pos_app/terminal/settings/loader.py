"""Load, validate and explain the terminal's settings.

Layers, later wins: built-in defaults (the declarations in settings/schema.py), the
package's defaults file (replaced by every upgrade, never edited), the system file
``/etc/pos-app/config.toml``, the site's drop-ins ``/etc/pos-app/config.d/*.toml`` in
name order (store IT's settings: no dpkg conffile prompt stops an unattended upgrade),
the user's config file (platformdirs), then ``POS_APP_<SECTION>_<KEY>`` environment
variables.

On a till that store IT manages (any system file exists) the settings that decide
where money goes or how the till is secured (``Declared.it_owned``) come only from
the system files and the service's own environment (a process systemd started): a
user's file or shell variable for one of them is ignored, and ``config show`` says so.

Any bad file or value stops start-up with one line naming the file, the key, the bad
value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from pos_app.core.errors import ConfigError
from pos_app.terminal.settings.schema import SECTION_TYPES, Declared, Settings, declared

APP_NAME = "pos-app"


def _system_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / APP_NAME
    if sys.platform == "darwin":
        return Path("/Library/Application Support") / APP_NAME
    return Path("/etc") / APP_NAME


SYSTEM_DIR = _system_dir()
SYSTEM_CONFIG = SYSTEM_DIR / "config.toml"
DROP_IN_DIR = "config.d"  # next to the system file
# Written by the package (packaging/debian/defaults.toml); an upgrade replaces it.
PACKAGE_DEFAULTS = Path("/usr/share/pos-app/defaults.toml")
SERVICE_MARKER = "INVOCATION_ID"  # systemd sets it for every unit it starts
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    sources: Mapping[str, str]  # "section.key" -> "default" | file path | "env POS_APP_..."
    # "section.key" -> why the value won: the layers it overrode, the ones ignored
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    system_files: tuple[Path, ...] = ()  # the system layers that exist (empty: unmanaged)

    def is_system_source(self, name: str) -> bool:
        """Did the value of ``name`` come from a system file (store IT, the package)?"""
        return self.sources.get(name, "default") in {str(p) for p in self.system_files}


def system_layers(system_file: Path | None, package_file: Path | None) -> tuple[Path, ...]:
    """The system files that exist, in load order."""
    drop_ins: list[Path] = []
    if system_file is not None:
        folder = system_file.parent / DROP_IN_DIR
        if folder.is_dir():
            drop_ins = sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())
    candidates = (package_file, system_file, *drop_ins)
    return tuple(p for p in candidates if p is not None and p.exists())


def load_settings(
    *,
    system_file: Path | None = SYSTEM_CONFIG,
    user_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    package_file: Path | None = PACKAGE_DEFAULTS,
) -> LoadedSettings:
    decls = {d.name: d for d in declared()}
    layers = _Layers(decls)
    system = system_layers(system_file, package_file)
    for path in system:
        layers.apply_file(path, user=False, managed=True)
    user = user_file if user_file is not None else user_config_file()
    if user.exists():
        layers.apply_file(user, user=True, managed=bool(system))
    environ = os.environ if env is None else env
    layers.apply_env(environ, managed=bool(system), service=SERVICE_MARKER in environ)
    settings = _build(layers.values)
    _cross_check(settings, layers.sources)
    notes = {name: tuple(n) for name, n in layers.notes.items() if n}
    return LoadedSettings(settings, dict(layers.sources), notes, system)


class _Layers:
    """Values, where each came from, and why: applied one layer at a time."""

    def __init__(self, decls: Mapping[str, Declared]) -> None:
        self.decls = decls
        self.values: dict[str, Any] = {name: d.default for name, d in decls.items()}
        self.sources: dict[str, str] = dict.fromkeys(decls, "default")
        self.notes: dict[str, list[str]] = {name: [] for name in decls}

    def apply_file(self, path: Path, *, user: bool, managed: bool) -> None:
        for name, value in _read_file(path, self.decls).items():
            self._set(name, value, str(path), user=user, managed=managed)

    def apply_env(self, environ: Mapping[str, str], *, managed: bool, service: bool) -> None:
        for name, decl in self.decls.items():
            raw = environ.get(decl.env_var)
            if raw is not None:
                value = _coerce(decl, _from_env(decl, raw), f"environment variable {decl.env_var}")
                self._set(name, value, f"env {decl.env_var}", user=not service, managed=managed)

    def _set(self, name: str, value: Any, source: str, *, user: bool, managed: bool) -> None:
        if user and managed and self.decls[name].it_owned:
            self.notes[name].append(
                f"ignored {source}: store IT sets this on this till (/etc/pos-app/config.d "
                "or the service's environment), never a user's file or shell"
            )
            return
        if self.sources[name] != "default":
            self.notes[name].append(f"overrides {self.sources[name]}")
        self.values[name], self.sources[name] = value, source


def _read_file(path: Path, decls: Mapping[str, Declared]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc}); fix its permissions or remove it"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    out: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SECTION_TYPES:
            raise ConfigError(
                f"{path}: unknown section [{section}]; allowed: {', '.join(SECTION_TYPES)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section} must be a [{section}] table")
        for key, value in table.items():
            decl = decls.get(f"{section}.{key}")
            if decl is None:
                keys = ", ".join(d.key for d in decls.values() if d.section == section)
                raise ConfigError(f"{path}: unknown key [{section}] {key}; allowed: {keys}")
            out[decl.name] = _coerce(decl, value, str(path))
            if decl.secret and value:
                _check_private(path, decl)
    return out


def _check_private(path: Path, decl: Declared) -> None:
    """A secret (a PIN verifier) in a file other accounts can read is refused (issue 15.4)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{path}: [{decl.section}] {decl.key} must not be in a file other accounts can "
            f"read (mode {mode:04o}): remove it and add a manager account instead "
            "(pos-app cashier add <id> <name> --role manager --pin-stdin), or keep it in a "
            "file of mode 0600 owned by the till's account"
        )


def _from_env(decl: Declared, raw: str) -> Any:
    """Turn an environment string into the declared type; leave it a string if it is not one."""
    text = raw.strip()
    if decl.type is bool:
        return text.lower() in _TRUE if text.lower() in _TRUE | _FALSE else raw
    if decl.type is int:
        return int(text) if text.lstrip("-").isdigit() else raw
    if decl.type is float:
        try:
            return float(text)
        except ValueError:
            return raw
    if decl.type is str:
        return raw
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _coerce(decl: Declared, value: Any, where: str) -> Any:
    """Check a value against its declaration; raise naming where, key, value and what is allowed."""
    ok = _TYPE_CHECKS.get(decl.type, _is_string_list)(value)
    if ok and decl.type not in _TYPE_CHECKS:
        ok = bool(value) and (not decl.choices or all(v in decl.choices for v in value))
        value = tuple(value) if ok else value
    elif ok:
        value = float(value) if decl.type is float else value
        ok = not decl.choices or value in decl.choices
        ok = ok and (decl.minimum is None or value >= decl.minimum)
        ok = ok and (decl.maximum is None or value <= decl.maximum)
    if not ok:
        shown = "(hidden)" if decl.secret else repr(value)
        raise ConfigError(
            f"{where}: [{decl.section}] {decl.key} = {shown} is invalid; allowed: {decl.allowed()}"
        )
    return value


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


_TYPE_CHECKS: dict[Any, Any] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def _build(values: Mapping[str, Any]) -> Settings:
    sections: dict[str, Any] = {}
    for section, cls in SECTION_TYPES.items():
        fields = {f.name: values[f"{section}.{f.name}"] for f in dataclasses.fields(cls)}
        sections[section] = cls(**fields)
    return Settings(**sections)


def _cross_check(settings: Settings, sources: Mapping[str, str]) -> None:
    url = settings.backend.url
    if url and not is_allowed_backend_url(url):
        raise ConfigError(
            f"{sources['backend.url']}: [backend] url = {url!r} is invalid; allowed: an "
            "https:// URL, or http:// to a loopback address (127.0.0.1, ::1, localhost)"
        )


def is_allowed_backend_url(url: str) -> bool:
    """TLS always, except plain HTTP to this machine (the demo's embedded backend)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def data_dir(settings: Settings) -> Path:
    configured = settings.paths.data_dir
    return Path(configured) if configured else Path(platformdirs.user_data_dir(APP_NAME))


def log_dir(settings: Settings) -> Path:
    configured = settings.paths.log_dir
    return Path(configured) if configured else Path(platformdirs.user_log_dir(APP_NAME))


def render_default_toml() -> str:
    """The documented defaults file, ``config/default.toml``."""
    lines = [
        "# pos-app settings: every setting with its default and what it does.",
        "# Store IT: copy what you change to a drop-in, /etc/pos-app/config.d/<name>.toml",
        "# (read in name order; upgrades never touch them). Users may set the ui, scanner,",
        "# logging and backend timeout settings in their own config file; POS_APP_<SECTION>_<KEY>",
        "# environment variables override files ('pos-app config show' says which value won).",
    ]
    section = None
    for decl in declared():
        if decl.section != section:
            section = decl.section
            lines += ["", f"[{section}]"]
        lines.append(f"# {decl.doc} Allowed: {decl.allowed()}.")
        lines.append(f"{decl.key} = {_toml_value(decl.default)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def describe(loaded: LoadedSettings) -> list[dict[str, Any]]:
    """Effective settings for display, secrets masked."""
    out = []
    for decl in declared():
        section = getattr(loaded.settings, decl.section)
        value = getattr(section, decl.key)
        if decl.secret and value:
            value = "****"
        elif isinstance(value, tuple):
            value = list(value)
        why = list(loaded.notes.get(decl.name, ()))
        out.append(
            {"setting": decl.name, "value": value, "source": loaded.sources[decl.name], "why": why}
        )
    return out
