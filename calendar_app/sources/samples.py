"""Small sample files for the demo (`seed_demo`) and the benchmark: a spoken-length WAV
made with the standard library, and a one-page PDF written by hand. Nothing binary is kept in
the repository."""

from __future__ import annotations

import io
import math
import os
import struct
import wave
from pathlib import Path

DEMO_TEXT = (
    "Product notes, week 41. Customers keep asking for one thing: a calendar their whole "
    "team can see. Three of them plan LinkedIn posts in a spreadsheet and lose track of who "
    "approved what. We shipped review links on Tuesday; two agencies already share drafts "
    "with clients through them. Next: turning a founder's voice memo into a week of posts."
)


def write_wav(path: Path, *, seconds: int = 6, rate: int = 8000) -> Path:
    """A short recording: a soft tone that rises and falls, like a voice memo's level."""
    frames = bytearray()
    for n in range(seconds * rate):
        level = 0.3 + 0.2 * math.sin(2 * math.pi * n / rate / 1.5)
        sample = int(12000 * level * math.sin(2 * math.pi * 220 * n / rate))
        frames += struct.pack("<h", sample)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(bytes(frames))
    return _write_whole(path, buffer.getvalue())


def _write_whole(path: Path, content: bytes) -> Path:
    """Writes the file so that a reader never sees it half written: the demo's files live in
    one shared temporary folder, and two `seed_demo` runs (parallel tests, two checkouts) may
    write and read them at once."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(content)
    os.replace(partial, path)
    return path


def write_pdf(path: Path, text: str = DEMO_TEXT) -> Path:
    """A valid one-page PDF with the text in Helvetica, wrapped at about 80 characters."""
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) > 80:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    escaped = [ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for ln in lines]
    stream = "BT /F1 11 Tf 56 780 Td 14 TL " + " ".join(f"({ln}) '" for ln in escaped) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return _write_whole(path, bytes(out))
