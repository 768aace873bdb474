"""Finding Brother PT/QL printers: SNMP (a broadcast on each local network, or a unicast sweep of a CIDR),
DNS-SD (python-zeroconf, imported only when a local-network search runs), USB (/dev/usb/lp* and their IEEE
1284 device ids). `run.discover` runs them side by side within a time budget and merges what they find
by serial number; `identify` asks one address what answers there (printer.add's probe).

Nothing here is imported by the server until printer.discover or printer.add is called.
"""
