"""Public API authentication: ``Authorization: Bearer <token>``, one token = one workspace."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions, permissions

from segapp.models import ApiToken, Role
from segapp.tokens import authenticate_token


@dataclass
class TokenPrincipal:
    """Stands in for ``request.user`` on API calls: the token, its workspace and role."""

    token: ApiToken

    is_authenticated = True
    is_anonymous = False
    pk = None

    @property
    def workspace(self):
        return self.token.workspace

    @property
    def role(self) -> Role:
        return Role(self.token.role)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Use the header Authorization: Bearer <token>.")
        token = authenticate_token(raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("The token is invalid or has been revoked.")
        return TokenPrincipal(token), token

    def authenticate_header(self, request):
        return self.keyword


class WorkspaceRolePermission(permissions.BasePermission):
    """Any valid token may read; changing needs the role a view names (member by default)."""

    message = "This token's role does not allow this change."

    def has_permission(self, request, view):
        principal = request.user
        if not isinstance(principal, TokenPrincipal):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return principal.role.allows(getattr(view, "change_role", Role.MEMBER))
