"""Mechanisms every part of the project shares and that belong to no system: the domain errors'
base, the identifier alphabet, JSON limits, the wire format of dates, cross-process locks, field
ownership, the admin's read-only bases and its name (title, header).

May import: Django and the libraries. Nothing else of the project.
"""
