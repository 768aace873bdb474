"""Font lookup and a cache of Pillow font objects.

A template names a font by alias (``sans``, ``sans-bold``, ``mono``, ``mono-bold``,
``condensed``, ``condensed-bold``, ``serif``), by family/style name (``"DejaVu Sans Bold"``),
by file stem (``DejaVuSansMono``) or by file name (``MyFont.ttf``, also looked up next to the
template). Extra font directories come first, then DejaVu's Debian directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from appliance.labels.errors import FontNotFoundError

DEFAULT_FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts/truetype/dejavu",)
DEFAULT_FONT = "sans"
ALIASES = {
    "sans": "DejaVuSans",
    "sans-bold": "DejaVuSans-Bold",
    "mono": "DejaVuSansMono",
    "mono-bold": "DejaVuSansMono-Bold",
    "condensed": "DejaVuSansCondensed",
    "condensed-bold": "DejaVuSansCondensed-Bold",
    "serif": "DejaVuSerif",
    "serif-bold": "DejaVuSerif-Bold",
}
_EXTENSIONS = (".ttf", ".otf", ".ttc")


def _norm(name: str) -> str:
    stem = name.lower()
    for ext in _EXTENSIONS:
        stem = stem.removesuffix(ext)
    return "".join(ch for ch in stem if ch.isalnum())


@lru_cache(maxsize=16)
def _index(dirs: tuple[str, ...]) -> dict[str, str]:
    """Normalised name → path for every font file below `dirs` (first directory wins)."""
    found: dict[str, str] = {}
    for d in dirs:
        for root, _subdirs, files in os.walk(d):
            for f in sorted(files):
                if f.lower().endswith(_EXTENSIONS):
                    found.setdefault(_norm(f), os.path.join(root, f))
    return found


def search_dirs(font_dirs: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
    return (*(str(d) for d in font_dirs), *DEFAULT_FONT_DIRS)


def find_font(spec: str, font_dirs: tuple[str, ...] = (), *, base_dir: Path | None = None, field: str = "font") -> str:
    """Path of the font `spec`, or FontNotFoundError naming the directories searched."""
    if base_dir is not None and spec.lower().endswith(_EXTENSIONS):
        local = base_dir / spec
        if local.is_file() and local.resolve().is_relative_to(base_dir.resolve()):
            return str(local)
    dirs = search_dirs(font_dirs)
    path = _index(dirs).get(_norm(ALIASES.get(spec, spec)))
    if path is None:
        raise FontNotFoundError(field, spec, dirs)
    return path


@lru_cache(maxsize=1024)
def font(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    """The Pillow font for (path, pixel size), loaded once."""
    return ImageFont.truetype(path, size_px)


@lru_cache(maxsize=1024)
def line_metrics(path: str, size_px: int) -> tuple[int, int]:
    """(ascent, descent) in pixels."""
    return font(path, size_px).getmetrics()


@lru_cache(maxsize=1024)
def cap_height(path: str, size_px: int) -> int:
    """How high the capitals ("H") are drawn at this size, in pixels."""
    _, top, _, bottom = font(path, size_px).getbbox("H")
    return bottom - top


def clear_caches() -> None:
    """Forget indexed directories (after fonts were installed while running)."""
    _index.cache_clear()
