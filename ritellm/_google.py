"""OAuth2 access tokens for ``vertex_ai/`` from google-auth's application default credentials
(``pip install 'ritellm[vertex]'``): a service-account file in ``GOOGLE_APPLICATION_CREDENTIALS``,
``gcloud auth application-default login``, or the metadata server on Google Cloud. A token is
reused until shortly before it expires, then refreshed. Getting one may do I/O: ``acompletion``
gets it off the event loop.
"""

from __future__ import annotations

import threading
from typing import Any

from ._exceptions import MissingAPIKeyError

SCOPE = "https://www.googleapis.com/auth/cloud-platform"

_lock = threading.Lock()
_credentials: Any = None


def access_token() -> str:
    global _credentials
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError:
        raise MissingAPIKeyError(
            "vertex_ai/ needs an OAuth2 access token: pass api_key=, set VERTEXAI_ACCESS_TOKEN, or "
            "install ritellm[vertex] (google-auth) to use application default credentials"
        ) from None
    with _lock:
        try:
            if _credentials is None:
                _credentials, _ = google.auth.default(scopes=[SCOPE])
            if not _credentials.valid:  # expired, or about to: google-auth keeps a margin
                import requests  # google-auth's transport; closed again, as refreshes are rare

                with requests.Session() as session:
                    _credentials.refresh(google.auth.transport.requests.Request(session))
        except google.auth.exceptions.GoogleAuthError as exc:
            raise MissingAPIKeyError(
                f"vertex_ai/ could not get an access token from google-auth: {exc}"
            ) from None
        token: str = _credentials.token
    return token
