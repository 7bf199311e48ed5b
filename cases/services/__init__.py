"""Writes that touch several rows or enforce a clinical rule; each function is one transaction.

Split by area: cases, clients, plans, sessions (with the laser safety rules), follow-ups.
"""
