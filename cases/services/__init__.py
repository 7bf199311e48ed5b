"""Writes that touch several rows or enforce a clinical rule; each function is one transaction.

Split by area: cases, clients, plans, sessions (with the laser safety rules), follow-ups.
"""

from .cases import case_open, next_reference
from .consents import consent_sign, consent_withdraw

__all__ = ["case_open", "consent_sign", "consent_withdraw", "next_reference"]
