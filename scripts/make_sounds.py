"""Generate the checkout's short WAV sounds into assets/sounds (run once; committed).

approved: two rising tones; declined: a low double buzz. 16-bit mono 22.05 kHz.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parents[1] / "assets" / "sounds"


def tone(freq: float, seconds: float, *, volume: float = 0.5, square: bool = False) -> list[int]:
    n = int(RATE * seconds)
    samples = []
    for i in range(n):
        x = math.sin(2 * math.pi * freq * i / RATE)
        if square:
            x = 1.0 if x >= 0 else -1.0
        fade = min(1.0, i / 200, (n - i) / 400)  # no clicks at the edges
        samples.append(int(32767 * volume * fade * x))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def write(name: str, samples: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / name), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def main() -> None:
    write("approved.wav", tone(880, 0.12) + silence(0.03) + tone(1320, 0.18))
    declined = tone(220, 0.18, volume=0.35, square=True)
    write("declined.wav", declined + silence(0.08) + declined)
    write("attention.wav", tone(660, 0.15) + silence(0.05) + tone(660, 0.15))


if __name__ == "__main__":
    main()
