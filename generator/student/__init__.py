"""A derivative checked from one line (mcref check --of ...), on the command line and in the browser."""
