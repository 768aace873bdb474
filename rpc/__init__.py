"""The wire contract of Label Appliance: JSON-RPC method catalogue, error codes, dispatcher, client.

This package imports nothing from `appliance` or `tui`, so a laptop can use the client
without the server's weight.
"""

API_VERSION = "1.0"
