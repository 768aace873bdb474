"""Typed settings: defaults < TOML file < APPLIANCE_* environment < command-line flags.

A bad value stops start-up with one line naming the key, the value and what is expected.
Environment overrides are `APPLIANCE_<SECTION>_<KEY>` (e.g. `APPLIANCE_LOG_FORMAT=json`,
`APPLIANCE_SERVER_LISTEN=[::]:8631`); `APPLIANCE_STATE_DIR` and `APPLIANCE_CONFIG` too.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8631
DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"
SYSTEM_CONFIG = Path("/etc/appliance/appliance.toml")


class ConfigError(Exception):
    """One bad setting: which key, which value, what was expected."""

    def __init__(self, key: str, value: Any, expected: str):
        self.key, self.value, self.expected = key, value, expected
        shown = "(missing)" if value is _ABSENT else repr(value)
        super().__init__(f"config: {key} = {shown}: {expected}")


_ABSENT: Any = object()


@dataclass
class ServerSettings:
    listen: str = DEFAULT_LISTEN
    socket: str = ""
    socket_mode: str = "0660"
    socket_group: str = ""
    state_dir: str = ""
    max_body_bytes: int = 1024 * 1024
    shutdown_timeout_s: float = 20.0
    watchdog: bool = True
    tls: str = "off"  # "off", "self-signed" (made in <state_dir>/tls/ at first start) or "files"
    tls_cert: str = ""  # PEM certificate (chain) for tls = "files"
    tls_key: str = ""  # its PEM private key


@dataclass
class LogSettings:
    format: str = "auto"
    level: str = "info"


@dataclass
class AuthSettings:
    trust_loopback: bool = False
    rate_per_s: float = 50.0
    rate_burst: int = 100
    max_connections_per_address: int = 64
    max_subscribers: int = 64
    ws_max_message_bytes: int = 1024 * 1024
    ws_buffer: int = 256


BATCH_ROWS_LIMIT = 100_000  # print.batch's schema takes no more rows than this (rpc/contract.py)


@dataclass
class MetricsSettings:
    public: bool = False  # GET /metrics over TCP without a token (the unix socket never needs one)


@dataclass
class QueueSettings:
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    max_attempts: int = 8
    connect_timeout_s: float = 5.0
    write_timeout_s: float = 30.0
    print_timeout_s: float = 300.0
    lost_after_idle_s: float = 30.0
    batch_max_rows: int = 5000  # rows one print.batch call may hold


@dataclass
class HistorySettings:
    keep_days: int = 365
    keep_jobs: int = 100_000
    artifact_days: int = 90
    prune_interval_s: float = 3600.0


@dataclass
class LabelSettings:
    font_dirs: list[str] = field(default_factory=list)


@dataclass
class SimulatorSettings:
    model: str = "PT-P750W"
    tape: str = "12mm"
    speed: str = "30"
    snmp: bool = True
    poll_interval_s: float = 5.0
    busy_poll_interval_s: float = 0.1


@dataclass
class SnmpSettings:
    enabled: bool = True
    host: str = ""
    port: int = 161
    community: str = "public"
    version: str = "2c"
    timeout: float = 1.0
    retries: int = 1


@dataclass
class PrinterSettings:
    name: str = ""
    model: str = ""
    uri: str = ""
    media: str = ""
    poll_interval_s: float = 10.0
    busy_poll_interval_s: float = 1.0
    offline_after: int = 3
    snmp: SnmpSettings = field(default_factory=SnmpSettings)


@dataclass
class IppSettings:
    """IPP Everywhere at /ipp/print/<printer> (appliance/ipp/)."""

    enabled: bool = True
    auth: str = "token"  # token: HTTP Basic, the password an appliance token; none: a trusted LAN
    advertise: bool = True  # DNS-SD (_ipp._tcp) for each printer
    max_document_bytes: int = 32 * 1024 * 1024
    max_pages: int = 1000


@dataclass
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    log: LogSettings = field(default_factory=LogSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    history: HistorySettings = field(default_factory=HistorySettings)
    labels: LabelSettings = field(default_factory=LabelSettings)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    ipp: IppSettings = field(default_factory=IppSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    printers: list[PrinterSettings] = field(default_factory=list)
    source: str = "defaults"

    @property
    def state_dir(self) -> Path:
        return Path(self.server.state_dir)

    @property
    def socket_path(self) -> Path:
        return Path(self.server.socket) if self.server.socket else self.state_dir / "rpc.sock"

    @property
    def db_path(self) -> Path:
        return self.state_dir / "appliance.db"


def default_state_dir(env: typing.Mapping[str, str] | None = None) -> Path:
    """`$STATE_DIRECTORY` (systemd) else the user's state dir (XDG)."""
    env = os.environ if env is None else env
    systemd = env.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "label-appliance"


