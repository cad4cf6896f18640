"""The cloud providers' settings and credentials, which the host finds and applies around the
core: ``bedrock/`` (SigV4, ``_aws.py``) and ``vertex_ai/`` (OAuth2 tokens, ``_google.py``).
The core builds the request without them; :func:`authorize` then signs it or adds the token.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Prepared

#: Keyword arguments (LiteLLM's names) that set a provider's configuration, and the variable
#: the core reads it from.
SETTINGS = {
    "vertex_project": "VERTEXAI_PROJECT",
    "vertex_location": "VERTEXAI_LOCATION",
    "aws_region_name": "AWS_REGION",
}
#: Variables read when the provider's own is not set.
FALLBACKS = {
    "VERTEXAI_PROJECT": ("GOOGLE_CLOUD_PROJECT",),
    "VERTEXAI_LOCATION": ("GOOGLE_CLOUD_LOCATION",),
}
#: Credentials and settings as keyword arguments: kept by the host, never sent to the core.
CREDENTIALS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_profile_name")
#: Providers whose requests the host authorizes itself when no key header was set.
AUTHORIZED_HERE = frozenset({"bedrock", "vertex_ai"})
_OPTIONS = frozenset(SETTINGS) | frozenset(CREDENTIALS)


def settings(
    prefix: str, params: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Takes the cloud options out of ``params``: the body fields left, the settings for the
    core (``env``), and the credentials options for :func:`authorize`."""
    if prefix not in AUTHORIZED_HERE and _OPTIONS.isdisjoint(params):
        return params, env, {}
    params = dict(params)
    env = dict(env)
    credentials = {name: params.pop(name) for name in CREDENTIALS if name in params}
    for option, variable in SETTINGS.items():
        value = params.pop(option, None)
        if value is not None:
            env[variable] = str(value)
            credentials[option] = value
    for variable, fallbacks in FALLBACKS.items():
        if variable not in env:
            value = next((os.environ[name] for name in fallbacks if os.environ.get(name)), None)
            if value is not None:
                env[variable] = value
    if prefix == "bedrock" and "AWS_REGION" not in env:
        from . import _aws

        region = _aws.region(credentials)
        if region:
            env["AWS_REGION"] = region
    if prefix == "bedrock":
        credentials["aws_region_name"] = env.get("AWS_REGION")
    return params, env, credentials


def needs_authorizing(prepared: Prepared) -> bool:
    return (
        prepared.provider in AUTHORIZED_HERE
        and "authorization" not in prepared.headers
        and prepared.sign is None
    )


def authorize(prepared: Prepared) -> Prepared:
    """``prepared`` signed (Bedrock) or with a token (Vertex AI), where no key was given. May do
    I/O (botocore's chain, google-auth's refresh): async callers run it in an executor."""
    if not needs_authorizing(prepared):
        return prepared
    if prepared.provider == "bedrock":
        from . import _aws

        found = _aws.credentials(prepared.cloud)
        region = prepared.cloud.get("aws_region_name") or ""
        secrets = tuple(s for s in (found.secret_key, found.token) if s)
        # Signed by the transport at each attempt, with these credentials: no I/O there.
        sign = functools.partial(_aws.sign, credentials=found, region=region)
        return prepared._replace(sign=sign, secrets=prepared.secrets + secrets)
    from . import _google

    token = _google.access_token()
    headers = {**prepared.headers, "authorization": f"Bearer {token}"}
    return prepared._replace(headers=headers, secrets=prepared.secrets + (token,))


def missing_settings(prefix: str) -> list[str]:
    """The variables a cloud provider's calls need that the environment lacks (for
    ``validate_environment``), without I/O: credentials in files or from a metadata server are
    not looked for, so a profile or gcloud's own login counts only where its variable is set."""
    have = {name for name, value in os.environ.items() if value}
    if prefix == "bedrock":
        missing = [] if have & {"AWS_REGION", "AWS_DEFAULT_REGION"} else ["AWS_REGION"]
        keys = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        if not (keys <= have or have & {"AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE"}):
            missing += sorted(keys - have)
        return missing
    if prefix == "vertex_ai":
        missing = [] if have & {"VERTEXAI_PROJECT", *FALLBACKS["VERTEXAI_PROJECT"]} else ["VERTEXAI_PROJECT"]
        if not have & {"VERTEXAI_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS"}:
            missing.append("GOOGLE_APPLICATION_CREDENTIALS")
        return missing
    return []
