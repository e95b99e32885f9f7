"""Generated counter-camera scenes with exact ground truth (issue 18).

Phones showing a PT1 code and packages carrying a JAN/EAN code, placed in a
camera frame by a pinhole projection and degraded the way a counter webcam
degrades them. Every frame carries the exact texts that are in it, so a read
is right or wrong by string comparison, and a frame with no code must give no
symbol at all.

Two splits, never mixed: ``tune`` (seed 1, the ranges below) is what the
cascade was tuned on; ``holdout`` (seed 2, every range shifted a little, a
different JPEG quality and background palette) is what it is judged on.

Slices (``SLICES``): phone screens clean, with glare, moire, small modules
(< 2.5 px), overexposed, motion blur, strong tilt, two phones, a finger over
the code; packages clean, curved, creased, diagonal bars, a finger over the
bars, small modules; a phone and a package together; negatives (clutter,
stripes, a phone and a package without a code).

    .venv/bin/python -m bench.scan_scenes --save /tmp/scenes   # look at samples
"""

from __future__ import annotations

import math
import random
import string
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import segno
import zxingcpp

from pos_app.core.gtin import make_gtin

ROOT = Path(__file__).resolve().parent.parent

HI = 8  # sprite pixels per module
BASE45 = string.digits + string.ascii_uppercase + " $%*+-./:"


@dataclass(frozen=True)
class Truth:
    kind: str  # "payment" or "product"
    text: str


@dataclass(frozen=True)
class Scene:
    slice: str
    image: np.ndarray  # BGR uint8
    truths: tuple[Truth, ...]
    quads: tuple[np.ndarray, ...] = ()  # code corners in frame pixels, one per truth


@dataclass(frozen=True)
class Look:
    """One slice's ranges; the holdout split shifts them (see ``holdout``)."""

    module_px: tuple[float, float] = (2.5, 4.0)
    tilt_deg: float = 15.0
    roll_deg: float = 20.0
    glare: float = 0.0
    moire: bool = False
    overexpose: float = 0.0
    motion_px: float = 0.0
    finger: bool = False
    phones: int = 1
    package: bool = False
    no_phone: bool = False
    curve: float = 0.0
    crease: bool = False
    diagonal: bool = False
    ean8_share: float = 0.25
    negative: bool = False
    defocus: float = 0.6
    noise: float = 3.0
    size: tuple[int, int] = (640, 480)


PKG = {"no_phone": True, "package": True}
SLICES: dict[str, Look] = {
    "phone-clean": Look(),
    "phone-glare": Look(glare=1.0, module_px=(2.0, 3.2)),
    "phone-moire": Look(moire=True, module_px=(2.0, 3.0)),
    "phone-small": Look(module_px=(1.4, 2.3)),
    "phone-overexposed": Look(overexpose=1.0, module_px=(2.2, 3.5)),
    "phone-motion": Look(motion_px=6.0),
    "phone-tilt": Look(tilt_deg=55.0, roll_deg=40.0, module_px=(2.2, 3.5)),
    "phone-two": Look(phones=2, module_px=(1.9, 2.8), glare=0.4),
    "phone-finger": Look(finger=True, module_px=(2.0, 3.2)),
    "phone-720p": Look(module_px=(1.7, 3.0), glare=0.5, size=(1280, 720)),
    "pkg-clean": Look(**PKG, module_px=(1.8, 2.8)),  # type: ignore[arg-type]
    "pkg-curved": Look(**PKG, module_px=(1.6, 2.5), curve=1.0),  # type: ignore[arg-type]
    "pkg-creased": Look(**PKG, module_px=(1.6, 2.5), crease=True),  # type: ignore[arg-type]
    "pkg-diagonal": Look(**PKG, module_px=(1.6, 2.5), diagonal=True, tilt_deg=30.0),  # type: ignore[arg-type]
    "pkg-finger": Look(**PKG, module_px=(1.6, 2.5), finger=True),  # type: ignore[arg-type]
    "pkg-small": Look(**PKG, module_px=(1.1, 1.6)),  # type: ignore[arg-type]
    "phone-and-pkg": Look(package=True, module_px=(1.9, 2.8)),
    "negative": Look(negative=True),
}


