"""Success and failure sounds. Playing a sound must never break checkout:
every failure (no audio device, missing file, no QtMultimedia) is logged once
and the sound is disabled."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl

from pos_app.terminal.paths import assets_dir

log = logging.getLogger(__name__)
SOUNDS = ("approved", "declined", "attention")


class Sounds(QObject):
    def __init__(self, *, enabled: bool, folder: Path | None = None) -> None:
        super().__init__()
        self.enabled = enabled
        self._folder = folder or assets_dir() / "sounds"
        self._effects: dict[str, Any] = {}
        self.played: list[str] = []  # what was asked for, for tests and logs

    def play(self, name: str) -> None:
        self.played.append(name)
        if not self.enabled:
            return
        try:
            effect = self._effects.get(name) or self._load(name)
            effect.play()
        except Exception:
            log.warning("sound %r cannot be played; sounds are now off", name, exc_info=True)
            self.enabled = False

    def _load(self, name: str) -> Any:
        from PySide6.QtMultimedia import QSoundEffect  # lazy: keeps cold start fast

        path = self._folder / f"{name}.wav"
        if not path.is_file():
            raise FileNotFoundError(path)
        effect = QSoundEffect(self)
        effect.setSource(QUrl.fromLocalFile(str(path)))
        effect.setVolume(0.8)
        self._effects[name] = effect
        return effect
