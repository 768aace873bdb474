"""Sub-commands of the `appliance` CLI, one module each: `add_parser(sub)` and `run(args)`."""
