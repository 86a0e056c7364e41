"""Pure protocol code, no I/O: importable by clients as well as by the node."""