def holdout(look: Look) -> Look:
    """The held-back split: ranges moved so tuning on ``tune`` cannot fit them."""
    lo, hi = look.module_px
    return replace(
        look,
        module_px=(lo * 0.93, hi * 1.05),
        tilt_deg=look.tilt_deg * 1.15,
        glare=look.glare * 1.1,
        overexpose=look.overexpose * 1.15,
        motion_px=look.motion_px * 1.2,
        curve=look.curve * 1.1,
        defocus=look.defocus * 1.2,
        noise=look.noise * 1.3,
    )


# "fresh" (seed 3) draws new frames with the holdout's ranges: issue 18's second
# round was judged on it, after tuning only on "tune" frames. "dev" (seed 4,
# the holdout's ranges) is the third round's own tuning set: changes were
# tried on it and judged on holdout and fresh. "fresh2" (seed 11, the holdout's
# ranges) was drawn in round 6, for the video benchmark with more clips a slice
# (so that no single clip decides the p95) and as a judged split nobody had seen.
# "fresh3" (seed 12, the holdout's ranges) was drawn in round 7 to count rare
# misreads on frames nobody had looked at (fresh2's were diagnosed in round 6).
SPLITS = {"tune": 1, "holdout": 2, "fresh": 3, "dev": 4, "fresh2": 11, "fresh3": 12}


