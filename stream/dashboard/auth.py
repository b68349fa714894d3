"""Optional bearer token. With ``api_token`` set, every ``/api`` route (live events included) needs it, as an
``Authorization: Bearer`` header or, for ``EventSource`` which cannot send headers, a ``token`` query parameter.
The page shell and its static files hold no data; the page asks for the token and keeps it in sessionStorage."""
from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status
from pydantic import SecretStr


class TokenGuard:
    def __init__(self, token: SecretStr | None):
        self._token = token.get_secret_value().encode() if token else None

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def __call__(self, request: Request) -> None:
        """A FastAPI dependency: returns when the request may proceed, else raises 401."""
        if self._token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else request.query_params.get("token", "")
        if not hmac.compare_digest(given.encode(), self._token):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="expected a valid bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
