"""A printer found by discovery, and merging what several ways of looking found of the same printer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..printer.media import media_words
from ..printer.models import MODELS, Model

BROTHER_MODEL = re.compile(r"\b((?:PT|QL)-[A-Z0-9]+)\b", re.IGNORECASE)


def brother_model(*texts: str | None) -> Model | None:
    """The Brother PT/QL model named in any of `texts` (a status block's model, a 1284 MDL, a sysDescr,
    a DNS-SD TXT record), or None when none names one this appliance drives."""
    for text in texts:
        for match in BROTHER_MODEL.finditer(text or ""):
            model = MODELS.get(match.group(1).upper())
            if model is not None:
                return model
    return None


def usb_uri(model: str, serial: str) -> str:
    """A USB printer named by model and serial, so it is found again whichever /dev/usb/lpN it gets after
    re-plugging (the USB transport resolves it)."""
    return f"usb://Brother/{model}?serial={serial}"


@dataclass
class Candidate:
    model: str
    uri: str
    found_by: set[str]
    serial: str | None = None
    address: str | None = None
    snmp_port: int | None = None
    media: str | None = None  # the loaded media's id (12mm, 62mm, 29x90), None when unknown or none
    media_description: str | None = None  # the loaded media for a person: "12mm tape", "no roll"
    family: str | None = None
    other_uris: list[str] = field(default_factory=list)
    configured_as: str | None = None
    suggested_name: str | None = None

    @property
    def key(self) -> str:
        return f"serial:{self.serial}" if self.serial else f"uri:{self.uri}"

    def absorb(self, other: Candidate) -> None:
        """What `other` (the same printer, found another way) knows and this one does not."""
        self.found_by |= other.found_by
        for name in ("serial", "address", "snmp_port", "media", "media_description", "family"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        for uri in (other.uri, *other.other_uris):
            if uri != self.uri and uri not in self.other_uris:
                self.other_uris.append(uri)

    def to_wire(self) -> dict[str, Any]:
        return {
            "model": self.model, "serial": self.serial, "uri": self.uri, "other_uris": list(self.other_uris),
            "address": self.address, "snmp_port": self.snmp_port, "media": self.media,
            "media_description": self.media_description, "found_by": sorted(self.found_by),
            "configured_as": self.configured_as, "suggested_name": self.suggested_name,
        }


def loaded_media(media_id: str | None, family: str | None) -> str:
    from ..printer.status import MEDIA_NOUN, worded

    return media_words(media_id, family) if media_id else f"no {worded(MEDIA_NOUN, family)}"


@dataclass(frozen=True)
class Known:
    """A printer the appliance already drives, as discovery matches it: by serial, or by where it is."""

    name: str
    uri: str
    serial: str | None = None


def merge(found: Iterable[Candidate]) -> dict[str, Candidate]:
    """Candidates by key (serial when known): the same printer found over SNMP, DNS-SD and USB is one."""
    merged: dict[str, Candidate] = {}
    for candidate in found:
        same = merged.get(candidate.key)
        if same is None:
            merged[candidate.key] = candidate
        else:
            same.absorb(candidate)
    return merged


def settle_names(candidates: Iterable[Candidate], known: Iterable[Known], taken: Mapping[str, Any]) -> None:
    """Mark each candidate that is already configured, and suggest a free name for each other one."""
    known = list(known)
    used = set(taken)
    for candidate in candidates:
        uris = {candidate.uri, *candidate.other_uris}
        for printer in known:
            if (candidate.serial and printer.serial == candidate.serial) or printer.uri in uris:
                candidate.configured_as = printer.name
                break
        if candidate.configured_as is not None:
            continue
        base = candidate.model.lower()
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        candidate.suggested_name = name
