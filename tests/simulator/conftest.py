from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appliance.simulator import Simulator


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    """A virtual PT-P750W with 12 mm tape, printing instantly, PNGs in tmp_path/out."""
    async with Simulator(out_dir=tmp_path / "out", speed=None, control=("127.0.0.1", 0)) as s:
        yield s
