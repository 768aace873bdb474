"""The template registry: built-ins, user templates on disk, atomic versioned puts, deletes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from appliance.labels import Canvas, LabelError, TemplateRegistry, preview_png, render

DEF = """
title = "Shelf"
version = 41

[fields.shelf]
required = true

[[layout]]
type = "text"
text = "Shelf {shelf}"
"""


@pytest.fixture
def reg(tmp_path: Path) -> TemplateRegistry:
    return TemplateRegistry.from_state_dir(tmp_path)


def test_put_get_list_and_version_bumps(reg: TemplateRegistry, tmp_path: Path, pt12: Canvas) -> None:
    first = reg.put("shelf", DEF)
    assert (first.name, first.version, first.source) == ("shelf", 1, "user")  # the caller's 41 is ignored
    path = tmp_path / "templates" / "shelf.toml"
    assert path.read_text().startswith("version = 1\n")
    assert reg.put("shelf", DEF).version == 2
    assert reg.get("shelf").version == 2
    assert tomllib.loads(path.read_text())["version"] == 2
    assert [t.name for t in reg.list()][-1] == "shelf"
    assert [p.name for p in path.parent.iterdir()] == ["shelf.toml"]  # no temp files left behind
    assert render(reg.get("shelf"), {"shelf": "4"}, pt12).version == 2


def test_put_accepts_a_dict_and_roundtrips(reg: TemplateRegistry, pt12: Canvas) -> None:
    d = tomllib.loads(DEF)
    d["fields"]["shelf"]["help"] = 'quotes " and ü'
    stored = reg.put("shelf-dict", d)
    assert stored.version == 1
    assert stored.fields["shelf"].help == 'quotes " and ü'
    fresh = TemplateRegistry(reg.user_dir).get("shelf-dict")
    assert fresh.raw == {**d, "version": 1}


def test_builtins_are_protected(reg: TemplateRegistry) -> None:
    for op in (lambda: reg.put("text", DEF), lambda: reg.delete("asset-tag")):
        with pytest.raises(LabelError) as info:
            op()
        assert (info.value.kind, info.value.field) == ("state", "name")


def test_delete_and_not_found(reg: TemplateRegistry) -> None:
    reg.put("shelf", DEF)
    reg.delete("shelf")
    for op in (lambda: reg.get("shelf"), lambda: reg.delete("shelf"), lambda: reg.get("../etc/passwd")):
        with pytest.raises(LabelError) as info:
            op()
        assert info.value.kind == "not_found"


def test_a_template_put_again_after_a_delete_counts_its_version_on(reg: TemplateRegistry) -> None:
    # jobs record (name, version): version 1 must keep meaning the first definition
    assert [reg.put("shelf", DEF).version for _ in range(2)] == [1, 2]
    reg.delete("shelf")
    assert "shelf" not in [t.name for t in reg.list()]
    assert reg.put("shelf", DEF).version == 3


def test_validate_reports_paths_and_checks_fonts(reg: TemplateRegistry) -> None:
    with pytest.raises(LabelError) as info:
        reg.validate_definition("x", DEF.replace('type = "text"', 'type = "text"\nsize = "big"'))
    assert info.value.field == "definition.layout[0].size"
    with pytest.raises(LabelError) as info:
        reg.validate_definition("x", DEF.replace('type = "text"', 'type = "text"\nfont = "NoSuchFont"'))
    assert (info.value.kind, info.value.field) == ("state", "definition.layout[0].font")
    with pytest.raises(LabelError) as info:
        reg.validate_definition("x", 'name = "y"\n' + DEF)
    assert info.value.field == "definition.name"
    with pytest.raises(LabelError) as info:
        reg.validate_definition("Bad Name", DEF)
    assert info.value.field == "name"
    assert reg.validate_definition("ok", DEF).name == "ok"
    assert not (reg.user_dir / "ok.toml").exists()


def test_files_edited_on_disk_are_reloaded_and_broken_ones_reported(reg: TemplateRegistry) -> None:
    reg.put("shelf", DEF)
    path = reg.user_dir / "shelf.toml"
    path.write_text(path.read_text().replace('title = "Shelf"', 'title = "Shelf v2 edited by hand"'))
    assert reg.get("shelf").title == "Shelf v2 edited by hand"
    (reg.user_dir / "broken.toml").write_text("[[layout]\n")
    assert "broken" in reg.broken()
    assert "broken" not in [t.name for t in reg.list()]
    with pytest.raises(LabelError) as info:
        reg.get("broken")
    assert info.value.field == "definition"
    assert reg.put("broken", DEF).version == 1


def test_describe_is_json_friendly(reg: TemplateRegistry) -> None:
    import json

    for t in reg.list():
        json.dumps(t.describe())
    desc = reg.get("asset-tag").describe()
    assert [f["name"] for f in desc["fields"]] == ["name", "asset_id", "url_prefix"]


def test_preview_png(reg: TemplateRegistry, pt12: Canvas) -> None:
    from io import BytesIO

    from PIL import Image

    result = render(reg.get("text"), {"text": "Preview"}, pt12)
    plain = Image.open(BytesIO(preview_png(result)))
    assert plain.size == (result.length_px, 70)
    framed = Image.open(BytesIO(preview_png(result, scale=2, show_margins=True))).convert("L")
    assert framed.size == (result.length_px * 2, 2 * round(12 * 180 / 25.4))
    assert framed.getpixel((0, 0)) not in (0, 255)  # the unprintable edge, in light grey
    assert result.summary()["length_px"] == result.length_px


def test_an_unknown_name_gets_a_did_you_mean_or_the_names_there_are(reg: TemplateRegistry) -> None:
    reg.put("shelf", DEF)
    with pytest.raises(LabelError) as typo:
        reg.get("bin-lable")
    assert typo.value.kind == "not_found"
    assert typo.value.reason == "no template named 'bin-lable'; did you mean 'bin-label'?"
    with pytest.raises(LabelError) as far:
        reg.get("zzz")
    assert far.value.reason == "no template named 'zzz' (templates: asset-tag, bin-label, cable-flag, shelf, text)"
    with pytest.raises(LabelError) as gone:
        reg.delete("shelv")
    assert gone.value.reason == "no user template named 'shelv'; did you mean 'shelf'?"