def pt1_text(rng: random.Random, size: int = 170) -> str:
    data = bytes(rng.randrange(256) for _ in range(size))
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [BASE45[n % 45], BASE45[(n // 45) % 45], BASE45[n // 2025]]
    return "PT1:" + "".join(out)


def jan_text(rng: random.Random, *, ean8: bool) -> str:
    """A JAN (EAN-13 or EAN-8 with a Japanese 45/49 prefix) with its check digit."""
    body = rng.choice(["45", "49"]) + "".join(rng.choice(string.digits) for _ in range(10))
    return make_gtin(body[:7] if ean8 else body)


# -- sprites: a float image and the code's corners in sprite pixels ------------


def qr_modules(text: str) -> np.ndarray:
    qr = segno.make_qr(text, error="m", boost_error=False)
    return np.array(qr.matrix, dtype=np.uint8)


def phone_sprite(text: str, look: Look, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    modules = qr_modules(text)
    n = modules.shape[0]
    light = rng.uniform(215, 250)
    code = np.where(np.kron(modules, np.ones((HI, HI))) > 0, 15.0, light).astype(np.float32)
    quiet = rng.choice([2, 3, 4]) * HI
    width = n * HI + 2 * quiet
    screen = np.full((int(width * 1.9), width), light, np.float32)
    top = int(width * 0.45)
    screen[top + quiet : top + quiet + n * HI, quiet : quiet + n * HI] = code
    screen[: top // 2, :] = rng.uniform(60, 200)  # the wallet app's header bar
    if look.moire:
        pitch = rng.choice([2, 3])
        screen[::pitch, :] *= 0.55
        screen[:, ::pitch] *= 0.55
    bezel = int(width * 0.06)
    phone = np.full((screen.shape[0] + 2 * bezel, width + 2 * bezel), rng.uniform(10, 35))
    phone[bezel:-bezel, bezel:-bezel] = screen
    x0, y0 = bezel + quiet, bezel + top + quiet
    corners = np.array(
        [[x0, y0], [x0 + n * HI, y0], [x0 + n * HI, y0 + n * HI], [x0, y0 + n * HI]], np.float32
    )
    return phone.astype(np.float32), corners


def package_sprite(text: str, look: Look, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    fmt = zxingcpp.BarcodeFormat.EAN8 if len(text) == 8 else zxingcpp.BarcodeFormat.EAN13
    bars = np.array(zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, fmt), scale=1))
    row = np.where(bars[bars.shape[0] // 2] > 127, 1.0, 0.0)  # 1 px per module, quiet zone incl.
    height = int(len(row) * HI * rng.uniform(0.45, 0.7))
    label = np.repeat(np.repeat(row[None, :], height, 0), HI, 1)
    paper, ink = rng.uniform(200, 240), rng.uniform(15, 50)
    label = (ink + (paper - ink) * label).astype(np.float32)
    if look.curve:
        label = curve(label, look.curve * rng.uniform(0.8, 1.1), paper)
    pad = HI * 6
    box = np.full((height + 6 * pad, label.shape[1] + 2 * pad), rng.uniform(50, 190), np.float32)
    box[3 * pad - HI : 4 * pad + height, pad - HI : pad + label.shape[1] + HI] = paper
    box[3 * pad + HI : 3 * pad + height + HI, pad : pad + label.shape[1]] = label
    for _ in range(4):  # print around the label: brand, text lines
        y, x = rng.randrange(0, 2 * pad), rng.randrange(0, box.shape[1] - pad)
        box[y : y + rng.randrange(6, 30), x : x + rng.randrange(20, 200)] = rng.uniform(0, 255)
    if look.crease:
        crease(box, rng)
    x0, y0, x1, y1 = pad, 3 * pad + HI, pad + label.shape[1], 3 * pad + height + HI
    return box, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def curve(label: np.ndarray, amount: float, paper: float) -> np.ndarray:
    """The label wrapped on a cylinder seen from the front: edges compressed and shaded."""
    h, w = label.shape
    theta = 0.6 + 0.5 * amount  # half the arc the label spans, radians
    u = np.linspace(-1, 1, w, dtype=np.float32)
    src = (np.arcsin(np.clip(u * math.sin(theta), -1, 1)) / theta + 1) * (w - 1) / 2
    map_x = np.repeat(src[None, :], h, 0).astype(np.float32)
    map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, 1)
    out = cv2.remap(label, map_x, map_y, cv2.INTER_LINEAR, borderValue=paper)
    shade = 0.65 + 0.35 * np.sqrt(np.clip(1 - (u * math.sin(theta)) ** 2, 0, 1))
    return np.asarray(out * shade[None, :], np.float32)


def crease(box: np.ndarray, rng: random.Random) -> None:
    """A fold across the box: one side darker, a bright ridge, a small shift."""
    _h, w = box.shape
    x = int(w * rng.uniform(0.3, 0.7))
    shift = rng.randint(2, 6)
    box[:, x + shift :] = box[:, x : w - shift].copy()
    box[:, x:] *= rng.uniform(0.7, 0.85)
    box[:, x : x + 3] = np.minimum(255, box[:, x : x + 3] + 60)


# -- placing a sprite in the frame --------------------------------------------


def place(
    sprite: np.ndarray, module_px: float, look: Look, rng: random.Random, *, centre: np.ndarray
) -> np.ndarray:
    """A 3x3 homography putting the sprite at ``centre`` with tilt and roll."""
    h, w = sprite.shape[:2]
    scale = module_px / HI
    yaw = math.radians(rng.uniform(-look.tilt_deg, look.tilt_deg))
    pitch = math.radians(rng.uniform(-look.tilt_deg, look.tilt_deg) * 0.6)
    roll_range = 60.0 if look.diagonal else look.roll_deg
    roll = math.radians(rng.uniform(-roll_range, roll_range))
    if look.diagonal:
        roll = math.copysign(max(abs(roll), math.radians(25)), roll)
    focal = 1.2 * look.size[0]
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    plane = (pts - [w / 2, h / 2]) * scale
    xyz = np.c_[plane, np.zeros(4)] @ rotation(yaw, pitch, roll).T
    xyz[:, 2] += focal
    dst = xyz[:, :2] * (focal / xyz[:, 2:3]) + centre
    return np.asarray(cv2.getPerspectiveTransform(pts.astype(np.float32), dst.astype(np.float32)))


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = (f(a) for a in (yaw, pitch, roll) for f in (math.cos, math.sin))
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    turned: np.ndarray = rz @ rx @ ry
    return turned


def paste(frame: np.ndarray, sprite: np.ndarray, matrix: np.ndarray, *, moire: bool) -> None:
    if not moire:  # optics low-pass; moire is the lack of it
        scale = math.sqrt(abs(np.linalg.det(matrix[:2, :2])))
        sprite = cv2.GaussianBlur(sprite, (0, 0), max(0.3, 0.45 / max(scale, 1e-3)))
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpPerspective(sprite, matrix, size, flags=cv2.INTER_LINEAR, borderValue=-1)
    mask = warped >= 0
    frame[mask] = warped[mask]


def project(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.perspectiveTransform(points[None].astype(np.float32), matrix)[0])


def background(look: Look, rng: random.Random, *, palette: tuple[int, int]) -> np.ndarray:
    w, h = look.size
    seed = np.random.default_rng(rng.randrange(1 << 30))
    frame = np.asarray(
        cv2.resize(seed.uniform(*palette, (6, 8)).astype(np.float32), (w, h)), np.float32
    )
    for _ in range(rng.randrange(3, 9)):  # counter clutter: boxes, receipts, stripes
        x, y = rng.randrange(w), rng.randrange(h)
        bw, bh = rng.randrange(20, w // 3), rng.randrange(10, h // 3)
        frame[y : y + bh, x : x + bw] = rng.uniform(20, 240)
        if rng.random() < 0.4:  # a striped pattern: must never read as a barcode
            step = rng.randrange(2, 7)
            frame[y : y + bh, x : x + bw : step] *= 0.4
    return frame


# -- camera effects -----------------------------------------------------------


def finger(frame: np.ndarray, quad: np.ndarray, rng: random.Random, *, bars: bool) -> None:
    """A fingertip over one side of the code: about a tenth of a QR code, or
    across the upper or lower part of a barcode's bars."""
    centre = quad.mean(0)
    side = rng.randrange(4)
    a, b = quad[side], quad[(side + 1) % 4]
    edge = a + (b - a) * rng.uniform(0.3, 0.7)
    size = float(np.linalg.norm(quad[1] - quad[0]))
    inward = 0.2 if not bars else 0.42
    tip = edge + (centre - edge) * inward
    direction = edge - centre
    angle = math.degrees(math.atan2(direction[1], direction[0]))
    axes = (int(size * 0.6), int(size * (0.12 if not bars else 0.14)))
    start = tip + direction / (np.linalg.norm(direction) + 1e-6) * axes[0]
    tone = rng.uniform(120, 190)
    cv2.ellipse(frame, (int(start[0]), int(start[1])), axes, angle, 0, 360, tone, -1)


def glare(frame: np.ndarray, quad: np.ndarray, strength: float, rng: random.Random) -> None:
    span = quad.max(0) - quad.min(0)
    cx, cy = quad.mean(0) + np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)]) * span
    rx, ry = rng.uniform(0.15, 0.3) * span[0], rng.uniform(0.1, 0.25) * span[1]
    ys, xs = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]]
    blob = np.exp(-(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2) / 2)
    frame += (strength * rng.uniform(170, 240) * blob).astype(np.float32)


def overexpose(frame: np.ndarray, mask: np.ndarray, amount: float, rng: random.Random) -> None:
    """An emissive screen under auto exposure set for the room: gain, bloom, clip."""
    gain = 1.0 + amount * rng.uniform(0.5, 1.2)
    lifted = frame * gain + amount * rng.uniform(15, 40)
    bloom = cv2.GaussianBlur(np.clip(lifted - 200, 0, None), (0, 0), 0.8 + 0.6 * amount)
    frame[mask] = np.minimum(255, lifted + 0.6 * bloom)[mask]


def motion(frame: np.ndarray, length: float, angle: float) -> np.ndarray:
    size = max(3, round(length) | 1)
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1.0)
    kernel = np.asarray(cv2.warpAffine(kernel, rot, (size, size)), np.float32)
    return np.asarray(cv2.filter2D(frame, -1, kernel / kernel.sum()), np.float32)


