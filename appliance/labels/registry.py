"""Built-in and user templates: list, get, validate, put (atomic, versioned), delete.

Built-ins ship in ``appliance/labels/builtin/*.toml``; user templates live in
``<state_dir>/templates/<name>.toml``. Each definition is parsed once and cached
until its file changes.

Versions: a user template's file carries ``version = N`` as its first line; every
``put`` writes N+1 (1 for a new name), whatever version the caller sent.
Built-ins carry their own version. A built-in's name is reserved: ``put`` and
``delete`` on it fail with kind "state", so a job's (name, version) always means
one definition; copy a built-in under a new name to customise it.
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from appliance.labels import definition, tomlw
from appliance.labels.errors import LabelError
from appliance.labels.fonts import find_font
from appliance.labels.model import BarcodeElement, Template, TextElement

_VERSION_LINE = re.compile(r"^\s*version\s*=.*$")
MAX_NAMES_SHOWN = 20  # in a "no template named" message; template.list has them all


def builtin_dir() -> Path:
    return Path(str(resources.files("appliance.labels") / "builtin"))


@dataclass(slots=True)
class _Cached:
    stamp: tuple[int, int]
    template: Template | None
    error: LabelError | None


class TemplateRegistry:
    def __init__(self, user_dir: Path | None = None, *, font_dirs: tuple[str, ...] = ()) -> None:
        self.user_dir = user_dir
        self.font_dirs = tuple(str(d) for d in font_dirs)
        self._builtins: dict[str, Template] | None = None
        self._user: dict[str, _Cached] = {}

    @classmethod
    def from_state_dir(cls, state_dir: Path, *, font_dirs: tuple[str, ...] = ()) -> TemplateRegistry:
        return cls(state_dir / "templates", font_dirs=font_dirs)

    # reading ---------------------------------------------------------------

    @property
    def builtins(self) -> dict[str, Template]:
        if self._builtins is None:
            base = builtin_dir()
            self._builtins = {}
            for path in sorted(base.glob("*.toml")):
                tpl = definition.parse(path.read_text("utf-8"), name=path.stem, source="builtin", base_dir=base)
                self._builtins[tpl.name] = tpl
        return self._builtins

    def _user_path(self, name: str) -> Path | None:
        return None if self.user_dir is None else self.user_dir / f"{name}.toml"

    def _load_user(self, name: str) -> _Cached | None:
        path = self._user_path(name)
        if path is None:
            return None
        try:
            st = path.stat()
        except FileNotFoundError:
            self._user.pop(name, None)
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._user.get(name)
        if cached is None or cached.stamp != stamp:
            try:
                tpl = definition.parse(path.read_text("utf-8"), name=name, source="user", base_dir=self.user_dir)
                cached = _Cached(stamp, tpl, None)
            except FileNotFoundError:  # deleted (by hand) since the stat
                self._user.pop(name, None)
                return None
            except LabelError as exc:
                cached = _Cached(stamp, None, exc)
            self._user[name] = cached
        return cached

    def _user_names(self) -> list[str]:
        if self.user_dir is None or not self.user_dir.is_dir():
            return []
        names = [p.stem for p in self.user_dir.glob("*.toml")]
        return sorted(n for n in names if definition.NAME_RE.match(n) and n not in self.builtins)

    def list(self) -> list[Template]:
        """Every usable template, built-ins first; user files that fail to parse are left out."""
        out = list(self.builtins.values())
        for name in self._user_names():
            cached = self._load_user(name)
            if cached is not None and cached.template is not None:
                out.append(cached.template)
        return out

    def broken(self) -> dict[str, LabelError]:
        """User template files that do not parse, with the reason (for readiness checks and logs)."""
        out = {}
        for name in self._user_names():
            cached = self._load_user(name)
            if cached is not None and cached.error is not None:
                out[name] = cached.error
        return out

    @staticmethod
    def _not_found(name: str, names: list[str], kind: str = "") -> str:
        """"no template named 'bin-lable'; did you mean 'bin-label'?", else the names there are."""
        said = f"no {kind}template named {name!r}"
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if close:
            return f"{said}; did you mean {' or '.join(repr(n) for n in close)}?"
        if not names:
            return f"{said} (there are no {kind}templates)"
        shown = ", ".join(sorted(names)[:MAX_NAMES_SHOWN])
        if len(names) > MAX_NAMES_SHOWN:
            shown += f", and {len(names) - MAX_NAMES_SHOWN} more (template.list lists them)"
        return f"{said} ({kind}templates: {shown})"

    def get(self, name: str) -> Template:
        if name in self.builtins:
            return self.builtins[name]
        cached = self._load_user(name) if definition.NAME_RE.match(name) else None
        if cached is None:
            raise LabelError("name", self._not_found(name, [*self.builtins, *self._user_names()]), "not_found")
        if cached.error is not None:
            raise cached.error
        assert cached.template is not None
        return cached.template

    # writing ---------------------------------------------------------------

    def validate_definition(self, name: str, definition_: str | dict[str, Any]) -> Template:
        """Parse and check a definition for `name` without storing it (fonts are checked too)."""
        if not definition.NAME_RE.match(name):
            raise LabelError("name", "use 1–64 characters a–z, 0–9, '-' or '_', starting with a letter or digit")
        data = definition.loads(definition_) if isinstance(definition_, str) else definition_
        if not isinstance(data, dict):
            raise LabelError("definition", "expected a table")
        if "name" in data and data["name"] != name:
            raise LabelError("definition.name", f"is {data['name']!r} but the template is being saved as {name!r}")
        tpl = definition.parse(data, name=name, source="user", base_dir=self.user_dir)
        for el in tpl.layout:
            if isinstance(el, TextElement | BarcodeElement):
                find_font(el.font, self.font_dirs, base_dir=self.user_dir, field=f"definition.{el.path}.font")
        return tpl

    def put(self, name: str, definition_: str | dict[str, Any]) -> Template:
        """Store a user template atomically with the next version; returns it as parsed."""
        if name in self.builtins:
            raise LabelError(
                "name", f"{name!r} is a built-in template and cannot be replaced; save it under another name", "state"
            )
        if self.user_dir is None:
            raise LabelError("name", "no template directory is configured", "state")
        self.validate_definition(name, definition_)
        tombstone = self.user_dir / f"{name}.deleted"
        try:
            version = self.get(name).version + 1
        except LabelError as exc:
            # a broken file is replaced: keep counting from its version line; a deleted one from its
            # tombstone, so (name, version) keeps meaning one definition for the jobs that recorded it
            path = self._user_path(name) if exc.kind != "not_found" else tombstone
            version = _version_in_file(path) + 1
        text = _with_version(definition_, version)
        self.validate_definition(name, text)  # what is written must load again: never store a broken file
        self.user_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.user_dir / f"{name}.toml", text)
        tombstone.unlink(missing_ok=True)
        self._user.pop(name, None)
        return self.get(name)

    def delete(self, name: str) -> None:
        if name in self.builtins:
            raise LabelError("name", f"{name!r} is a built-in template and cannot be deleted", "state")
        path = self._user_path(name) if definition.NAME_RE.match(name) else None
        if path is None or not path.exists():
            raise LabelError("name", self._not_found(name, self._user_names(), "user "), "not_found")
        last = _version_in_file(path)
        _atomic_write(path.with_suffix(".deleted"), f"version = {last}\n")  # a later put counts on from it
        path.unlink()
        self._user.pop(name, None)


def _version_in_file(path: Path | None) -> int:
    try:
        text = path.read_text("utf-8") if path else ""
    except OSError:
        return 0
    m = re.search(r"^\s*version\s*=\s*(\d+)", text, re.MULTILINE)
    return int(m.group(1)) if m else 0


def _with_version(definition_: str | dict[str, Any], version: int) -> str:
    """The definition as TOML text whose first line is `version = N` (the caller's version is dropped)."""
    if isinstance(definition_, dict):
        data = {"version": version, **{k: v for k, v in definition_.items() if k != "version"}}
        return tomlw.dumps(data)
    lines = definition_.splitlines()
    out: list[str] = []
    in_tables = False
    for line in lines:
        if line.lstrip().startswith("["):
            in_tables = True
        if not in_tables and _VERSION_LINE.match(line):
            continue
        out.append(line)
    text = f"version = {version}\n" + "\n".join(out) + "\n"
    original = definition.loads(definition_)
    expected = {"version": version, **{k: v for k, v in original.items() if k != "version"}}
    if definition.loads(text) != expected:  # e.g. a multi-line string fooled the line filter
        text = tomlw.dumps(expected)
    return text


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
