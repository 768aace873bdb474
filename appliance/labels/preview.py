"""PNG previews of a rendered label, as it will look on the tape."""

from __future__ import annotations

import io

from PIL import Image

from appliance.labels.result import RenderResult

MARGIN_GREY = 225


def preview_image(result: RenderResult, *, scale: int = 1, show_margins: bool = False) -> Image.Image:
    """Black on white at true proportions; with `show_margins`, the unprintable tape edges in light grey."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    canvas = result.canvas
    img = result.image
    if canvas.dpi_feed != canvas.dpi_head:  # show dots as the square-ish marks they print as
        width = max(1, round(img.width * canvas.dpi_head / canvas.dpi_feed))
        img = img.resize((width, img.height), Image.Resampling.NEAREST)
    if show_margins:
        tape_px = max(img.height, round(canvas.tape_width_mm * canvas.dpi_head / 25.4))
        edge = (tape_px - img.height) // 2
        framed = Image.new("L", (img.width, tape_px), MARGIN_GREY)
        framed.paste(img.convert("L"), (0, edge))
        img = framed
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return img


def preview_png(result: RenderResult, *, scale: int = 1, show_margins: bool = False) -> bytes:
    """PNG bytes of `preview_image` (what label.preview returns, base64-encoded by the server)."""
    buf = io.BytesIO()
    preview_image(result, scale=scale, show_margins=show_margins).save(buf, format="PNG", optimize=False)
    return buf.getvalue()
