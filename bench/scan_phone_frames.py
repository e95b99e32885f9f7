"""Generated phone-screen frames: a PT1 code shown on a phone, seen by a webcam.

Frames are made on the fly (seeded, nothing stored): the code is drawn at 8
pixels per module on a phone screen with a dark bezel, projected into a
640x480 frame with a perspective transform, then degraded. One set per
degradation, ``FRAMES_PER_SET`` frames each, random within the set's range:

- clean:  2.5-4 px per module, mild tilt, camera noise and JPEG (MJPG webcam)
- bezel:  the bezel touches the code (1-module quiet zone on the screen)
- glare:  a saturated specular highlight over 15-30 % of the code
- moire:  the screen's pixel grid aliased by the camera
- blur:   defocus, Gaussian sigma 1.2-2.0 px
- motion: 6-10 px horizontal motion blur
- tilt:   35-50 degrees away from the camera plus in-plane rotation
- small:  1.6-2.2 px per module (phone at arm's length)
- dim:    low screen brightness and contrast, strong sensor noise
- all:    moderate bezel + glare + moire + blur + tilt + small together

    .venv/bin/python -m bench.decode_bench --phone --no-photos
"""

from __future__ import annotations

import math
import random
import statistics
import string
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import make_decoder
from pos_app.scanning.synthetic import render_code

ROOT = Path(__file__).resolve().parent.parent

FRAMES_PER_SET = 40
HI_MODULE = 8  # pixels per module in the high-resolution phone image
BASE45 = string.digits + string.ascii_uppercase + " $%*+-./:"


