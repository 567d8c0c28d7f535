"""Contract tests: fixtures built from the two APIs' published descriptions, decoded by our client.

`fixtures/simployer/` holds list bodies of the AlexisHR API v1-preview (Simployer One) with every
field its OpenAPI description publishes, at the published example values (`<resource>.json`),
and, where our mapping validates values, rows with the same fields and valid Norwegian data
(`<resource>_realistic.json`). `fixtures/payroll/` holds the 24SevenOffice Lønn v2 response
examples of the official OpenAPI file, plus a variant with nulls and numbers.
"""
