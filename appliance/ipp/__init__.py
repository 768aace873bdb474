"""IPP Everywhere: every printer of the appliance as an IPP printer at /ipp/print/<name>.

codec (the wire format) → operations (what each request does) → documents and fit (a page
image at the printer's resolution) → the queue, as an ordinary job. Nothing here is imported
by the server until the first IPP request (or DNS-SD start) needs it.
"""
