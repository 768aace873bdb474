"""Label Appliance: a headless print appliance for Brother PT and QL label printers."""

__version__ = "0.1.0"
