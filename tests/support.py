"""Helpers shared by the tests (importable as `tests.support`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from appliance.config import Settings, load

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TESTDATA = SHARED / "testdata"


def make_settings(state_dir: Path, **sections: dict[str, Any]) -> Settings:
    """Settings as a fresh install would have them, in a temp state dir, on a free loopback port."""
    overrides: dict[str, dict[str, Any]] = {"server": {"state_dir": str(state_dir), "listen": "127.0.0.1:0"},
                                            "simulator": {"speed": "instant"}}
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load(None, env={}, overrides=overrides)



def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env.update(extra)
    return env


PYTHON = sys.executable
