"""Helpers shared by the test suites and the benchmarks, one job a module.

No fixtures live here: those stay in the conftest.py files, built from these helpers.
"""
