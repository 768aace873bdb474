"""Where the TUI connects: explicit arguments, then $APPLIANCE_URL/$APPLIANCE_TOKEN, then the client
config file (~/.config/label-appliance/client.toml: `url = "..."`, `token = "..."`), then the local socket."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Target:
    url: str | None
    socket_path: str | None
    token: str | None

    @property
    def where(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path else str(self.url)


def config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "label-appliance" / "client.toml"


def read_client_config(path: Path) -> dict[str, str]:
    try:
        import tomllib

        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in data.items() if k in ("url", "token", "socket") and v}


DEFAULT_SOCKETS = ("~/.local/state/label-appliance/rpc.sock", "/run/appliance/rpc.sock",
                   "/var/lib/appliance/rpc.sock")


def resolve(url: str | None = None, socket_path: str | None = None, token: str | None = None,
            env: Mapping[str, str] | None = None, config_file: Path | None = None) -> Target:
    """An explicit url wins; then an explicit socket that exists; then env; then the config file;
    then the given socket (even if it is not there yet: the TUI waits for the server)."""
    env = os.environ if env is None else env
    token = token or env.get("APPLIANCE_TOKEN") or None
    if url:
        return Target(url, None, token or _config_token(env, config_file, url))
    if socket_path and Path(socket_path).exists():
        return Target(None, socket_path, None)
    if env.get("APPLIANCE_URL"):
        return Target(env["APPLIANCE_URL"], None, token or _config_token(env, config_file, env["APPLIANCE_URL"]))
    config = read_client_config(config_file or config_path(env))
    if config.get("url"):
        return Target(config["url"], None, token or config.get("token"))
    if config.get("socket"):
        return Target(None, str(Path(config["socket"]).expanduser()), None)
    if socket_path:
        return Target(None, socket_path, None)
    for candidate in DEFAULT_SOCKETS:
        path = Path(candidate).expanduser()
        if path.exists():
            return Target(None, str(path), None)
    return Target(None, str(Path(DEFAULT_SOCKETS[0]).expanduser()), None)


def _config_token(env: Mapping[str, str], config_file: Path | None, url: str) -> str | None:
    config = read_client_config(config_file or config_path(env))
    if config.get("token") and config.get("url", url).rstrip("/") == url.rstrip("/"):
        return config["token"]
    return None