def pt1_text(rng: random.Random, size: int = 170) -> str:
    data = bytes(rng.randrange(256) for _ in range(size))
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [BASE45[n % 45], BASE45[(n // 45) % 45], BASE45[n // 2025]]
    if len(data) % 2:
        out += [BASE45[data[-1] % 45], BASE45[data[-1] // 45]]
    return "PT1:" + "".join(out)


@dataclass(frozen=True)
class Look:
    module_px: tuple[float, float] = (2.5, 4.0)
    tilt_deg: tuple[float, float] = (0.0, 15.0)
    quiet_modules: int = 4
    glare: float = 0.0
    moire: bool = False
    blur_sigma: float = 0.0
    motion_px: int = 0
    dim: bool = False


SETS: dict[str, Look] = {
    "clean": Look(),
    "bezel": Look(quiet_modules=1),
    "glare": Look(glare=1.0),
    "moire": Look(moire=True),
    "blur": Look(blur_sigma=1.6),
    "motion": Look(motion_px=8),
    "tilt": Look(tilt_deg=(35.0, 50.0)),
    "small": Look(module_px=(1.6, 2.2)),
    "dim": Look(dim=True),
    "all": Look(
        module_px=(2.2, 3.0),
        tilt_deg=(15.0, 30.0),
        quiet_modules=2,
        glare=0.6,
        moire=True,
        blur_sigma=0.9,
    ),
}


def phone_image(text: str, look: Look, rng: random.Random) -> tuple[np.ndarray, int]:
    """High-resolution phone: bezel, screen, code. Returns image and code size."""
    code = render_code(text, module_px=HI_MODULE)[
        (4 - look.quiet_modules) * HI_MODULE : code_end(text, look),
        (4 - look.quiet_modules) * HI_MODULE : code_end(text, look),
    ]
    light, dark = (150, 70) if look.dim else (240, 20)
    code = np.where(code > 127, light, dark).astype(np.float32)
    margin = 0 if look.quiet_modules < 4 else HI_MODULE * 3
    screen = np.full(
        (code.shape[0] + 2 * margin + 200, code.shape[1] + 2 * margin), light, np.float32
    )
    screen[100 + margin : 100 + margin + code.shape[0], margin : margin + code.shape[1]] = code
    if look.moire:
        period = rng.uniform(2.6, 3.4)  # screen pixel pitch in high-res pixels
        ys, xs = np.mgrid[0 : screen.shape[0], 0 : screen.shape[1]]
        grid = 0.75 + 0.25 * np.cos(2 * math.pi * xs / period) * np.cos(2 * math.pi * ys / period)
        screen *= grid.astype(np.float32)
    bezel = 60
    phone = np.full((screen.shape[0] + 2 * bezel, screen.shape[1] + 2 * bezel), 25, np.float32)
    phone[bezel:-bezel, bezel:-bezel] = screen
    return phone, code.shape[0]


def code_end(text: str, look: Look) -> int:
    size = render_code(text, module_px=1).shape[0]
    return int(size - 4 + look.quiet_modules) * HI_MODULE


def project(
    phone: np.ndarray, code_px: int, look: Look, rng: random.Random
) -> tuple[np.ndarray, np.ndarray]:
    """Perspective-project the phone into a 640x480 scene."""
    modules = code_px / HI_MODULE
    scale = rng.uniform(*look.module_px) / HI_MODULE
    h, w = phone.shape
    tilt = math.radians(rng.uniform(*look.tilt_deg)) * rng.choice([-1, 1])
    roll = math.radians(rng.uniform(-20, 20))
    # A rectangle turned about the vertical axis: the far side shrinks.
    shrink = 1.0 - 0.5 * abs(math.sin(tilt))
    half_w, half_h = w * scale * math.cos(tilt) / 2, h * scale / 2
    near, far = (1.0, shrink) if tilt > 0 else (shrink, 1.0)
    corners = np.array(
        [
            [-half_w, -half_h * near],
            [half_w, -half_h * far],
            [half_w, half_h * far],
            [-half_w, half_h * near],
        ]
    )
    rot = np.array([[math.cos(roll), -math.sin(roll)], [math.sin(roll), math.cos(roll)]])
    centre = np.array([320 + rng.uniform(-60, 60), 240 + rng.uniform(-40, 40)])
    dst = (corners @ rot.T + centre).astype(np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    # Optics low-pass before resampling, except with moire, which is aliasing itself.
    if not look.moire:
        phone = cv2.GaussianBlur(phone, (0, 0), 0.4 / scale)
    scene = scene_background(rng)
    warped = cv2.warpPerspective(phone, matrix, (640, 480), flags=cv2.INTER_LINEAR, borderValue=-1)
    out = np.where(warped >= 0, warped, scene)
    _ = modules
    return out.astype(np.float32), dst


def scene_background(rng: random.Random) -> np.ndarray:
    small = (
        np.random.default_rng(rng.randrange(1 << 30)).uniform(70, 170, (6, 8)).astype(np.float32)
    )
    return cv2.resize(small, (640, 480), interpolation=cv2.INTER_CUBIC)


def degrade(image: np.ndarray, quad: np.ndarray, look: Look, rng: random.Random) -> np.ndarray:
    if look.glare:
        cx, cy = quad.mean(axis=0) + rng.uniform(-0.25, 0.25) * (quad.max(0) - quad.min(0))
        radius = rng.uniform(0.25, 0.35) * float((quad.max(0) - quad.min(0)).mean())
        ys, xs = np.mgrid[0:480, 0:640]
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        image = image + (look.glare * 230 * blob).astype(np.float32)
    if look.blur_sigma:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.75, 1.25) * look.blur_sigma)
    if look.motion_px:
        length = rng.randint(look.motion_px - 2, look.motion_px + 2)
        kernel = np.full((1, length), 1.0 / length, np.float32)
        image = cv2.filter2D(image, -1, kernel)
    noise = 10.0 if look.dim else 3.0
    image = image + np.random.default_rng(rng.randrange(1 << 30)).normal(0, noise, image.shape)
    gray = np.clip(image, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_GRAY2BGR))


def phone_frames(
    name: str, count: int = FRAMES_PER_SET, seed: int = 7
) -> list[tuple[np.ndarray, str]]:
    look = SETS[name]
    rng = random.Random(f"{seed}-{name}")
    frames = []
    for _ in range(count):
        text = pt1_text(rng)
        phone, code_px = phone_image(text, look, rng)
        image, quad = project(phone, code_px, look, rng)
        frames.append((degrade(image, quad, look, rng), text))
    return frames


def decoders() -> list[tuple[str, Callable[[], DecodeCascade]]]:
    alone = DecoderConfig(budget_ms=0.0)
    return [
        ("zxing", lambda: DecodeCascade(alone, decoders=[make_decoder("zxing")])),
        ("pyzbar", lambda: DecodeCascade(alone, decoders=[make_decoder("pyzbar")])),
        ("shipped", lambda: DecodeCascade(DecoderConfig())),
    ]


def phone_report() -> None:
    print(f"\n### Generated phone-screen frames ({FRAMES_PER_SET} per set, 640x480)\n")
    names = [label for label, _ in decoders()]
    print("| set | " + " | ".join(names) + " | wrong | shipped median ms |")
    print("|---|" + "---|" * (len(names) + 2))
    for name in SETS:
        frames = phone_frames(name)
        cells, wrong, times = [], 0, []
        for label, factory in decoders():
            cascade = factory()
            read = 0
            for image, text in frames:
                result = cascade.decode(image)
                texts = [s.text for s in result.symbols]
                read += text in texts
                wrong += any(t != text for t in texts)
                if label == "shipped":
                    times.append(result.ms)
            cells.append(f"{100 * read / len(frames):.0f}%")
        print(f"| {name} | " + " | ".join(cells) + f" | {wrong} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--save":
        out = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/phone-frames")
        out.mkdir(parents=True, exist_ok=True)
        for name in SETS:
            for i, (image, _text) in enumerate(phone_frames(name, count=3)):
                cv2.imwrite(str(out / f"{name}-{i}.png"), image)
        print(f"wrote samples to {out}")
    else:
        phone_report()
