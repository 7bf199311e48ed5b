"""The cases app's URLs, one module per audience; all share the "cases" namespace.

Every view states its role with a decorator from smpclinic.roles, and
tests/test_url_permissions.py walks every name here with every role.
"""

from cases.portal import care_urls as portal_care
from cases.portal import urls as portal
from cases.reporting import urls as reports

from . import managers, staff

app_name = "cases"

urlpatterns = (
    staff.urlpatterns + managers.urlpatterns + reports.urlpatterns + portal.urlpatterns + portal_care.urlpatterns
)
