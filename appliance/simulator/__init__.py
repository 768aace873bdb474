"""The virtual printer: TCP raster sink, SNMP agent, control endpoint and fault injection.

`from appliance.simulator import Simulator` — loaded on first use so importing one part
(e.g. the BER codec) does not pull in the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.simulator.runner import Simulator
    from appliance.simulator.state import VirtualPrinter

__all__ = ["Simulator", "VirtualPrinter"]


def __getattr__(name: str) -> Any:
    if name == "Simulator":
        from appliance.simulator.runner import Simulator

        return Simulator
    if name == "VirtualPrinter":
        from appliance.simulator.state import VirtualPrinter

        return VirtualPrinter
    raise AttributeError(name)
