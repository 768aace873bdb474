"""Shared helpers: draw test labels, encode them, send them over real TCP."""

from __future__ import annotations

from PIL import Image, ImageDraw

from appliance.printer.media import Media, media_for
from appliance.printer.models import Model, get_model
from appliance.printer.raster import encode_job
from appliance.printer.transport import TcpTransport
from appliance.simulator import Simulator


def label_image(media: Media, text: str, length_mm: float = 30) -> Image.Image:
    """A 1-bit label with text and a frame, so orientation and content are both checkable."""
    image = Image.new("1", media.size_px(length_mm), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, image.height - 1), outline=0)
    draw.rectangle((2, 2, 12, image.height // 2), fill=0)  # a block at the top-left corner
    draw.text((20, 8), text, fill=0)
    return image


def job(text: str | list[str], model: str = "PT-P750W", tape: str = "12mm", **options) -> bytes:
    m: Model = get_model(model)
    media = media_for(m, tape)
    texts = [text] if isinstance(text, str) else text
    return encode_job(m, media, [label_image(media, t) for t in texts], **options)


async def send(sim: Simulator, data: bytes) -> None:
    host, port = sim.tcp_address
    await TcpTransport(host, port, connect_timeout=2, close_timeout=2).send(data)
