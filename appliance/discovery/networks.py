"""Which addresses a discovery asks: a CIDR given by the caller (at most /22), or the local IPv4 networks."""

from __future__ import annotations

import ipaddress

LARGEST_PREFIX = 22  # 1022 hosts: a sweep of more would be slow and look like a port scan


class NetworkError(ValueError):
    """A `network` the sweep refuses, said for a person."""


def parse_network(text: str) -> ipaddress.IPv4Network:
    """`192.168.1.0/24` (or a single address) → the network; raises NetworkError naming what is wrong."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise NetworkError(f"{text!r} is not a network like 192.168.1.0/24") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise NetworkError("only IPv4 networks can be swept (like 192.168.1.0/24)")
    if network.prefixlen < LARGEST_PREFIX:
        raise NetworkError(f"/{network.prefixlen} is too large to sweep ({network.num_addresses} addresses): "
                           f"give /{LARGEST_PREFIX} or smaller, like {network.network_address}/24")
    return network


def hosts(network: ipaddress.IPv4Network) -> list[str]:
    """The addresses to ask: every host of the network (a /31 or /32 is its own addresses)."""
    if network.prefixlen >= 31:
        return [str(a) for a in network]
    return [str(a) for a in network.hosts()]


def local_networks() -> list[ipaddress.IPv4Network]:
    """The IPv4 networks of this machine's interfaces, loopback and link-local left out (ifaddr comes with
    python-zeroconf; without it, none)."""
    try:
        import ifaddr
    except ImportError:
        return []
    found: list[ipaddress.IPv4Network] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6
            network = ipaddress.ip_network(f"{ip.ip}/{ip.network_prefix}", strict=False)
            if network.is_loopback or network.is_link_local or network.prefixlen >= 31:
                continue
            if network not in found:
                found.append(network)
    return found