def camera(frame: np.ndarray, look: Look, rng: random.Random, *, quality: int) -> np.ndarray:
    if look.defocus:
        frame = cv2.GaussianBlur(frame, (0, 0), look.defocus * rng.uniform(0.8, 1.2))
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, look.noise, frame.shape)
    gray = np.clip(frame + noise, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    return np.asarray(cv2.cvtColor(decoded, cv2.COLOR_GRAY2BGR))


# -- scenes -------------------------------------------------------------------


@dataclass
class Builder:
    look: Look
    rng: random.Random
    split: str
    frame: np.ndarray = field(init=False)
    truths: list[Truth] = field(default_factory=list)
    quads: list[np.ndarray] = field(default_factory=list)
    screens: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        palette = (60, 190) if self.split == "tune" else (40, 210)
        self.frame = background(self.look, self.rng, palette=palette)

    def slots(self, count: int) -> list[np.ndarray]:
        w, h = self.look.size
        if count == 1:
            return [np.array([w / 2 + self.rng.uniform(-w, w) * 0.08, h / 2])]
        return [np.array([w * (0.27 + 0.46 * i), h / 2]) for i in range(count)]

    def add(
        self, sprite: np.ndarray, corners: np.ndarray, truth: Truth | None, centre: np.ndarray
    ) -> None:
        lo, hi = self.look.module_px
        matrix = place(sprite, self.rng.uniform(lo, hi), self.look, self.rng, centre=centre)
        screen = np.zeros(self.frame.shape, np.uint8)
        cv2.warpPerspective(np.ones(sprite.shape, np.uint8), matrix, screen.shape[::-1], screen)
        paste(self.frame, sprite, matrix, moire=self.look.moire)
        quad = project(corners, matrix)
        if truth is not None:
            self.truths.append(truth)
            self.quads.append(quad)
        self.screens.append(screen > 0)


@dataclass(frozen=True)
class Motion:
    """For video: the whole scene moved by ``shift`` pixels, smeared by a
    ``blur_px`` motion blur along ``angle``, with its own sensor noise."""

    shift: tuple[float, float] = (0.0, 0.0)
    blur_px: float = 0.0
    angle: float = 0.0
    noise_seed: int | None = None


def make_scene(
    name: str, look: Look, rng: random.Random, *, split: str, motion_of: Motion | None = None
) -> Scene:
    """One frame. With ``motion_of``, ``rng`` must be seeded the same for every
    frame of a clip: the same scene is drawn, only moved and smeared."""
    b = Builder(look, rng, split)
    phones = 0 if look.no_phone else look.phones
    count = phones + (1 if look.package else 0)
    move = motion_of or Motion()
    centres = [c + np.array(move.shift) for c in b.slots(max(1, count))]
    for i in range(phones):
        text = pt1_text(rng)
        sprite, corners = phone_sprite(text, look, rng)
        if look.negative:
            sprite[sprite.shape[0] // 3 : -10, 10:-10] = rng.uniform(150, 250)
        b.add(sprite, corners, None if look.negative else Truth("payment", text), centres[i])
    if look.package or (look.negative and rng.random() < 0.5):
        text = jan_text(rng, ean8=rng.random() < look.ean8_share)
        sprite, corners = package_sprite(text, look, rng)
        if look.negative:
            y0, y1 = int(corners[0][1]), int(corners[2][1])
            sprite[y0:y1, int(corners[0][0]) : int(corners[1][0])] = 230
        b.add(sprite, corners, None if look.negative else Truth("product", text), centres[-1])
    effects(b, look, rng)
    if move.blur_px >= 1.5:
        b.frame = motion(b.frame, move.blur_px, move.angle)
    if move.noise_seed is not None:
        rng = random.Random(move.noise_seed)
    quality = 80 if split == "tune" else 72
    image = camera(b.frame, look, rng, quality=quality)
    return Scene(name, image, tuple(b.truths), tuple(b.quads))


def effects(b: Builder, look: Look, rng: random.Random) -> None:
    for quad, truth in zip(b.quads, b.truths, strict=True):
        if look.glare and truth.kind == "payment":
            glare(b.frame, quad, look.glare, rng)
        if look.finger:
            finger(b.frame, quad, rng, bars=truth.kind == "product")
    if look.overexpose and b.screens:
        overexpose(b.frame, b.screens[0], look.overexpose, rng)
    if look.motion_px:
        length = look.motion_px * rng.uniform(0.8, 1.3)
        b.frame = motion(b.frame, length, rng.uniform(0, 180))


def scenes(split: str, *, per_slice: int = 30, slices: list[str] | None = None) -> list[Scene]:
    """Every slice's frames of one split, deterministic for the split's seed."""
    out = []
    for name in slices or list(SLICES):
        look = SLICES[name] if split == "tune" else holdout(SLICES[name])
        rng = random.Random(f"{SPLITS[split]}-{name}")
        out += [make_scene(name, look, rng, split=split) for _ in range(per_slice)]
    return out


if __name__ == "__main__":
    target = Path(sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--save" else "/tmp/scenes")
    target.mkdir(parents=True, exist_ok=True)
    for scene in scenes("tune", per_slice=2):
        index = sum(1 for _ in target.glob(f"{scene.slice}-*.png"))
        cv2.imwrite(str(target / f"{scene.slice}-{index}.png"), scene.image)
    print(f"wrote samples to {target}")
