"""Den inloggade användaren med sin egen typ (för audit- och åtkomstloggen).

Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def signed_in_user(request: HttpRequest) -> User:
    """Den inloggade användaren bakom `request`.

    Vyer bakom inloggningskrav (login_required, permission_required, admin) har alltid en; en
    anonym begäran här är ett programfel och får 403 i stället för en rad utan användare.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user
