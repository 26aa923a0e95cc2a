"""One module per command: wires adapters to the core and returns an exit code."""
