"""`python -m payroll_sync.cli` runs the `payroll-sync` command."""

import sys

from payroll_sync.cli.main import main

sys.exit(main())
