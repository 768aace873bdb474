"""IPP numbers: status codes, operation ids, job and printer states (RFC 8011, PWG 5100.x)."""

from __future__ import annotations

# status codes (RFC 8011 §4.1.6)
OK = 0x0000
OK_IGNORED = 0x0001  # successful-ok-ignored-or-substituted-attributes
BAD_REQUEST = 0x0400
FORBIDDEN = 0x0401
NOT_AUTHENTICATED = 0x0402
NOT_POSSIBLE = 0x0404
NOT_FOUND = 0x0406
REQUEST_ENTITY_TOO_LARGE = 0x0408
REQUEST_VALUE_TOO_LONG = 0x0409
DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
ATTRIBUTES_NOT_SUPPORTED = 0x040B
CONFLICTING_ATTRIBUTES = 0x040E
COMPRESSION_NOT_SUPPORTED = 0x040F
COMPRESSION_ERROR = 0x0410
DOCUMENT_FORMAT_ERROR = 0x0411
INTERNAL_ERROR = 0x0500
OPERATION_NOT_SUPPORTED = 0x0501
SERVICE_UNAVAILABLE = 0x0502
VERSION_NOT_SUPPORTED = 0x0503
NOT_ACCEPTING_JOBS = 0x0506
MULTIPLE_DOCUMENTS_NOT_SUPPORTED = 0x0509

# operations
PRINT_JOB = 0x0002
VALIDATE_JOB = 0x0004
CREATE_JOB = 0x0005
SEND_DOCUMENT = 0x0006
CANCEL_JOB = 0x0008
GET_JOB_ATTRIBUTES = 0x0009
GET_JOBS = 0x000A
GET_PRINTER_ATTRIBUTES = 0x000B
CANCEL_MY_JOBS = 0x0039
CLOSE_JOB = 0x003B
IDENTIFY_PRINTER = 0x003C

OPERATIONS = {
    PRINT_JOB: "Print-Job", VALIDATE_JOB: "Validate-Job", CREATE_JOB: "Create-Job", SEND_DOCUMENT: "Send-Document",
    CANCEL_JOB: "Cancel-Job", GET_JOB_ATTRIBUTES: "Get-Job-Attributes", GET_JOBS: "Get-Jobs",
    GET_PRINTER_ATTRIBUTES: "Get-Printer-Attributes", CANCEL_MY_JOBS: "Cancel-My-Jobs", CLOSE_JOB: "Close-Job",
    IDENTIFY_PRINTER: "Identify-Printer",
}
READ_ONLY = frozenset({GET_JOB_ATTRIBUTES, GET_JOBS, GET_PRINTER_ATTRIBUTES})

# job-state and printer-state enums
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = range(3, 10)
PRINTER_IDLE, PRINTER_PROCESSING, PRINTER_STOPPED = 3, 4, 5

STATUS_NAMES = {
    OK: "successful-ok", OK_IGNORED: "successful-ok-ignored-or-substituted-attributes",
    BAD_REQUEST: "client-error-bad-request", FORBIDDEN: "client-error-forbidden",
    NOT_AUTHENTICATED: "client-error-not-authenticated", NOT_POSSIBLE: "client-error-not-possible",
    NOT_FOUND: "client-error-not-found", REQUEST_ENTITY_TOO_LARGE: "client-error-request-entity-too-large",
    REQUEST_VALUE_TOO_LONG: "client-error-request-value-too-long",
    DOCUMENT_FORMAT_NOT_SUPPORTED: "client-error-document-format-not-supported",
    ATTRIBUTES_NOT_SUPPORTED: "client-error-attributes-or-values-not-supported",
    CONFLICTING_ATTRIBUTES: "client-error-conflicting-attributes",
    COMPRESSION_NOT_SUPPORTED: "client-error-compression-not-supported",
    COMPRESSION_ERROR: "client-error-compression-error", DOCUMENT_FORMAT_ERROR: "client-error-document-format-error",
    INTERNAL_ERROR: "server-error-internal-error", OPERATION_NOT_SUPPORTED: "server-error-operation-not-supported",
    SERVICE_UNAVAILABLE: "server-error-service-unavailable",
    VERSION_NOT_SUPPORTED: "server-error-version-not-supported",
    NOT_ACCEPTING_JOBS: "server-error-not-accepting-jobs",
    MULTIPLE_DOCUMENTS_NOT_SUPPORTED: "server-error-multiple-document-jobs-not-supported",
}
