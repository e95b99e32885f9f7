"""ZBar in binary mode: the symbol's own bytes, not ZBar's charset guess.

pyzbar does not expose ZBar's ``ZBAR_CFG_BINARY`` switch, and ZBar's default
converts byte-mode QR data to UTF-8 after guessing Shift_JIS or ISO-8859-1,
which turned 10 of the benchmark's Japanese codes into mojibake. This module
drives the same ZBar calls pyzbar's ``decode`` makes (pyzbar is pinned
below 0.2) with that switch on. If those internals are missing, the caller
falls back to plain ``pyzbar.decode``.
"""

from __future__ import annotations

from ctypes import c_void_p, cast
from typing import Any

import numpy as np

from pos_app.scanning.symbols import GrayImage

ZBAR_CFG_ENABLE = 0
ZBAR_CFG_BINARY = 4  # zbar >= 0.23; older libraries reject it and keep converting
_REQUIRED = ("_image_scanner", "_image", "_decode_symbols", "_symbols_for_image", "_FOURCC")


def supported(pyzbar_module: Any, wrapper: Any) -> bool:
    return all(hasattr(pyzbar_module, name) for name in _REQUIRED) and hasattr(
        wrapper, "zbar_image_scanner_set_config"
    )


def decode_binary(pz: Any, wrapper: Any, *, gray: GrayImage, symbols: list[Any]) -> list[Any]:
    """Like ``pyzbar.decode(gray, symbols=symbols)`` with QR data left as bytes."""
    pixels = np.ascontiguousarray(gray, dtype=np.uint8).tobytes()
    height, width = gray.shape[:2]
    set_config = wrapper.zbar_image_scanner_set_config
    with pz._image_scanner() as scanner:
        for symbol in set(pz.ZBarSymbol):
            set_config(scanner, symbol, ZBAR_CFG_ENABLE, 1 if symbol in symbols else 0)
        set_config(scanner, pz.ZBarSymbol.QRCODE, ZBAR_CFG_BINARY, 1)
        with pz._image() as image:
            wrapper.zbar_image_set_format(image, pz._FOURCC["L800"])
            wrapper.zbar_image_set_size(image, width, height)
            data = cast(pixels, c_void_p)  # type: ignore[arg-type]  # ctypes takes bytes here
            wrapper.zbar_image_set_data(image, data, len(pixels), None)
            if wrapper.zbar_scan_image(scanner, image) < 0:
                raise RuntimeError("zbar rejected the image format")
            return list(pz._decode_symbols(pz._symbols_for_image(image)))
