from pathlib import Path

import pytest

from pos_app.core.errors import ConfigError
from pos_app.terminal.settings.loader import (
    LoadedSettings,
    describe,
    is_allowed_backend_url,
    load_settings,
    render_default_toml,
)
from pos_app.terminal.settings.schema import declared

REPO = Path(__file__).resolve().parents[2]


def load(
    tmp_path: Path,
    system: str | None = None,
    user: str | None = None,
    env: dict[str, str] | None = None,
) -> LoadedSettings:
    sys_file, user_file = tmp_path / "etc.toml", tmp_path / "user.toml"
    if system is not None:
        sys_file.write_text(system, encoding="utf-8")
    if user is not None:
        user_file.write_text(user, encoding="utf-8")
    return load_settings(system_file=sys_file, user_file=user_file, env=env or {})


def test_defaults_when_nothing_is_configured(tmp_path: Path) -> None:
    loaded = load(tmp_path)
    assert loaded.settings.terminal.audience == "pos.jp"
    assert loaded.settings.scanner.decoders == ("zxing", "zxing-smooth", "pyzbar")
    assert loaded.settings.scanner.formats == ("qr", "ean13", "ean8")  # UPC only when asked
    assert set(loaded.sources.values()) == {"default"}


def test_precedence_default_system_user_env(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        system='[scanner]\nfps = 15\nwidth = 640\n[ui]\nlanguage = "en"\n',
        user="[scanner]\nfps = 20\n",
        env={"POS_APP_SCANNER_WIDTH": "800", "POS_APP_UI_SOUND": "false"},
    )
    s = loaded.settings
    assert (s.scanner.fps, s.scanner.width, s.ui.language, s.ui.sound) == (20, 800, "en", False)
    assert loaded.sources["scanner.fps"] == str(tmp_path / "user.toml")
    assert loaded.sources["ui.language"] == str(tmp_path / "etc.toml")
    assert loaded.sources["scanner.width"] == "env POS_APP_SCANNER_WIDTH"
    assert loaded.sources["scanner.height"] == "default"


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load(tmp_path).settings
    with pytest.raises(AttributeError):
        s.scanner.fps = 10  # type: ignore[misc]  # a frozen field, on purpose


def test_env_lists_ints_floats(tmp_path: Path) -> None:
    s = load(
        tmp_path,
        env={
            "POS_APP_SCANNER_DECODERS": "pyzbar, zxing",
            "POS_APP_BACKEND_READ_TIMEOUT_S": "2.5",
            "POS_APP_BACKEND_RETRIES": "0",
        },
    ).settings
    assert s.scanner.decoders == ("pyzbar", "zxing")
    assert s.backend.read_timeout_s == 2.5 and s.backend.retries == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[scanner]\nfps = 0\n", "[scanner] fps = 0 is invalid; allowed: an integer from 1 to 120"),
        ('[scanner]\nfps = "30"\n', "[scanner] fps = '30' is invalid"),
        ("[scanner]\nfps = 30.5\n", "allowed: an integer"),
        ('[ui]\nlanguage = "fr"\n', "language = 'fr' is invalid; allowed: one of 'en', 'ja'"),
        ("[ui]\nsound = 1\n", "allowed: true or false"),
        ("[backend]\nconnect_timeout_s = true\n", "allowed: a number from 0.1 to 60"),
        ('[scanner]\ndecoders = ["zxing", "opencv"]\n', "allowed: a list of one of"),
        ("[scanner]\ndecoders = []\n", "decoders = [] is invalid"),
        ('[scanner]\ndecoders = "zxing"\n', "decoders = 'zxing' is invalid"),
        ("[scanner]\nframerate = 30\n", "unknown key [scanner] framerate; allowed: camera, width"),
        ("[camera]\nfps = 30\n", "unknown section [camera]; allowed: terminal, backend"),
        ("scanner = 3\n", "scanner must be a [scanner] table"),
        ("[scanner\nfps = 3\n", "not valid TOML"),
        ('[backend]\nurl = "http://backend.example.com"\n', "http:// to a loopback address"),
        ('[backend]\nurl = "ftp://127.0.0.1"\n', "[backend] url = 'ftp://127.0.0.1' is invalid"),
        ("[security]\nmanager_pin_hash = 5\n", "manager_pin_hash = (hidden) is invalid"),
    ],
)
def test_bad_files_fail_with_one_clear_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, user=text)
    message = info.value.message
    assert fragment in message
    assert "\n" not in message
    assert str(tmp_path / "user.toml") in message


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("POS_APP_SCANNER_FPS", "fast", "environment variable POS_APP_SCANNER_FPS: [scanner] fps"),
        ("POS_APP_UI_SOUND", "loud", "[ui] sound = 'loud' is invalid; allowed: true or false"),
        ("POS_APP_BACKEND_READ_TIMEOUT_S", "soon", "read_timeout_s = 'soon'"),
        ("POS_APP_SCANNER_DECODERS", "zbar", "decoders = ('zbar',) is invalid"),
        ("POS_APP_UI_THEME", "neon", "allowed: one of 'standard', 'high_contrast'"),
    ],
)
def test_bad_environment_values(tmp_path: Path, var: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, env={var: value})
    assert fragment in info.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "user.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(system_file=None, user_file=tmp_path / "user.toml", env={})


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://pay.example.jp", True),
        ("http://127.0.0.1:8000", True),
        ("http://[::1]:80", True),
        ("http://localhost:9", True),
        ("http://10.0.0.5", False),
        ("http://example.com", False),
        ("https://", False),
        ("ws://127.0.0.1", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, ok: bool) -> None:
    assert is_allowed_backend_url(url) is ok


def test_config_default_toml_documents_every_setting() -> None:
    text = (REPO / "config" / "default.toml").read_text(encoding="utf-8")
    assert text == render_default_toml(), "regenerate config/default.toml from the schema"
    for decl in declared():
        assert f"\n{decl.key} = " in text
        assert decl.doc in text


def test_default_toml_loads_to_the_defaults(tmp_path: Path) -> None:
    default = (REPO / "config" / "default.toml").read_text(encoding="utf-8")
    assert (
        load(tmp_path, user=default).settings
        == load_settings(system_file=None, user_file=tmp_path / "absent.toml", env={}).settings
    )


def test_describe_masks_secrets(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[security]\nmanager_pin_hash = "scrypt$abc"\n')
    user.chmod(0o600)  # a secret in a file others can read is refused (test_settings_layers)
    rows = describe(load_settings(system_file=None, user_file=user, env={}))
    row = next(r for r in rows if r["setting"] == "security.manager_pin_hash")
    assert row["value"] == "****"
    assert "scrypt$abc" not in repr(rows)
