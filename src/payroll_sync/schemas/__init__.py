"""payroll-sync."""
