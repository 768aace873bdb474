"""The print engine: takes decoded jobs, checks them as a printer does, prints them over time.

One job at a time, in arrival order. A job is refused (nothing printed) when its print
information names other media than the loaded tape, or when the cover is open or no
cassette is in. Tape running out mid-job keeps the job: the pages not yet out are printed
once a new cassette is in and the cover is closed; nobody sends them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.printer.decode import DecodedJob, DecodedPage
from appliance.printer.media import Media
from appliance.printer.status import MEDIA_HOLDER, MEDIA_NOUN, worded
from appliance.simulator import output
from appliance.simulator.state import (
    COVER_OPEN,
    END_OF_MEDIA,
    NO_MEDIA,
    ST_COMPLETED,
    WRONG_MEDIA,
    KeptJob,
    Phase,
    PrintedLabel,
    VirtualPrinter,
)

log = logging.getLogger(__name__)

FLAG_KIND, FLAG_WIDTH, FLAG_LENGTH = 0x02, 0x04, 0x08
ANY_KIND = 0x00  # with the kind flag set: "detect the loaded media", never a mismatch


@dataclass(frozen=True, slots=True)
class Refusal:
    error: str
    message: str


def media_mismatch(page: DecodedPage, media: Media) -> str | None:
    """Why the page's print information (`ESC i z`) does not fit `media`, as a printer judges it.

    Only the fields whose valid flag (n1) is set are compared; a refused job prints nothing and the
    printer answers with error 2 bit 0, "wrong media" (Brother's raster command references).

    | n1 flag | field sent | loaded media | printer |
    |---|---|---|---|
    | 0x04 width | n3 ≠ the loaded width (3.5 mm is sent as 4) | any | refuses |
    | 0x02 kind | n2 = 0x00 | any | prints: "whatever is loaded" (1) |
    | 0x02 kind | n2 ≠ 0x00 and ≠ the loaded kind | any | refuses |
    | 0x08 length | n4 ≠ the die-cut label's length | die-cut (QL) | refuses |
    | 0x08 length | any | continuous | prints (tape has no length) |
    | flag unset | anything | any | prints: the field is not looked at (2) |

    (1) Host libraries send kind 0x00 with the kind flag on purpose to print on whatever tape is
        in, and PT printers print it (PROTOCOL.md, "Print information"; field reports of the
        libraries that do so). (2) Brother's own PT-P700 driver sends flags 0x84, width only
        (tests/data/brother-captures/PT-P700_12mm.trace.txt).
    """
    info = page.info
    if info is None:
        return None
    if info.flags & FLAG_WIDTH and info.width_mm != media.width_code:
        return f"job is for {info.width_mm} mm media, {media.width_code} mm is loaded"
    if info.flags & FLAG_KIND and info.media_type not in (ANY_KIND, media.media_type_code):
        return f"job is for media type 0x{info.media_type:02x}, 0x{media.media_type_code:02x} is loaded"
    if info.flags & FLAG_LENGTH and media.length_mm and info.length_mm != media.length_mm:
        return f"job is for {info.length_mm} mm labels, {media.length_mm} mm labels are loaded"
    return None


def check_job(printer: VirtualPrinter, job: DecodedJob) -> Refusal | None:
    """What a printer says before printing anything of `job`."""
    if printer.cover_open:
        return Refusal(COVER_OPEN, "job refused: the cover is open")
    if printer.tape is None:
        return Refusal(NO_MEDIA, f"job refused: no {worded(MEDIA_HOLDER, printer.model.family)}")
    for number, page in enumerate(job.pages, start=1):
        why = media_mismatch(page, printer.tape)
        if why:
            return Refusal(WRONG_MEDIA, f"job refused (page {number}): {why}")
    return None


def label_length_mm(page: DecodedPage, media: Media) -> float:
    if media.length_mm:
        return float(media.length_mm)
    dpi = media.feed_dpi(page.high_res)
    return (len(page.lines) + 2 * page.margin_dots) * 25.4 / dpi


def is_blank(printer: VirtualPrinter, page: DecodedPage) -> bool:
    """PT-P750W and PT-E550W print uncompressed raster as blank tape."""
    return printer.model.needs_compression and page.uncompressed_lines > 0


class PrintEngine:
    def __init__(self, printer: VirtualPrinter, out_dir: Path | None = None) -> None:
        self.printer = printer
        self.out_dir = out_dir
        self._queue: asyncio.Queue[tuple[int, DecodedJob]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._jobs = 0
        self._printing = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="virtual-printer-engine")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def power_cycle(self) -> None:
        """The printer's power is cut and comes back: the labels it had not printed yet are gone (a
        real printer keeps no job over a power cut), its page counter is not (it is in NVRAM)."""
        await self.stop()
        self._queue = asyncio.Queue()
        self._printing = False
        self.printer.kept = None
        self.printer.cooling = False  # a cold start
        self.printer.set_phase(Phase.IDLE)
        self.printer.refresh_status_type()
        self.printer.changed()
        self.start()

    def submit(self, job: DecodedJob) -> Refusal | None:
        """Accept `job` for printing, or refuse it at once (recorded in the printer's state)."""
        printer = self.printer
        printer.jobs_received += 1
        if printer.kept is not None:
            refusal: Refusal | None = Refusal(
                printer.kept.reason, "job refused: the printer waits to finish an interrupted job"
            )
        else:
            refusal = check_job(printer, job)
        if refusal is not None:
            printer.jobs_refused += 1
            printer.set_error(refusal.error, refusal.message)
            log.info("virtual printer: %s", refusal.message)
            return refusal
        printer.errors.discard(WRONG_MEDIA)
        printer.errors.discard(NO_MEDIA)
        self._jobs += 1
        self._queue.put_nowait((self._jobs, job))
        return None

    def idle(self) -> bool:
        """Nothing queued, and nothing printing unless it is kept waiting for a person."""
        return self._queue.empty() and (not self._printing or self.printer.kept is not None)

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Until every accepted job is printed or kept."""
        await self.printer.wait_for(lambda _: self.idle(), timeout)

    async def _run(self) -> None:
        while True:
            number, job = await self._queue.get()
            self._printing = True
            try:
                await self._print(number, job.pages)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the virtual printer must outlive any bug in one job
                log.exception("virtual printer: job %d failed", number)
                self.printer.last_error = f"internal error printing job {number}: {exc}"
            finally:
                self._printing = False
                self._queue.task_done()
                self.printer.changed()

    async def _print(self, number: int, pages: list[DecodedPage]) -> None:
        printer = self.printer
        index = 0
        while index < len(pages):
            reason = printer.blocking_reason()
            if reason is not None:
                await self._keep(number, pages, index, reason)
                continue
            if printer.cooling:  # pauses between labels and goes on by itself: the job is not kept
                printer.set_phase(Phase.IDLE)
                await printer.wait_for(lambda p: not p.cooling)
                continue  # the cover may have opened meanwhile
            assert printer.tape is not None
            page = pages[index]
            media = printer.tape
            if page.various_mode is not None:
                printer.mode = page.various_mode
            printer.set_phase(Phase.PRINTING)
            length = label_length_mm(page, media)
            stopped = await self._feed(length)
            if stopped is not None:
                printer.set_phase(Phase.IDLE)
                if stopped == END_OF_MEDIA:
                    noun = worded(MEDIA_NOUN, printer.model.family)
                    printer.set_error(END_OF_MEDIA, f"the {noun} ran out during job {number}, page {index + 1}")
                continue  # kept at the top of the loop; the page is printed again once it can be
            # a label out of the printer is counted even if the power goes right then (power_cycle)
            await asyncio.shield(self._deliver(number, index, page, media, length))
            index += 1
        printer.kept = None
        printer.set_phase(Phase.IDLE)
        printer.refresh_status_type()
        printer.changed()

    async def _keep(self, number: int, pages: list[DecodedPage], index: int, reason: str) -> None:
        """Hold the rest of the job until the printer can print again with fitting media."""
        printer = self.printer
        printer.kept = KeptJob(number, pages, index, reason)
        printer.set_phase(Phase.IDLE)
        printer.changed()
        while True:
            await printer.wait_for(lambda p: p.blocking_reason() is None)
            assert printer.tape is not None
            why = next(filter(None, (media_mismatch(page, printer.tape) for page in pages[index:])), None)
            if why is None:
                printer.errors.discard(WRONG_MEDIA)
                if printer.resume_after_s:  # a real printer takes a moment; _print looks at the faults again
                    await asyncio.sleep(printer.resume_after_s)
                return
            holder = worded(MEDIA_HOLDER, printer.model.family)
            printer.set_error(WRONG_MEDIA, f"kept job {number} does not fit the new {holder}: {why}")
            await printer.wait_for(lambda p: WRONG_MEDIA not in p.errors)

    async def _feed(self, length_mm: float) -> str | None:
        """Move `length_mm` of tape past the head. None when it all went through; otherwise why it
        stopped on the way: the tape ran out (END_OF_MEDIA), or the cover was opened (COVER_OPEN),
        which stops a real printer mid-label too. Like a tape change, it keeps the job."""
        printer = self.printer
        remaining = printer.tape_remaining_mm
        runs_out = remaining is not None and remaining < length_mm
        distance = remaining if runs_out and remaining is not None else length_mm
        stopped: str | None = END_OF_MEDIA if runs_out else None
        if printer.speed_mm_s:
            speed = printer.speed_mm_s
            started = asyncio.get_running_loop().time()
            try:
                await printer.wait_for(lambda p: p.cover_open, timeout=distance / speed)
            except TimeoutError:
                pass
            else:
                distance = min(distance, (asyncio.get_running_loop().time() - started) * speed)
                stopped = COVER_OPEN
        else:
            await asyncio.sleep(0)
        if printer.tape_remaining_mm is not None:
            printer.tape_remaining_mm = max(0.0, printer.tape_remaining_mm - distance)
        return stopped

    async def _deliver(self, number: int, index: int, page: DecodedPage, media: Media, length: float) -> None:
        printer = self.printer
        blank = is_blank(printer, page)
        at = datetime.now(UTC)
        label_number = len(printer.printed) + 1
        path: Path | None = None
        if self.out_dir is not None:
            fields = printer.status_fields()
            image = output.render_label(
                page, media, blank=blank, tape_color=fields["tape_color"], text_color=fields["text_color"]
            )
            # named by the page counter, which survives restarts (NVRAM), so a restart never reuses a number
            path = await asyncio.to_thread(output.deliver_label, self.out_dir, printer.page_counter + 1, at, image)
        printer.record_print(PrintedLabel(label_number, number, index, media.width_mm, length, blank, at, path))
        printer.notify(ST_COMPLETED)
