"""Scheduled syncs: when slots fire (`slots`, pure), what they submit (`requests`, pure), the
scheduler's shared state in Redis (`state`), the settings file it follows (`watch`) and the
process loop (`process`).
"""
