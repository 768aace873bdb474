"""[ipp] settings: defaults, environment overrides, and bad values named."""

from __future__ import annotations

import pytest

from appliance.config import ConfigError, load


def test_defaults_and_environment() -> None:
    assert (load(None, env={}).ipp.auth, load(None, env={}).ipp.advertise) == ("token", True)
    settings = load(None, env={"APPLIANCE_IPP_AUTH": "none", "APPLIANCE_IPP_ADVERTISE": "false",
                               "APPLIANCE_IPP_MAX_PAGES": "5"})
    assert (settings.ipp.auth, settings.ipp.advertise, settings.ipp.max_pages) == ("none", False, 5)


@pytest.mark.parametrize(("env", "key"), [
    ({"APPLIANCE_IPP_AUTH": "basic"}, "ipp.auth"),
    ({"APPLIANCE_IPP_MAX_PAGES": "0"}, "ipp.max_pages"),
    ({"APPLIANCE_IPP_MAX_DOCUMENT_BYTES": "10"}, "ipp.max_document_bytes"),
    ({"APPLIANCE_IPP_ENABLED": "maybe"}, "ipp.enabled"),
])
def test_bad_values_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, env=env)
    assert caught.value.key == key
    assert "APPLIANCE_IPP_" in str(caught.value)
