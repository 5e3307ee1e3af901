"""The gate: production failure-mode coverage, statistics, and the merge decision.

Pure functions over results; no pytest, no click, no I/O except reading and
writing the coverage snapshot.
"""
