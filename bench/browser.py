"""What a person's browser and phone do, for the load scenario: read a form as it would be
submitted, and show an authenticator app's code. No Django, no locust: bench/load.py
(in a Django process) and bench/locustfile.py (in locust's) both use it."""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from html.parser import HTMLParser


def totp(hex_key: str, at: float | None = None) -> str:
    """The 6-digit code an authenticator app shows now (RFC 6238: SHA-1, 30-second steps)."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(bytes.fromhex(hex_key), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


class _Form(HTMLParser):
    """The fields of the form holding a submission token (else the last form), as posted."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({})
        if not self.forms:
            return
        fields, name = self.forms[-1], a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                fields[name] = [a.get("value") or ""]
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in a), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = [""]

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1][self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select and self.forms:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self.forms[-1][name] = chosen
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str) -> dict:
    """The form a person would submit on this page: one value per field, lists for multiples."""
    parser = _Form()
    parser.feed(html)
    form = next((f for f in parser.forms if "submission_token" in f), parser.forms[-1] if parser.forms else {})
    return {name: values if len(values) != 1 else values[0] for name, values in form.items()}
