"""The exit codes of every `payroll-sync` command."""

from typing import Final

#: Done; for a sync, every record ended without `failed`.
EXIT_OK: Final = 0
#: A sync ran but at least one record failed (the table says which and why).
EXIT_FAILED: Final = 1
#: The request, the settings or a service were wrong or unreachable: nothing ran.
EXIT_USAGE: Final = 2
