"""HTTP intake: upstream systems (Simployer One, an HR event stream) ask for a sync."""

from payroll_sync.intake.app import make_app

__all__ = ["make_app"]
