"""Drop-ins, IT-owned settings and secrets in files (issue 16.2, 16.4, 15.4)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pos_app.core.errors import ConfigError
from pos_app.terminal.settings.loader import describe, load_settings

REPO = Path(__file__).resolve().parents[2]


def site(tmp_path: Path, drop_ins: dict[str, str], *, system: str = "") -> Path:
    etc = tmp_path / "etc"
    (etc / "config.d").mkdir(parents=True)
    (etc / "config.toml").write_text(system)
    for name, text in drop_ins.items():
        (etc / "config.d" / name).write_text(text)
    return etc / "config.toml"


def test_drop_ins_load_in_name_order_after_the_package_and_system_files(tmp_path: Path) -> None:
    package = tmp_path / "package.toml"
    package.write_text("[scanner]\nfps = 10\nwidth = 640\nheight = 480\n")
    system = site(
        tmp_path,
        {"20-b.toml": "[scanner]\nfps = 20\n", "10-a.toml": "[scanner]\nfps = 15\nwidth = 800\n",
         "30-c.toml.dpkg-old": "[scanner]\nfps = 99\n"},
        system="[scanner]\nwidth = 1024\n",
    )  # fmt: skip
    loaded = load_settings(
        system_file=system, package_file=package, user_file=tmp_path / "u", env={}
    )
    s = loaded.settings.scanner
    assert (s.fps, s.width, s.height) == (20, 800, 480)
    assert loaded.sources["scanner.fps"] == str(system.parent / "config.d" / "20-b.toml")
    assert loaded.sources["scanner.height"] == str(package)
    assert loaded.notes["scanner.width"] == (
        f"overrides {package}",
        f"overrides {system}",
    )


def test_a_bad_drop_in_names_its_file_key_and_value(tmp_path: Path) -> None:
    system = site(tmp_path, {"50-site.toml": "[scanner]\nfps = 500\n"})
    with pytest.raises(ConfigError) as info:
        load_settings(system_file=system, package_file=None, user_file=tmp_path / "u", env={})
    assert str(system.parent / "config.d" / "50-site.toml") in info.value.message
    assert "fps = 500" in info.value.message and "from 1 to 120" in info.value.message


def test_user_file_and_shell_cannot_move_money_settings_on_a_managed_till(tmp_path: Path) -> None:
    system = site(tmp_path, {"10-site.toml": '[backend]\nurl = "https://good.example"\n'})
    user = tmp_path / "user.toml"
    user.write_text(
        '[backend]\nurl = "https://evil.example"\nread_timeout_s = 20.0\n'
        '[ui]\nlanguage = "en"\n[payment]\nallow_offline = false\n'
    )
    env = {"POS_APP_BACKEND_URL": "https://evil2.example", "POS_APP_UI_SOUND": "false"}
    loaded = load_settings(system_file=system, package_file=None, user_file=user, env=env)
    s = loaded.settings
    assert s.backend.url == "https://good.example"
    assert s.payment.allow_offline is True  # IT's (here the default) stays
    assert (s.backend.read_timeout_s, s.ui.language, s.ui.sound) == (20.0, "en", False)
    why = {r["setting"]: r for r in describe(loaded)}["backend.url"]
    assert why["source"].endswith("10-site.toml")
    assert any(n.startswith(f"ignored {user}: store IT sets this") for n in why["why"])
    assert any(n.startswith("ignored env POS_APP_BACKEND_URL") for n in why["why"])


def test_the_service_environment_may_set_it_owned_settings(tmp_path: Path) -> None:
    system = site(tmp_path, {"10-site.toml": '[backend]\nurl = "https://good.example"\n'})
    env = {"POS_APP_BACKEND_URL": "https://other.example", "INVOCATION_ID": "abc"}
    loaded = load_settings(system_file=system, package_file=None, user_file=tmp_path / "u", env=env)
    assert loaded.settings.backend.url == "https://other.example"
    assert loaded.sources["backend.url"] == "env POS_APP_BACKEND_URL"


def test_an_unmanaged_machine_keeps_user_settings(tmp_path: Path) -> None:
    """A developer's machine (no system file): the user's file may set anything."""
    user = tmp_path / "user.toml"
    user.write_text('[backend]\nurl = "https://dev.example"\n')
    loaded = load_settings(system_file=tmp_path / "absent.toml", package_file=None,
                           user_file=user, env={})  # fmt: skip
    assert loaded.settings.backend.url == "https://dev.example"


def test_a_readable_manager_pin_hash_is_refused(tmp_path: Path) -> None:
    system = site(tmp_path, {"10-site.toml": '[security]\nmanager_pin_hash = "scrypt$x"\n'})
    drop_in = system.parent / "config.d" / "10-site.toml"
    drop_in.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        load_settings(system_file=system, package_file=None, user_file=tmp_path / "u", env={})
    assert f"{drop_in}: [security] manager_pin_hash must not be in a file" in info.value.message
    assert "mode 0644" in info.value.message and "--role manager" in info.value.message
    drop_in.chmod(0o600)
    loaded = load_settings(system_file=system, package_file=None, user_file=tmp_path / "u", env={})
    assert loaded.settings.security.manager_pin_hash == "scrypt$x"


def test_config_show_prints_why_a_value_won(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[ui]\nlanguage = "en"\n')
    env = {"POS_APP_UI_LANGUAGE": "ja", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "pos_app", "config", "show", "--json", "--config", str(user)],
        capture_output=True, text=True, cwd=REPO, env=env, check=True,
    )  # fmt: skip
    rows = {r["setting"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert rows["ui.language"]["value"] == "ja"
    assert rows["ui.language"]["why"] == [f"overrides {user}"]
