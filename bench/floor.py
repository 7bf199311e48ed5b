"""The framework's floor: what any signed-in page costs before it does its own work.

The shape of the TechEmpower "fortunes" test: one indexed query for 12 rows, rendered
through a template, behind the same middleware as every page (session, sign-in, second
factor, CSRF, security headers, CSP, idle logout). A page measured as "3× floor" does
three times what the framework must do anyway; nothing can be faster than 1×.
"""

from django.shortcuts import render

from cases.models import Client
from smpclinic.roles import staff_required


@staff_required
def floor(request):
    """Twelve clients by primary key: an index range scan whatever the clinic's size."""
    rows = Client.objects.order_by("pk").values("pk", "first_name", "last_name")[:12]
    return render(request, "bench/floor.html", {"rows": rows})
