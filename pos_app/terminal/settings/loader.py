"""Load, validate and explain the terminal's settings.

Layers, later wins: packaged defaults (the declarations in settings_schema),
``/etc/pos-app/config.toml`` (store IT), the user's config file (platformdirs),
then ``POS_APP_<SECTION>_<KEY>`` environment variables. Any bad file or value
stops start-up with one line naming the file, the key, the bad value and what
is allowed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from pos_app.core.errors import ConfigError
from pos_app.terminal.settings.schema import SECTION_TYPES, Declared, Settings, declared

APP_NAME = "pos-app"
SYSTEM_CONFIG = Path("/etc/pos-app/config.toml")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    sources: Mapping[str, str]  # "section.key" -> "default" | file path | "env POS_APP_..."


def load_settings(
    *,
    system_file: Path | None = SYSTEM_CONFIG,
    user_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedSettings:
    decls = {d.name: d for d in declared()}
    values: dict[str, Any] = {name: d.default for name, d in decls.items()}
    sources: dict[str, str] = dict.fromkeys(decls, "default")
    for path in (system_file, user_file if user_file is not None else user_config_file()):
        if path is not None and path.exists():
            for name, value in _read_file(path, decls).items():
                values[name], sources[name] = value, str(path)
    environ = os.environ if env is None else env
    for name, decl in decls.items():
        raw = environ.get(decl.env_var)
        if raw is not None:
            where = f"environment variable {decl.env_var}"
            values[name] = _coerce(decl, _from_env(decl, raw), where)
            sources[name] = f"env {decl.env_var}"
    settings = _build(values)
    _cross_check(settings, sources)
    return LoadedSettings(settings, sources)


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
    return out


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
        "# Copy what you change to /etc/pos-app/config.toml (store IT) or the user's",
        "# config file; POS_APP_<SECTION>_<KEY> environment variables override both.",
        "# 'pos-app config show' prints the effective value of each and where it came from.",
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
        out.append({"setting": decl.name, "value": value, "source": loaded.sources[decl.name]})
    return out
