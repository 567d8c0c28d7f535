"""The `payroll-sync` command: one module per command, `main.py` wires them together."""
