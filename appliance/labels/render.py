"""Render a template with field values onto a tape `Canvas` → `RenderResult`.

Layout (see TEMPLATES.md): elements whose ``x`` is ``"auto"`` flow along the tape
in slots, left to right, separated by ``gap_mm``; ``x = "same"`` stacks an element
into the previous slot. A slot is as long as its longest member's natural length
(QR: a square of its height; barcode: its bars; text: its width at the size that
fits the height) unless a member says ``w = "fill"``: fill slots share whatever
length is left. A growing label (no ``length_mm``) is as long as its content,
clamped to the template's and the printer's limits; fill text then re-fits.
Elements with an explicit ``x`` are placed absolutely and do not flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from appliance.labels.code_items import BarcodeItem, QrItem
from appliance.labels.context import RenderContext
from appliance.labels.dims import Dim
from appliance.labels.errors import LabelError
from appliance.labels.fields import coerce, json_values
from appliance.labels.geometry import Canvas
from appliance.labels.item import Item
from appliance.labels.model import Element, Template
from appliance.labels.result import RenderResult
from appliance.labels.shape_items import BoxItem, ImageItem, LineItem
from appliance.labels.text_item import TextItem

_ITEMS: dict[str, type[Item]] = {
    "text": TextItem,
    "qr": QrItem,
    "barcode": BarcodeItem,
    "image": ImageItem,
    "line": LineItem,
    "box": BoxItem,
    "space": Item,
}
_WARN_WHEN_OMITTED = ("qr", "barcode", "image")
TAPE_TOLERANCE_MM = 0.6


def check_tape(template: Template, canvas: Canvas) -> None:
    tape, noun = canvas.tape_width_mm, canvas.media_noun
    if template.tapes is not None and not any(abs(tape - t) <= TAPE_TOLERANCE_MM for t in template.tapes):
        widths = ", ".join(f"{t:g}" for t in template.tapes)
        raise LabelError(
            "tape", f"template {template.name!r} needs {widths} mm {noun}; {canvas.loaded(tape)}", "state"
        )
    if template.min_tape_mm is not None and tape + TAPE_TOLERANCE_MM < template.min_tape_mm:
        raise LabelError(
            "tape",
            f"template {template.name!r} needs {noun} at least {template.min_tape_mm:g} mm wide; "
            f"{canvas.loaded(tape)}",
            "state",
        )


def _applies(el: Element, ctx: RenderContext) -> bool:
    tape = ctx.canvas.tape_width_mm
    if el.when is not None and ctx.values.get(el.when) in ("", None):
        return False
    if el.max_tape_mm is not None and tape > el.max_tape_mm:
        return False
    if el.min_tape_mm is not None and tape < el.min_tape_mm:
        if el.type in _WARN_WHEN_OMITTED:
            ctx.warn(
                f"{el.type}-omitted",
                f"{el.type} needs {ctx.canvas.media_noun} at least {el.min_tape_mm:g} mm wide; "
                f"{ctx.canvas.loaded(tape)}",
                el.path,
            )
        return False
    return True


def _dim_mm(d: Dim, ctx: RenderContext, path: str) -> float:
    try:
        return d.mm(ctx.values)
    except ValueError as exc:
        raise LabelError(path, str(exc)) from None


def _across(d: Dim, area: int, ctx: RenderContext, path: str) -> int:
    if d.kind == "pct":
        return round(area * d.value / 100)
    return ctx.canvas.head_px(_dim_mm(d, ctx, path))


def _along(d: Dim, content_w: int | None, item: Item, ctx: RenderContext, path: str) -> int | None:
    """Length of an element along the tape in dots; None when it cannot be known yet."""
    if d.kind == "pct":
        return None if content_w is None else round(content_w * d.value / 100)
    if d.kind == "auto":
        return item.natural()
    if d.kind == "fill":
        return None
    return ctx.canvas.feed_px(_dim_mm(d, ctx, path))


@contextmanager
def _blame(element_path: str) -> Iterator[None]:
    """A template element that cannot be laid out or drawn fails the label with its path, not as a crash.

    What reaches here got past every check at template.put and is specific to the values or the
    tape: a spec that does not suit a value, a size FreeType refuses, arithmetic that overflows.
    """
    try:
        yield
    except (ValueError, OverflowError, OSError, RuntimeError) as exc:
        raise LabelError(f"definition.{element_path}", f"cannot be drawn: {exc}") from None


def render(
    template: Template, fields: dict[str, object], canvas: Canvas, *, font_dirs: tuple[str, ...] = ()
) -> RenderResult:
    """Render `template` with `fields` for the tape in `canvas`. Raises LabelError before anything prints."""
    values = coerce(template, fields)
    check_tape(template, canvas)
    ctx = RenderContext(canvas, values, tuple(str(d) for d in font_dirs), template.base_dir)
    pad = canvas.head_px(template.padding_mm)
    area_h = canvas.printable_px - 2 * pad
    if area_h < 4:
        raise LabelError("definition.padding_mm", "leaves no printable height on this tape", "state")

    items: list[Item] = []
    for el in template.layout:
        if not _applies(el, ctx):
            continue
        y = _across(el.y, area_h, ctx, f"definition.{el.path}.y")
        h = min(_across(el.h, area_h, ctx, f"definition.{el.path}.h"), area_h - y)
        if h <= 0:
            raise LabelError(f"definition.{el.path}.h", "the element has no height on this tape", "state")
        with _blame(el.path):
            items.append(_ITEMS[el.type](el, ctx, pad + y, h))  # type: ignore[arg-type]

    slots: list[list[Item]] = []
    placed: list[Item] = []
    for it in items:
        if it.el.x.kind == "auto" or (it.el.x.kind == "same" and not slots):
            slots.append([it])
        elif it.el.x.kind == "same":
            slots[-1].append(it)
        else:
            placed.append(it)

    margin = canvas.feed_px(template.margin_mm)
    gap = canvas.feed_px(template.gap_mm)
    gaps = gap * max(0, len(slots) - 1)
    room = _length(template, canvas, canvas.max_length_px) - 2 * margin - gaps  # the most any slot can get
    # natural lengths: fixed part of each slot, and the wish of fill slots
    fixed: list[int] = []
    fill_want: list[int | None] = []
    for slot in slots:
        with _blame(slot[0].el.path):
            widths = [
                m.fit_natural(room) if m.el.w.kind == "auto"
                else _along(m.el.w, None, m, ctx, f"definition.{m.el.path}.w")
                for m in slot
            ]
            fixed.append(max((w for w in widths if w is not None), default=0))
            is_fill = any(m.el.w.kind == "fill" for m in slot)
            fill_want.append(max([m.natural() for m in slot if m.el.w.kind == "fill"] + [fixed[-1]])
                             if is_fill else None)
    fixed_length = canvas.fixed_length_px is not None or template.length_mm is not None
    wished = sum(f if want is None else want for f, want in zip(fixed, fill_want, strict=True))
    if fixed_length and len(slots) > 1 and wished > room:
        _fit_codes_to_a_share(slots, fixed, fill_want, room)
    natural = sum(f if want is None else want for f, want in zip(fixed, fill_want, strict=True)) + gaps
    for it in placed:
        if it.el.x.kind in ("mm", "expr"):
            w = _along(it.el.w, None, it, ctx, f"definition.{it.el.path}.w") or 0
            natural = max(natural, canvas.feed_px(_dim_mm(it.el.x, ctx, f"definition.{it.el.path}.x")) + w)

    length = _length(template, canvas, natural + 2 * margin)
    content_w = length - 2 * margin

    # widths: fill slots share what the fixed slots leave, in proportion to their wish
    widths = [f if want is None else 0 for f, want in zip(fixed, fill_want, strict=True)]
    for i, slot in enumerate(slots):
        pct = [_along(m.el.w, content_w, m, ctx, "") for m in slot if m.el.w.kind == "pct"]
        widths[i] = max([widths[i], *[p or 0 for p in pct]])
    left = content_w - sum(widths) - gaps
    wants = [(i, want) for i, want in enumerate(fill_want) if want is not None]
    if wants:
        total_want = sum(max(1, w) for _, w in wants)
        for i, want in wants:
            widths[i] = max(0, left * max(1, want) // total_want)
        left = 0
    elif left < 0 and fixed_length:
        _squeeze_text(template, canvas, slots, widths, content_w - gaps, margin)
        left = 0
    elif left < 0:
        ctx.warn("content-clipped", "the content is longer than the label; the end is cut off")
        budget = content_w
        for i, w in enumerate(widths):  # later slots get what is left, so codes can shrink or fail
            widths[i] = max(0, min(w, budget))
            budget -= widths[i] + gap
    x = margin + max(0, left) // 2
    img = Image.new("L", (length, canvas.printable_px), 255)
    boxes: dict[int, tuple[int, int]] = {}
    for slot, w in zip(slots, widths, strict=True):
        for m in slot:
            boxes[id(m)] = (x, w)
        x += w + gap
    for it in placed:
        px = margin + (
            round(content_w * it.el.x.value / 100)
            if it.el.x.kind == "pct"
            else canvas.feed_px(_dim_mm(it.el.x, ctx, f"definition.{it.el.path}.x"))
        )
        w = _along(it.el.w, content_w, it, ctx, f"definition.{it.el.path}.w")
        boxes[id(it)] = (px, content_w + margin - px if w is None else w)
    for it in items:
        bx, bw = boxes[id(it)]
        with _blame(it.el.path):
            it.draw(img, bx, bw)

    mono = img.convert("1", dither=Image.Dither.NONE)  # threshold at 128 (a C loop, ~15× faster than point)
    return RenderResult(
        image=mono,
        length_px=length,
        length_mm=canvas.feed_mm(length),
        width_mm=canvas.tape_width_mm,
        printable_px=canvas.printable_px,
        warnings=tuple(ctx.warnings),
        template=template.name,
        version=template.version,
        fields=json_values(values),
        canvas=canvas,
    )


def _fit_codes_to_a_share(slots: list[list[Item]], fixed: list[int], fill_want: list[int | None],
                          room: int) -> None:
    """Parts overflow a label of fixed length: a QR code takes smaller modules to fit its share (its
    text neighbours then shrink to what is left; see _squeeze_text). The length is shared out like
    water: slots wanting less than an equal share keep what they want, the others split the rest."""
    wants = [f if want is None else want for f, want in zip(fixed, fill_want, strict=True)]
    open_slots = set(range(len(slots)))
    budget = room
    while open_slots:
        share = budget // len(open_slots)
        modest = {i for i in open_slots if wants[i] <= share}
        if not modest:
            break
        budget -= sum(wants[i] for i in modest)
        open_slots -= modest
    if not open_slots:
        return
    share = budget // len(open_slots)
    for i in sorted(open_slots):
        slot = slots[i]
        codes = [m for m in slot if m.shrinks_to_share and m.el.w.kind == "auto"]
        if codes:
            # a code that cannot be read at its share takes what it needs of the rest, if that is there
            limit = share if all(m.fits(share) for m in codes) else budget
            with _blame(slot[0].el.path):
                fixed[i] = max(m.fit_natural(limit) if m in codes else min(fixed[i], limit) if m.elastic
                               else fixed[i] for m in slot)


def _squeeze_text(template: Template, canvas: Canvas, slots: list[list[Item]], widths: list[int], room: int,
                  margin: int) -> None:
    """Fit slots to a label of fixed length: the text-only slots share what the others leave, in
    proportion to their wish (their font shrinks to it). When the others alone do not fit, the
    label is too short for the template: said so, rather than blaming the text squeezed to nothing."""
    rigid = sum(w for w, slot in zip(widths, slots, strict=True) if not all(m.elastic for m in slot))
    if rigid > room:
        gaps = canvas.feed_px(template.gap_mm) * (len(slots) - 1)
        need, have = canvas.feed_mm(rigid + gaps + 2 * margin), canvas.feed_mm(room + gaps + 2 * margin)
        if canvas.fixed_length_px is not None:
            raise LabelError("tape", f"template {template.name!r} needs about {need:.0f} mm of printable length "
                             f"here; the loaded {canvas.media_id} labels give {have:.0f} mm: use longer labels or "
                             "continuous tape", "state")
        raise LabelError("definition.length_mm", f"needs about {need:.0f} mm for this content, not {have:.0f} mm",
                         "state")
    wish = sum(w for w, slot in zip(widths, slots, strict=True) if all(m.elastic for m in slot))
    for i, slot in enumerate(slots):
        if all(m.elastic for m in slot):
            widths[i] = (room - rigid) * widths[i] // max(1, wish)


def _length(template: Template, canvas: Canvas, natural: int) -> int:
    if canvas.fixed_length_px is not None:
        return canvas.fixed_length_px
    if template.length_mm is not None:
        length = canvas.feed_px(template.length_mm)
        if length > canvas.max_length_px:
            raise LabelError(
                "definition.length_mm",
                f"{template.length_mm:g} mm is longer than this printer allows "
                f"({canvas.feed_mm(canvas.max_length_px):.0f} mm)",
                "state",
            )
        return max(length, canvas.min_length_px)
    lo = max(canvas.min_length_px, canvas.feed_px(template.min_length_mm))
    hi = canvas.max_length_px
    if template.max_length_mm is not None:
        hi = min(hi, canvas.feed_px(template.max_length_mm))
    return max(lo, min(natural, hi))
