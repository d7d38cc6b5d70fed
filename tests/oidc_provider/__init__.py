"""En liten, riktig OpenID Connect-leverantör (django-oauth-toolkit) som testerna startar på 127.0.0.1."""