# --- parsing -----------------------------------------------------------------------------------

_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})$")


def parse_listen(text: str, key: str = "server.listen") -> tuple[str, int]:
    """`HOST:PORT` or `[V6]:PORT`; `*:PORT` means every address (IPv4 and IPv6)."""
    match = _LISTEN.match(text.strip()) if isinstance(text, str) else None
    if not match or not 0 <= int(match["port"]) <= 65535:
        raise ConfigError(key, text, "expected HOST:PORT, e.g. 127.0.0.1:8631, [::]:8631 or *:8631")
    host = match["v6"] if match["v6"] is not None else match["host"]
    return (host or "*"), int(match["port"])


_CHOICES: dict[str, tuple[str, ...]] = {
    "log.format": ("auto", "json", "console"),
    "log.level": ("debug", "info", "warning", "error"),
    "server.tls": ("off", "self-signed", "files"),
    "printers.snmp.version": ("1", "2c"),
    "ipp.auth": ("token", "none"),
}


def _type_name(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(tp, str(tp))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(key, value, f"expected a list of {_type_name(inner)}s")
        return [_coerce(item, inner, f"{key}[{i}]") for i, item in enumerate(value)]
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, value, "expected true or false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(key, value, "expected an integer")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(key, value, "expected a number")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key.endswith(".speed"):
            return str(value)
        raise ConfigError(key, value, "expected a string")
    raise ConfigError(key, value, f"unsupported type {tp}")


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(prefix, data, "expected a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    unknown = sorted(set(data) - names)
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(key, data[unknown[0]], f"unknown key (known: {', '.join(sorted(names))})")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}.{name}" if prefix else name
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value, key)
        elif typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            if not isinstance(value, list):
                raise ConfigError(key, value, "expected an array of tables ([[printers]])")
            kwargs[name] = [_build(typing.get_args(tp)[0], item, f"{key}[{i}]") for i, item in enumerate(value)]
        else:
            kwargs[name] = _coerce(value, tp, key)
    return cls(**kwargs)


def _env_value(raw: str, tp: Any, key: str) -> Any:
    if tp is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, raw, "expected true or false")
    if tp is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(key, raw, "expected an integer") from None
    if tp is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(key, raw, "expected a number") from None
    if typing.get_origin(tp) is list:
        return [part for part in raw.split(os.pathsep) if part]
    return raw


# where the USB resolver looks for sysfs and /dev (tests and the virtual printer; printer/usb_devices.py)
USB_TEST_HOOKS = ("APPLIANCE_USB_SYSFS", "APPLIANCE_USB_DEV")


def _apply_env(data: dict[str, Any], env: typing.Mapping[str, str], sources: dict[str, str]) -> None:
    """Put APPLIANCE_* values into `data`; `sources` learns which variable set which key."""
    for name, raw in env.items():
        if not name.startswith("APPLIANCE_") or name in ("APPLIANCE_CONFIG", "APPLIANCE_SOCKET", "APPLIANCE_TOKEN",
                                                           "APPLIANCE_URL", *USB_TEST_HOOKS):
            continue
        rest = name[len("APPLIANCE_"):].lower()
        if rest == "state_dir":
            data.setdefault("server", {})["state_dir"] = raw
            sources["server.state_dir"] = name
            continue
        for section_field in dataclasses.fields(Settings):
            section = section_field.name
            if section in ("printers", "source") or not rest.startswith(section + "_"):
                continue
            key = rest[len(section) + 1:]
            hints = typing.get_type_hints(typing.get_type_hints(Settings)[section])
            if key not in hints:
                raise ConfigError(f"{section}.{key}", raw, f"unknown setting (from environment variable {name})")
            sources[f"{section}.{key}"] = name
            data.setdefault(section, {})[key] = _env_value(raw, hints[key], f"{section}.{key}")
            break
        else:
            raise ConfigError(rest, raw, f"environment variable {name} names no setting")


