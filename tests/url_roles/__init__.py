"""The role each URL needs, one module per area; tests/test_url_permissions.py merges them.

A module gives ROLES (URL name → (role, HTTP method to try)) and may give WORLD_KEYS
(URL name → {URL parameter: key of the `world` fixture}) when a parameter must come
from a differently named record of the world.

A role is either an action of the role table (`smpclinic.roles.MATRIX`: whoever holds it
may open the page) or one of the special cases below.
"""

from smpclinic import roles

STAFF = roles.WORK  # staff and managers: the clinical record
PUBLIC = "public"
PHOTO = "photo"  # staff; clients only their own shared photos
LOGGED_IN = "logged in"  # any signed-in user, clients included
PORTAL = "portal"  # clients only, their own records; staff and managers get 403
ADMIN = "admin"  # Django admin: superusers (is_staff) only
SECOND_STEP = "second step"  # the code page: sends anyone who owes no code onward (302)
