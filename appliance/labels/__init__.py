"""Label templates and rendering: TOML template → 1-bit Pillow image for a tape.

No printer I/O and no dependency on ``appliance.printer``: the caller describes the
loaded tape with a `Canvas`. Entry points::

    registry = TemplateRegistry.from_state_dir(state_dir)
    result = render(registry.get("asset-tag"), {"name": "Laptop", "asset_id": "A-1"}, canvas)
    png = preview_png(result, scale=2)

Errors are `LabelError` (``.field``, ``.reason``, ``.kind``); see TEMPLATES.md for the format.
"""

from appliance.labels.definition import parse as parse_template
from appliance.labels.errors import FontNotFoundError, LabelError, LabelWarning
from appliance.labels.geometry import Canvas, pt_canvas, ql_canvas
from appliance.labels.model import FieldSpec, Template
from appliance.labels.preview import preview_image, preview_png
from appliance.labels.registry import TemplateRegistry
from appliance.labels.render import render
from appliance.labels.result import RenderResult

__all__ = [
    "Canvas",
    "FieldSpec",
    "FontNotFoundError",
    "LabelError",
    "LabelWarning",
    "RenderResult",
    "Template",
    "TemplateRegistry",
    "parse_template",
    "preview_image",
    "preview_png",
    "pt_canvas",
    "ql_canvas",
    "render",
]
