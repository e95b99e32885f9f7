"""The demo's two cables, as switches a newcomer can flip: the till's network
(offline acceptance and the outbox) and its camera (the scanner fallback)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QGroupBox, QVBoxLayout

from pos_app.ui.i18n import Texts


class DemoSwitches(QGroupBox):
    """``network.up`` and ``camera.plugged`` are flipped; the till notices by itself,
    as it would a real cable (failed requests, a camera that stops sending)."""

    def __init__(self, texts: Texts, *, network: Any | None, camera: Any | None) -> None:
        super().__init__(texts.t("demo.switches"))
        self._network, self._camera = network, camera
        self.network_down = QCheckBox(texts.t("demo.network_down"))
        self.camera_off = QCheckBox(texts.t("demo.camera_off"))
        self.network_down.setEnabled(network is not None)
        self.camera_off.setEnabled(camera is not None and hasattr(camera, "plugged"))
        self.network_down.toggled.connect(self._set_network)
        self.camera_off.toggled.connect(self._set_camera)
        layout = QVBoxLayout(self)
        layout.addWidget(self.network_down)
        layout.addWidget(self.camera_off)

    def _set_network(self, down: bool) -> None:
        if self._network is not None:
            self._network.up = not down

    def _set_camera(self, off: bool) -> None:
        if self._camera is not None:
            self._camera.plugged = not off
