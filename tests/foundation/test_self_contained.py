"""A clone on a new machine has only itself: the tests' data and every path the code reads lie inside it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.printer.util import CAPTURES, STATUS_BLOCKS, capture_paths
from tests.support import REPO, TESTDATA

# `../shared`, or a path built from the parent of the repository towards "shared"
OUTSIDE = re.compile(r"\.\./shared|parents?\[?\d*\]?\s*/\s*[\"']shared[\"']|[\"']\.\.[\"']\s*/\s*[\"']shared[\"']")
SOURCES = ("appliance", "rpc", "tui", "tests", "bench", "run", ".ci/run", "pyproject.toml")


def _inside(path: Path) -> bool:
    return path.resolve().is_relative_to(REPO.resolve())


def test_the_test_vectors_resolve_inside_the_repository() -> None:
    for path in (TESTDATA, CAPTURES, STATUS_BLOCKS):
        assert _inside(path), f"{path} is outside {REPO}"
        assert path.exists(), f"{path} is missing from the repository"
    prns = capture_paths()
    assert len(prns) == 7
    for prn in prns:
        assert _inside(prn)
        for twin in (prn.with_suffix(".png"), prn.with_suffix(".trace.txt")):
            assert twin.exists(), f"{twin.name} is missing beside {prn.name}"
    assert (TESTDATA / "README.md").read_text().count("printer-driver-ptouch") >= 1, "provenance note missing"


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCES:
        path = REPO / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in path.rglob("*") if p.suffix in (".py", ".sh", ".toml", ".c") and "data" not in p.parts]
    return files


def test_nothing_reads_from_a_folder_beside_the_clone() -> None:
    files = _source_files()
    assert len(files) > 100  # the scan sees the tree, not an empty glob
    here = Path(__file__).resolve()
    offenders = [f"{path.relative_to(REPO)}:{n}" for path in files if path.resolve() != here
                 for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


def test_the_scan_would_see_a_path_to_the_shared_folder() -> None:
    for line in ('DATA = Path(__file__).parents[2] / "shared"', "open('../shared/testdata/x.json')",
                 'SHARED = REPO.parent / ".." / "shared"'):
        assert OUTSIDE.search(line), line