def _validate(settings: Settings) -> None:
    parse_listen(settings.server.listen)
    if not re.fullmatch(r"0?[0-7]{3}", settings.server.socket_mode):
        raise ConfigError("server.socket_mode", settings.server.socket_mode, "expected an octal mode like 0660")
    for key, choices in _CHOICES.items():
        section, name = key.split(".", 1)
        if section == "printers":
            continue
        value = getattr(getattr(settings, section), name)
        if value not in choices:
            raise ConfigError(key, value, f"expected one of {', '.join(choices)}")
    if settings.server.tls == "files":
        for key in ("tls_cert", "tls_key"):
            if not getattr(settings.server, key):
                raise ConfigError(f"server.{key}", _ABSENT, 'a PEM file is needed with tls = "files"')
    if settings.server.max_body_bytes < 1024:
        raise ConfigError("server.max_body_bytes", settings.server.max_body_bytes, "expected at least 1024")
    if settings.ipp.max_document_bytes < 1024:
        raise ConfigError("ipp.max_document_bytes", settings.ipp.max_document_bytes, "expected at least 1024")
    if settings.ipp.max_pages < 1:
        raise ConfigError("ipp.max_pages", settings.ipp.max_pages, "expected at least 1")
    speed = settings.simulator.speed
    if speed != "instant":
        try:
            if float(speed) <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError("simulator.speed", speed, 'expected mm per second (> 0) or "instant"') from None
    _check_model_and_media("simulator", settings.simulator.model, settings.simulator.tape, tape_key="tape")
    _check_queue_and_history(settings)
    names: set[str] = set()
    targets: dict[tuple[str, str], str] = {}
    for index, printer in enumerate(settings.printers):
        key = f"printers[{index}]"
        for required in ("name", "model", "uri"):
            if not getattr(printer, required):
                raise ConfigError(f"{key}.{required}", _ABSENT, "required for every [[printers]] table")
        if printer.name in names:
            raise ConfigError(f"{key}.name", printer.name, "printer names must be unique")
        names.add(printer.name)
        twin = targets.get((printer.model, printer.uri))
        if twin is not None:  # same id (UUIDv5 of model and uri): one would silently replace the other
            raise ConfigError(f"{key}.uri", printer.uri, f"printer {twin!r} is already this {printer.model} at this "
                              "address; give each printer one [[printers]] table")
        targets[(printer.model, printer.uri)] = printer.name
        if not re.match(r"^(tcp|usb|file)://", printer.uri):
            raise ConfigError(f"{key}.uri", printer.uri, "expected tcp://HOST[:PORT], usb:///dev/usb/lp0, "
                              "usb://Brother/MODEL?serial=SERIAL or file:///PATH")
        _check_usb_uri(key, printer.uri)
        _check_model_and_media(key, printer.model, printer.media, tape_key="media")
        if printer.snmp.version not in _CHOICES["printers.snmp.version"]:
            raise ConfigError(f"{key}.snmp.version", printer.snmp.version, "expected 1 or 2c")
        if printer.snmp.timeout <= 0 or printer.snmp.retries < 0:
            raise ConfigError(f"{key}.snmp.timeout", printer.snmp.timeout, "expected timeout > 0 and retries >= 0")
        if printer.poll_interval_s <= 0 or printer.busy_poll_interval_s <= 0:
            raise ConfigError(f"{key}.poll_interval_s", printer.poll_interval_s,
                              "expected a positive number of seconds")


