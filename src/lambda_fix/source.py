"""Bytes <-> text for Python source, keeping the file's encoding, BOM and line endings."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

STDIN = "-"  # the path that stands for source read from standard input


class SourceError(Exception):
    """The file is not Python source lambda-fix can read; the message says why."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # as tokenize names it: "utf-8", "utf-8-sig" (with BOM), "latin-1", ...


def decode(data: bytes) -> Decoded:
    if b"\0" in data:
        raise SourceError("binary content (NUL byte), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {exc.msg if hasattr(exc, 'msg') else exc}") from exc
    try:
        # bytes.decode keeps "\r\n" as it is, so the line endings survive the round trip.
        return Decoded(data.decode(encoding), encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"cannot decode as {encoding}: {exc}") from exc


def encode(text: str, decoded: Decoded) -> bytes:
    """The new text in the file's own encoding ("utf-8-sig" writes the BOM back)."""
    return text.encode(decoded.encoding)
