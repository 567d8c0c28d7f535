"""The retry dashboard: runs, failures by employee and reason, retry and discard.

`app.create_app` builds the aiohttp application (server-rendered pages and the JSON API under
`/api/v1/`); `payroll-sync dashboard` (cli_dashboard.py) serves it.
"""