def _check_queue_and_history(settings: Settings) -> None:
    """Values that would make the worker spin (no backoff), never send, or forget jobs at once (and with
    them the idempotency keys that keep a retried script from printing twice)."""
    queue, history = settings.queue, settings.history
    for name in ("retry_base_s", "retry_max_s", "connect_timeout_s", "write_timeout_s", "print_timeout_s",
                 "lost_after_idle_s"):
        if getattr(queue, name) <= 0:
            raise ConfigError(f"queue.{name}", getattr(queue, name), "expected a positive number of seconds")
    if queue.retry_max_s < queue.retry_base_s:
        raise ConfigError("queue.retry_max_s", queue.retry_max_s,
                          f"expected at least queue.retry_base_s ({queue.retry_base_s:g})")
    if queue.max_attempts < 1:
        raise ConfigError("queue.max_attempts", queue.max_attempts, "expected at least 1")
    if not 1 <= queue.batch_max_rows <= BATCH_ROWS_LIMIT:
        raise ConfigError("queue.batch_max_rows", queue.batch_max_rows, f"expected 1 to {BATCH_ROWS_LIMIT}")
    for name in ("keep_days", "keep_jobs"):
        if getattr(history, name) < 1:
            raise ConfigError(f"history.{name}", getattr(history, name),
                              "expected at least 1 (finished jobs hold the idempotency keys and the reprints)")
    if history.artifact_days < 0:
        raise ConfigError("history.artifact_days", history.artifact_days, "expected 0 or more days")
    if history.prune_interval_s <= 0:
        raise ConfigError("history.prune_interval_s", history.prune_interval_s, "expected a positive number of seconds")


def _check_usb_uri(key: str, uri: str) -> None:
    """usb:///dev/usb/lp0, or usb://Brother/MODEL?serial=SERIAL (found by its IEEE 1284 id on every open)."""
    if not uri.startswith("usb:"):
        return
    from .printer.usb_devices import UsbUriError, parse_usb_uri

    try:
        parse_usb_uri(uri)
    except UsbUriError as exc:
        raise ConfigError(f"{key}.uri", uri, str(exc).split(": ", 1)[-1]) from None


def _check_model_and_media(key: str, model_name: str, media_id: str, *, tape_key: str) -> None:
    from .printer.media import MediaError, media_for
    from .printer.models import UnknownModelError, get_model

    try:
        model = get_model(model_name)
    except UnknownModelError as exc:
        raise ConfigError(f"{key}.model", model_name, str(exc).split("; ", 1)[-1]) from None
    if media_id:
        try:
            media_for(model, media_id)
        except MediaError as exc:
            raise ConfigError(f"{key}.{tape_key}", media_id, str(exc)) from None


def config_path(explicit: str | Path | None, env: typing.Mapping[str, str]) -> Path | None:
    """--config, else $APPLIANCE_CONFIG, else /etc/appliance/appliance.toml when present."""
    if explicit:
        return Path(explicit)
    if env.get("APPLIANCE_CONFIG"):
        return Path(env["APPLIANCE_CONFIG"])
    if SYSTEM_CONFIG.is_file():
        return SYSTEM_CONFIG
    return None


def load(
    path: str | Path | None = None,
    *,
    env: typing.Mapping[str, str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> Settings:
    """Read settings; raises ConfigError naming the key on anything wrong."""
    env = os.environ if env is None else env
    file = config_path(path, env)
    data: dict[str, Any] = {}
    if file is not None:
        try:
            with open(file, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError("--config", str(file), "file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("--config", str(file), f"not valid TOML ({exc})") from None
        except OSError as exc:
            raise ConfigError("--config", str(file), f"cannot be read ({exc.strerror})") from None
    sources: dict[str, str] = {}  # "section.key" -> the environment variable that set it
    try:
        _apply_env(data, env, sources)
        for section, values in (overrides or {}).items():
            given = {k: v for k, v in values.items() if v is not None}
            data.setdefault(section, {}).update(given)
            for key in given:  # a command-line flag wins over the environment
                sources.pop(f"{section}.{key}", None)
        settings = _build(Settings, data, "")
        if not isinstance(settings, Settings):  # pragma: no cover - _build returns cls
            raise TypeError
        settings.source = str(file) if file else "defaults"
        if not settings.server.state_dir:
            settings.server.state_dir = str(default_state_dir(env))
        settings.server.state_dir = str(Path(settings.server.state_dir).expanduser().absolute())
        _validate(settings)
    except ConfigError as exc:
        name = sources.get(exc.key)
        if name is None or name in exc.expected:
            raise
        raise ConfigError(exc.key, exc.value, f"{exc.expected} (set by environment variable {name})") from None
    return settings


__all__ = ["DEFAULT_LISTEN", "DEFAULT_PORT", "ConfigError", "Settings", "load", "parse_listen"]
