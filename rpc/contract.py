"""The method catalogue: names, parameter schemas, result shapes and required scope.

This is the one place a method is declared. The dispatcher validates params
against it, `rpc.discover` publishes it as OpenRPC, and the access-control layer
reads `admin` from it. Params are taken by name (a positional array is mapped
onto the declared order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

JOB_STATES = ("pending", "held", "processing", "stopped", "canceled", "aborted", "completed")
TOPICS = ("printers", "jobs", "queue")

PRINTER_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 64,
                      "description": "printer id (UUID), or its configured name"}
JOB_ID: Schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "description": "job id"}  # SQLite INTEGER
BATCH_ID: Schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "description": "batch id (print.batch)"}
TEMPLATE_NAME: Schema = {
    "type": "string",
    "pattern": r"^[a-z0-9][a-z0-9_-]{0,63}$",
    "description": "template name: lower-case letters, digits, - and _",
}
FIELDS: Schema = {
    "type": "object",
    "maxProperties": 64,
    "additionalProperties": {"type": ["string", "integer", "number", "boolean", "null"], "maxLength": 4096},
    "description": "field values for the template",
}
TAPE: Schema = {"type": "string", "minLength": 1, "maxLength": 32, "description": "tape or label id, e.g. 12mm"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time", "description": "RFC 3339 UTC time"}

PRINTER_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 64, "description": "a name for people"}
PRINTER_URI: Schema = {"type": "string", "minLength": 1, "maxLength": 512,
                       "description": "tcp://host[:9100], usb:///dev/usb/lp0 or usb://Brother/MODEL?serial=SERIAL"}
SNMP: Schema = {"type": "object", "additionalProperties": False, "description": "how to read its status (as "
                "[printers.snmp] in the configuration file)", "properties": {
                    "enabled": {"type": "boolean"}, "host": {"type": "string", "maxLength": 255},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "community": {"type": "string", "minLength": 1, "maxLength": 64},
                    "version": {"type": "string", "enum": ["1", "2c"]},
                    "timeout": {"type": "number", "minimum": 0.05, "maximum": 30},
                    "retries": {"type": "integer", "minimum": 0, "maximum": 5}}}
OBJECT: Schema = {"type": "object"}
HIGH_RES: Schema = {"type": "boolean", "description": "twice the resolution along the tape, where the model has it"}
JOB: Schema = {"type": "object", "description": (
    "a job: id, state, reasons, descriptions (a sentence for a person per reason, in their order, worded as "
    "printer.status words the printer's, in the words of its media: a PT's tape cassette, a QL's DK roll; neutral "
    "when its printer is no longer configured), printer_id, printer_name, template, copies, media (its id, e.g. 12mm) "
    "and media_description (that media for a person, as its printer takes it: 12mm tape, 62mm roll, 29×90 mm "
    "labels; 12mm media when its printer is no longer configured), times; position (its place "
    "in its printer's queue, 1 = next; null once done) and waiting (what a pending job waits for: reason, description, "
    "ahead, behind_job_id; null when it is not pending or goes out next; also on a processing or stopped job whose "
    "printer's queue stopped, reason storage-damaged: nothing follows it until a restore); source (rpc or ipp: "
    "where it came from), user_name and document_name (what an IPP client said: job-originating-user-name, "
    "document-name or job-name; null otherwise) and, for the pages of an IPP document after its first, "
    "document_job_id (the first page's job: the IPP job-id) and page; a row of a print.batch also has batch_id and "
    "row (1 = the first row)")}


@dataclass(frozen=True)
class Method:
    name: str
    summary: str
    params: dict[str, Schema] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    result: Schema = field(default_factory=lambda: dict(OBJECT))
    admin: bool = False
    ws_only: bool = False

    @property
    def params_schema(self) -> Schema:
        return {
            "type": "object",
            "properties": self.params,
            "required": list(self.required),
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class Notification:
    name: str
    topic: str
    summary: str


def _m(name: str, summary: str, **kw: Any) -> Method:
    return Method(name, summary, **kw)


METHODS: tuple[Method, ...] = (
    # server
    _m("server.info", "Name, version, uptime, API version, printer count, safe mode; `tls`: the TCP listener's "
       "certificate (`fingerprint` SHA256:…, `expires_at`) or null when it is plain HTTP."),
    _m(
        "server.subscribe",
        "Subscribe this WebSocket to topics: answers with a snapshot, then pushes notifications.",
        params={"topics": {"type": "array", "items": {"type": "string", "enum": list(TOPICS)}, "minItems": 1}},
        required=("topics",),
        ws_only=True,
    ),
    _m("rpc.discover", "This API as an OpenRPC document."),
    _m("readiness.check", "The readiness document (the same as GET /readiness)."),
    # printers
    _m("printer.list", "Configured printers: id, name, model, uri, source (configuration: the file; added: "
       "printer.add; virtual), media (the loaded media's id), media_noun, "
       "media_description (as printer.status has them), capabilities.", result={"type": "array"}),
    _m(
        "printer.status",
        "Cached status of a printer; never waits for the printer (see age_s). media: the loaded media (id, width_mm, "
        "kind, length_mm, source, tape_color, text_color), null when none; media_noun: what this printer's media is "
        "called (tape on a PT, roll on a QL, media when its family is unknown); media_description: the loaded media "
        "in one line for a person (12 mm laminated, black on white; 29 × 90 mm die-cut labels, black on white; "
        "no tape). queue_stopped: why its queue sends nothing until a restart ({reason: storage-damaged, "
        "description}), null otherwise.",
        params={"printer_id": PRINTER_ID},
    ),
    _m("printer.probe", "Probe a printer now (bounded by its timeout).", params={"printer_id": PRINTER_ID}),
    _m("printer.pause", "Hold a printer's queue.", params={"printer_id": PRINTER_ID}, admin=True),
    _m("printer.resume", "Release a printer's queue (also leaves safe mode).", params={"printer_id": PRINTER_ID},
       admin=True),
    # printers found and added at run time (appliance/discovery, appliance/queue/roster.py)
    _m(
        "printer.discover",
        "Find Brother PT/QL printers: with network (a CIDR, at most /22) a unicast SNMP sweep of it, without "
        "a broadcast SNMP GET on each local network and DNS-SD; always the USB ports. Merged by serial; ends "
        "within timeout_s. Over a WebSocket each printer found also arrives at once as notify_discovery. "
        "Answer: printers (model, serial, uri ready for printer.add, other_uris, address, snmp_port, media, "
        "media_description, found_by, configured_as: the name it is set up under, or null; suggested_name), "
        "ignored (SNMP agents that are no Brother PT/QL: address, snmp_port, why), searched (what was asked), "
        "elapsed_s.",
        params={"network": {"type": "string", "minLength": 1, "maxLength": 64,
                            "description": "a CIDR like 192.168.1.0/24 (at most /22), or one address"},
                "snmp_port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "default 161"},
                "community": {"type": "string", "minLength": 1, "maxLength": 64, "description": "default public"},
                "timeout_s": {"type": "number", "minimum": 0.2, "maximum": 30, "description": "default 3"}},
        admin=True,
    ),
    _m(
        "printer.add",
        "Set up a printer without editing a file: probes it first (model from its status when not given), "
        "stores it in the database and starts it at once. -32003: name used, model contradicted by the "
        "printer, uri already set up; -32004: nothing usable answers (nothing is stored).",
        params={"name": PRINTER_NAME, "uri": PRINTER_URI,
                "model": {"type": "string", "minLength": 1, "maxLength": 32, "description": "e.g. PT-P750W"},
                "media": TAPE, "snmp": SNMP},
        required=("name", "uri"),
        admin=True,
    ),
    _m(
        "printer.update",
        "Change a printer added with printer.add: a new address for the same model keeps its waiting jobs; "
        "another model answering ends them aborted/printer-removed (jobs_moved, jobs_aborted say which). "
        "media \"\" forgets the media given. Printers from the configuration file: -32003, naming the file.",
        params={"printer_id": PRINTER_ID, "name": PRINTER_NAME, "uri": PRINTER_URI,
                "media": {"type": "string", "maxLength": 32, "description": "tape or label id; \"\" for none"},
                "snmp": SNMP},
        required=("printer_id",),
        admin=True,
    ),
    _m(
        "printer.remove",
        "Remove a printer added with printer.add: its waiting jobs end aborted/printer-removed (jobs_aborted), "
        "its history stays. Printers from the configuration file: -32003, naming the file.",
        params={"printer_id": PRINTER_ID},
        required=("printer_id",),
        admin=True,
    ),
    # templates
    _m("template.list", "Templates: built-in and user.", result={"type": "array"}),
    _m("template.get", "One template with its definition.", params={"name": TEMPLATE_NAME}, required=("name",)),
    _m(
        "template.put",
        "Create or replace a user template (TOML text or an object); bumps its version.",
        params={"name": TEMPLATE_NAME, "definition": {"type": ["string", "object"], "maxLength": 262144}},
        required=("name", "definition"),
        admin=True,
    ),
    _m("template.delete", "Delete a user template.", params={"name": TEMPLATE_NAME}, required=("name",), admin=True),
    # labels
    _m(
        "label.preview",
        "Render a label without printing: PNG (base64), size in dots and mm, tape, warnings.",
        params={"template": TEMPLATE_NAME, "fields": FIELDS, "printer_id": PRINTER_ID, "tape": TAPE,
                "high_res": HIGH_RES},
        required=("template",),
    ),
    # printing and jobs
    _m(
        "print.submit",
        "Render, store and queue a label job; the same idempotency_key returns the same job.",
        params={
            "template": TEMPLATE_NAME,
            "fields": FIELDS,
            "copies": {"type": "integer", "minimum": 1, "maximum": 100},
            "printer_id": PRINTER_ID,
            "hold": {"type": "boolean"},
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128},
            "cut": {"type": "string", "enum": ["full", "half", "chain", "none"],
                    "description": "full: cut after each label (default); half: half-cut between labels, full "
                                   "cut at the end; chain: leave the last label uncut (saves tape before the next "
                                   "job); none: never cut"},
            "cut_every": {"type": "integer", "minimum": 1, "maximum": 99,
                          "description": "with cut full: cut after every N labels"},
            "high_res": HIGH_RES,
        },
        required=("template",),
        result=JOB,
        admin=True,
    ),
    _m(
        "print.batch",
        "Many labels of one template, a job per row (row 1 = the first): every row is validated and rendered "
        "before anything is stored; any bad row is -32602 with error.data.rows [{row, field, reason}] naming "
        "every bad row, and nothing is queued. Good batches are stored in one transaction and print in row "
        "order. Answers {batch_id, rows, printer_id, printer_name, jobs: [{id, row, state}], warnings: [{row, "
        "…}]}; dry_run validates and renders, stores nothing (batch_id null). The same idempotency_key returns "
        "the same batch (duplicate: true); with another request it is -32003. At most queue.batch_max_rows rows.",
        params={
            "template": TEMPLATE_NAME,
            "rows": {"type": "array", "items": {"type": "object", "maxProperties": 64}, "minItems": 1,
                     "maxItems": 100_000, "description": "one fields object per label, in print order (values as "
                     "in print.submit's fields; a wrong one is named by its row in error.data.rows)"},
            "copies": {"type": "integer", "minimum": 1, "maximum": 100, "description": "copies of every row"},
            "printer_id": PRINTER_ID,
            "hold": {"type": "boolean"},
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128},
            "cut": {"type": "string", "enum": ["full", "half", "chain", "none"]},
            "cut_every": {"type": "integer", "minimum": 1, "maximum": 99},
            "high_res": HIGH_RES,
            "dry_run": {"type": "boolean", "description": "validate and render every row; store nothing"},
        },
        required=("template", "rows"),
        admin=True,
    ),
    _m("batch.get", "A batch's progress: counts of its jobs by state, labels and labels_printed, done (no job "
       "left to print), first_problem (the first row by row number that is stopped, aborted or canceled: row, "
       "job_id, state, reasons, descriptions; null when none).",
       params={"batch_id": BATCH_ID}, required=("batch_id",)),
    _m("batch.cancel", "Cancel every job of a batch nothing was sent of (a label at the printer finishes); "
       "answers as batch.get, with canceled: how many jobs this call canceled.",
       params={"batch_id": BATCH_ID}, required=("batch_id",), admin=True),
    _m(
        "job.list",
        "Jobs, newest first, with cursor paging; batch_id: only that batch's jobs.",
        params={
            "state": {"type": "string", "enum": list(JOB_STATES)},
            "printer_id": PRINTER_ID,
            "since": TIMESTAMP,
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
            "cursor": {"type": "string", "maxLength": 64},
            "batch_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
        },
    ),
    _m("job.get", "One job.", params={"job_id": JOB_ID}, required=("job_id",), result=JOB),
    _m("job.timeline", "A job's timeline: every step with its time.", params={"job_id": JOB_ID}, required=("job_id",),
       result={"type": "array"}),
    _m("job.cancel", "Cancel a pending, held or stopped job.", params={"job_id": JOB_ID}, required=("job_id",),
       result=JOB, admin=True),
    _m("job.hold", "Hold a pending job.", params={"job_id": JOB_ID}, required=("job_id",), result=JOB, admin=True),
    _m("job.release", "Release a held job.", params={"job_id": JOB_ID}, required=("job_id",), result=JOB, admin=True),
    _m(
        "job.reprint",
        "Replay a job as a new job: the stored raster byte for byte, or rendered again; the same "
        "idempotency_key returns the same new job.",
        params={
            "job_id": JOB_ID,
            "rerender": {"type": "boolean"},
            "copies": {"type": "integer", "minimum": 1, "maximum": 100},
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128},
            "printer_id": PRINTER_ID,
        },
        required=("job_id",),
        result=JOB,
        admin=True,
    ),
    _m("job.move", "Give a job nothing was sent of (pending, held, or stopped before sending) to another printer; "
       "drawn again when its model or loaded tape differs.", params={"job_id": JOB_ID, "printer_id": PRINTER_ID},
       required=("job_id", "printer_id"), result=JOB, admin=True),
    _m("queue.status", "Per printer: paused, queue_stopped, counts by state, the job in progress; batches: each "
       "batch still printing (batch_id, printer_id, rows, labels, labels_printed, counts)."),
    _m("stats.summary", "Jobs per day by outcome, labels and length printed per day and per media, mean "
       "submit-to-printed time. The keys say tape for every media (per_day[].tape_mm, per_tape[].tape_mm: mm of "
       "tape, roll or die-cut labels); a per_tape row is one media on one series (series: pt, ql, or null when its "
       "printer's model is unknown) with its description for a person (12mm tape, 62mm roll, 29×90 mm labels); "
       "media_noun: what the configured printers take (tape, roll, or media for both).",
       params={"days": {"type": "integer", "minimum": 1, "maximum": 366}}),
)

NOTIFICATIONS: tuple[Notification, ...] = (
    Notification("notify_printer_status", "printers", "A printer's status changed."),
    Notification("notify_job_updated", "jobs", "A job changed state or gained a timeline step."),
    Notification("notify_queue_changed", "queue", "Queue counts changed (as queue.status; batches: the progress of "
                 "each batch still printing)."),
    Notification("notify_discovery", "printers", "A printer printer.discover found (or learned more of): sent "
                 "to the WebSocket that called it, while it runs."),
    Notification("notify_resync", "*", "This connection fell behind; call server.subscribe again for a snapshot."),
)

CATALOGUE: dict[str, Method] = {m.name: m for m in METHODS}


def get(name: str) -> Method | None:
    return CATALOGUE.get(name)


def admin_methods() -> list[str]:
    return [m.name for m in METHODS if m.admin]
