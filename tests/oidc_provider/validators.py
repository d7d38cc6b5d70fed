"""Påståendena som testleverantören lägger i id-token och userinfo, gruppen inräknad."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class GroupsValidator(OAuth2Validator):
    """Som django-oauth-toolkits validator, plus namn, e-post och `groups` (användarens Django-grupper)."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        """Namn, användarnamn, e-post och grupper för den inloggade användaren hos leverantören."""
        user = request.user
        return {
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }
