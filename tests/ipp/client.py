"""A small IPP client for the tests: requests built with the appliance's codec, sent over real HTTP."""

from __future__ import annotations

import base64
import io
from typing import Any

import aiohttp
from PIL import Image, ImageDraw

from appliance.ipp import codec, codes
from appliance.ipp.codec import Attribute, Message

IPP = "application/ipp"


def request(op: int, printer_uri: str, *, version: tuple[int, int] = (2, 0), request_id: int = 1,
            operation: list[tuple[str, int, Any]] = (), job: list[tuple[str, int, Any]] = ()) -> Message:
    message = Message(version, op, request_id)
    group = message.new_group(codec.OPERATION_GROUP)
    group.add("attributes-charset", codec.CHARSET, "utf-8")
    group.add("attributes-natural-language", codec.LANGUAGE, "en")
    group.add("printer-uri", codec.URI, printer_uri)
    for name, tag, value in operation:
        group.attributes.append(Attribute(name, tag, list(value) if isinstance(value, list) else [value]))
    if job:
        jgroup = message.new_group(codec.JOB_GROUP)
        for name, tag, value in job:
            jgroup.attributes.append(Attribute(name, tag, list(value) if isinstance(value, list) else [value]))
    return message


class IppClient:
    """POSTs IPP to an appliance over TCP (`url`) or its unix socket (`socket`)."""

    def __init__(self, *, url: str | None = None, socket: str | None = None, path: str = "/ipp/print",
                 token: str | None = None) -> None:
        self.base = url or "http://localhost"
        self.socket = socket
        self.path = path
        self.token = token
        self.uri = f"ipp://{self.base.split('://', 1)[1]}{path}"

    async def post_raw(self, body: bytes, *, content_type: str = IPP,
                       headers: dict[str, str] | None = None) -> aiohttp.ClientResponse | Any:
        connector = aiohttp.UnixConnector(path=self.socket) if self.socket else None
        sent = {"Content-Type": content_type, **(headers or {})}
        if self.token is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(f"me:{self.token}".encode()).decode()
        async with aiohttp.ClientSession(connector=connector) as session, \
                session.post(self.base + self.path, data=body, headers=sent) as response:
            return response.status, dict(response.headers), await response.read()

    async def send(self, message: Message, document: bytes = b"") -> Message:
        status, _, body = await self.post_raw(codec.encode_message(message) + document)
        assert status == 200, (status, body[:200])
        return codec.read_message(io.BytesIO(body))

    async def op(self, op: int, document: bytes = b"", **kwargs: Any) -> Message:
        return await self.send(request(op, self.uri, **kwargs), document)


def attrs(message: Message, tag: int = codec.PRINTER_GROUP, index: int = 0) -> dict[str, list[Any]]:
    groups = message.groups_of(tag)
    return {a.name: a.values for a in groups[index].attributes} if len(groups) > index else {}


def status_name(message: Message) -> str:
    return codes.STATUS_NAMES.get(message.code, hex(message.code))


def label_png(text: str = "IPP", size: tuple[int, int] = (400, 120), dpi: int = 300) -> bytes:
    """A black-on-white line-art page (a label as an app would draw it)."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, size[0] - 5, size[1] - 5), outline=0, width=6)
    draw.text((20, size[1] // 3), text, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def qr_pdf(text: str, *, pages: int = 1, size_mm: tuple[float, float] = (40.0, 12.0)) -> bytes:
    """A PDF (made by Pillow) whose pages each carry a QR code of `text` and the page number."""
    import segno

    images = []
    dpi = 300
    width, height = (round(v / 25.4 * dpi) for v in size_mm)
    for number in range(pages):
        page = Image.new("L", (width, height), 255)
        qr = segno.make(f"{text}-{number + 1}" if pages > 1 else text, error="m")
        out = io.BytesIO()
        qr.save(out, kind="png", scale=1, border=2)
        code = Image.open(io.BytesIO(out.getvalue())).convert("L")
        side = height - 10
        page.paste(code.resize((side, side), Image.Resampling.NEAREST), (5, 5))
        ImageDraw.Draw(page).text((side + 20, height // 3), f"page {number + 1}", fill=0)
        images.append(page)
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()
