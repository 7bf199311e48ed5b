"""The client portal: the client's own plan, its acceptance and PDF (views.py, forms.py,
urls.py), and appointments, shared photos, consents and aftercare (care_*.py)."""
