"""Labels: `label.preview` over the wire, render+encode per built-in template, the encoder vs ptouch.

- label.preview: a real server process, TCP with a token, one call at a time; the median
  includes render, PNG, base64, JSON and HTTP.
- render+encode: bench/labels.py's figures (in this process, with the server's heap settings), with
  the target of the issue (< 5 ms median); for PT tapes the baseline is the same render followed
  by ptouch's encoder, for QL tapes (ptouch has none) our own render+encode in a child process
  without the C encoder (Pillow and libtiff turn, pack and compress the page, as on a machine
  that had no C compiler at install).
- encode: bench/raster.py's figures, our encoder vs ptouch on the same 1-bit image (≥ 2×).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from . import labels as labels_bench
from . import raster as raster_bench
from .common import BENCH_AUTH, median, row, start_server, temp_dir, write_config

RENDER_ENCODE_TARGET_MS = 5.0
ENCODE_RATIO_TARGET = 2.0
PTOUCH_FOR = {"PT-P750W": ("PTP750W", "Tape12mm")}  # the PT tape bench/labels.py uses


async def _previews(url: str, headers: dict[str, str], repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    async with aiohttp.ClientSession(headers=headers) as session:
        for name, samples in labels_bench.FIELDS.items():
            times = []
            for i in range(repeat + 1):
                body = json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "label.preview",
                        "params": {"template": name, "fields": samples[i % len(samples)]},
                    }
                ).encode()
                started = time.perf_counter()
                async with session.post(url + "/rpc", data=body) as response:
                    answer = await response.json()
                elapsed = time.perf_counter() - started
                if "result" not in answer:
                    raise RuntimeError(f"label.preview {name} failed: {answer.get('error')}")
                if i:  # the first call warms caches
                    times.append(elapsed)
            out[name] = median(times) * 1000
    return out


def preview_rows(repeat: int) -> list[dict[str, Any]]:
    with temp_dir("bench-preview-") as tmp:
        config = write_config(tmp / "bench.toml", {"auth": BENCH_AUTH})
        server = start_server(tmp / "state", config=config, env={"APPLIANCE_SIMULATOR_SPEED": "instant"})
        try:
            medians = asyncio.run(_previews(server.url, server.headers(), repeat))
        finally:
            server.stop()
    note = (
        "PT-P750W 12 mm; over TCP "
        + ("with a token" if server.token else f"({server.token_note})")
        + "; render + PNG + base64 + HTTP"
    )
    return [row(f"label.preview {name}", round(ms, 2), "ms", note=note) for name, ms in medians.items()]


def _ptouch_render_encode(repeat: int) -> dict[tuple[str, str], float]:
    """(template, tape name) → median ms of our render followed by ptouch's encoder, for PT tapes."""
    from appliance.labels import TemplateRegistry, render

    registry = TemplateRegistry()
    out: dict[tuple[str, str], float] = {}
    for tape_name, canvas, model_name, _media in labels_bench.TAPES:
        names = PTOUCH_FOR.get(model_name)
        if names is None:
            continue
        for name, samples in labels_bench.FIELDS.items():
            template = registry.get(name)
            first = render(template, samples[0], canvas).image
            if raster_bench._ptouch_encoder(names[0], names[1], first) is None:
                return out  # ptouch is not installed

            def both(i: int, t: Any = template, s: Any = samples, c: Any = canvas, n: Any = names) -> object:
                image = render(t, s[i % len(s)], c).image
                encoder = raster_bench._ptouch_encoder(n[0], n[1], image)
                assert encoder is not None
                return encoder()

            out[(name, tape_name)] = labels_bench._median_ms(both, repeat)
    return out


def render_rows(repeat: int) -> list[dict[str, Any]]:
    without_c = labels_bench.child_run("--without-c", repeat=repeat)
    ours = labels_bench.run(repeat=repeat)  # from here on this process has the server's heap settings
    theirs = _ptouch_render_encode(max(3, repeat // 3))
    rows = []
    for found in ours:
        if not found["figure"].startswith("render+encode"):
            continue
        name, tape = found["figure"].removeprefix("render+encode ").split(" (", 1)
        tape_name = tape.split(",")[0]
        ptouch = theirs.get((name, tape_name))
        baseline = ptouch if ptouch is not None else without_c.get(found["figure"])
        value = found["value"]
        rows.append(
            row(
                found["figure"],
                round(value, 2),
                "ms",
                target=f"< {RENDER_ENCODE_TARGET_MS:g} ms",
                ok=value < RENDER_ENCODE_TARGET_MS,
                baseline=None if baseline is None else round(baseline, 2),
                ratio=None if baseline is None else round(baseline / value, 2),
                note="baseline: same render + ptouch encode"
                if ptouch is not None
                else "baseline: the same without the C encoder (Pillow + libtiff), in a child process "
                "(ptouch has no QL models)",
            )
        )
    return rows


def encode_rows(repeat: int) -> list[dict[str, Any]]:
    rows = []
    for found in raster_bench.run(repeat=repeat):
        ratio, ptouch = found.get("ratio"), found.get("baseline_of") == "ptouch"
        rows.append(
            row(
                found["figure"],
                round(found["value"], 3),
                "ms",
                target=f"≥ {ENCODE_RATIO_TARGET:g}× ptouch" if ptouch else "—",
                ok=ratio >= ENCODE_RATIO_TARGET if ptouch and ratio is not None else None,
                baseline=found.get("baseline"),
                ratio=ratio,
                note=""
                if ptouch
                else "ptouch has no QL models; baseline: our encoder without its C part (Pillow + libtiff)",
            )
        )
    return rows


def run(repeat: int = 31) -> list[dict[str, Any]]:
    return [*preview_rows(repeat), *render_rows(repeat), *encode_rows(repeat)]


if __name__ == "__main__":
    for r in run():
        print(r)
