import json
import subprocess
import sys
from pathlib import Path

import pytest

from pos_app import __version__
from pos_app.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_version_from_python_dash_m() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pos-app {__version__}"


def test_config_show_lists_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[scanner]\nfps = 12\n", encoding="utf-8")
    assert main(["config", "show", "--json", "--config", str(user)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    fps = next(r for r in rows if r["setting"] == "scanner.fps")
    assert fps == {"setting": "scanner.fps", "value": 12, "source": str(user), "why": []}


def test_config_error_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[scanner]\nfps = -1\n", encoding="utf-8")
    assert main(["config", "show", "--config", str(user)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "fps = -1 is invalid" in err and str(user) in err
