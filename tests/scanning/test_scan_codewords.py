"""Reed-Solomon with erasures over a QR code's own codewords (``codewords.py``)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import reedsolo
import segno

from pos_app.scanning.codewords import MARGIN, read_format, repair, rs_correct, sureness
from pos_app.scanning.decoders import ZxingDecoder
from pos_app.scanning.grid import pattern, render


def _encoded(data: list[int], nsym: int) -> list[int]:
    """A systematic RS codeword of QR's code (generator roots 2^0..2^(nsym-1))."""
    exp, log = [0] * 512, [0] * 256
    value = 1
    for i in range(255):
        exp[i], log[value] = value, i
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]

    def mul(a: int, b: int) -> int:
        return 0 if a == 0 or b == 0 else exp[log[a] + log[b]]

    gen = [1]
    for i in range(nsym):
        nxt = [0] * (len(gen) + 1)
        for j, g in enumerate(gen):
            nxt[j] ^= g
            nxt[j + 1] ^= mul(g, exp[i])
        gen = nxt
    rem = list(data) + [0] * nsym
    for i in range(len(data)):
        coef = rem[i]
        if coef:
            for j in range(1, len(gen)):
                rem[i + j] ^= mul(gen[j], coef)
    return list(data) + rem[len(data) :]


@pytest.mark.parametrize("seed", range(5))
def test_errors_and_erasures_within_the_margin_are_corrected(seed: int) -> None:
    rng = random.Random(seed)
    nsym = 22
    clean = _encoded([rng.randrange(256) for _ in range(36)], nsym)
    spare = nsym - MARGIN
    for erasures in (0, 6, spare):
        errors = (spare - erasures) // 2
        where = rng.sample(range(len(clean)), erasures + errors)
        damaged = list(clean)
        for i in where:
            damaged[i] ^= rng.randrange(1, 256)
        assert rs_correct(damaged, nsym, where[:erasures]) == clean


def test_beyond_the_margin_nothing_is_corrected() -> None:
    rng = random.Random(7)
    nsym = 22
    clean = _encoded([rng.randrange(256) for _ in range(36)], nsym)
    # 10 errors: Reed-Solomon alone could correct 11, but not with 4 checks to spare.
    damaged = list(clean)
    for i in rng.sample(range(len(clean)), 10):
        damaged[i] ^= rng.randrange(1, 256)
    assert rs_correct(damaged, nsym, []) is None
    assert rs_correct(damaged, nsym, list(range(nsym - MARGIN + 1))) is None


def _code(token: str) -> tuple[np.ndarray, int]:
    qr = segno.make_qr(token, error="m", boost_error=False)
    assert isinstance(qr.version, int)  # a QR code's, not a Micro QR's ("M1"...)
    return np.array(qr.matrix, np.bool_), qr.version


def test_the_format_is_read_from_the_nearer_copy(token: str) -> None:
    bits, _ = _code(token)
    qr = segno.make_qr(token, error="m", boost_error=False)
    read = read_format(bits)
    assert read is not None
    level, mask = read
    assert (level, mask) == (segno.consts.ERROR_LEVEL_M, qr.mask)
    bits[0, 8] ^= True  # one bit off in the first copy
    bits[8, 1] ^= True
    assert read_format(bits) == (level, mask)


def test_a_glare_patch_is_read_as_erasures_and_corrected(token: str) -> None:
    """A quarter of the code clipped to light (a glare blob) and a few
    modules wrong elsewhere: zxing-cpp's own decoder, errors only, fails; with
    the clipped modules as erasures the codewords come back exactly."""
    truth, version = _code(token)
    known = pattern(version).known
    damaged = truth.copy()
    samples = np.where(truth, 40.0, 220.0).astype(np.float32)
    damaged[14:34, 14:34] &= known[14:34, 14:34] & truth[14:34, 14:34]  # all light but function
    samples[14:34, 14:34] = 255.0
    rng = random.Random(1)
    data = [(r, c) for r in range(9, 44) for c in range(9, 44) if not known[r, c]]
    for r, c in rng.sample([p for p in data if not (14 <= p[0] < 34 and 14 <= p[1] < 34)], 12):
        damaged[r, c] ^= True
        samples[r, c] = 130.0
    x = np.where(damaged, 1.0, 0.0).astype(np.float32)
    x[samples == 130.0] = 0.45
    assert ZxingDecoder().decode(render(damaged)) == []
    fixed = repair(damaged, sureness(x, samples), version, known)
    assert fixed is not None
    assert np.array_equal(fixed, truth)
    assert [s.text for s in ZxingDecoder().decode(render(fixed))] == [token]


def test_repair_never_returns_another_code(token: str) -> None:
    """Heavy random damage: either the exact codewords or nothing."""
    truth, version = _code(token)
    known = pattern(version).known
    data = np.argwhere(~known)
    rng = np.random.default_rng(5)
    outcomes = set()
    for _ in range(40):
        damaged = truth.copy()
        picks = data[rng.choice(len(data), size=int(rng.integers(10, 400)), replace=False)]
        damaged[picks[:, 0], picks[:, 1]] ^= True
        x = np.where(damaged, 1.0, 0.0).astype(np.float32)
        samples = np.where(damaged, 40.0, 220.0).astype(np.float32)
        fixed = repair(damaged, sureness(x, samples), version, known)
        if fixed is None:
            outcomes.add("none")
            continue
        assert np.array_equal(fixed[~known], truth[~known])
        outcomes.add("exact")
    assert outcomes == {"none", "exact"}


def test_repeated_erasures_count_once() -> None:
    """reedsolo fails a block whose erasure list names a position twice (its
    Forney step divides by zero); ``rs_correct`` takes a set of positions."""
    rng = random.Random(3)
    nsym = 16
    clean = _encoded([rng.randrange(256) for _ in range(30)], nsym)
    damaged = list(clean)
    for i in (2, 9, 40):
        damaged[i] ^= 0x5A
    assert rs_correct(damaged, nsym, [9, 2, 9, 40, 2]) == clean
    assert rs_correct(damaged, nsym, [2, 9, 40]) == clean


def test_another_reedsolo_field_in_the_process_does_not_change_the_decode() -> None:
    """reedsolo keeps its field tables in module globals, which building any
    codec rebinds: a codec of another field (another user of the library)
    must not make ``rs_correct`` decode in the wrong field."""
    rng = random.Random(4)
    nsym = 22
    clean = _encoded([rng.randrange(256) for _ in range(36)], nsym)
    damaged = list(clean)
    where = rng.sample(range(len(clean)), 10)
    for i in where:
        damaged[i] ^= rng.randrange(1, 256)
    reedsolo.RSCodec(nsym, fcr=120, prim=0x187)  # the FAA UAT code's field
    assert reedsolo.gf_exp[8] == 0x87  # 2^8 in that field: the globals moved
    assert rs_correct(damaged, nsym, where[:6]) == clean
