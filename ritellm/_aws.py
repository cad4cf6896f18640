"""AWS credentials and Signature Version 4, for ``bedrock/``: the host signs each request after
the core built it, so credentials never enter the sandbox.

Credentials are looked for where AWS SDKs look, in this order: the call's keyword arguments
(``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``), the environment
(``AWS_ACCESS_KEY_ID``, ...), the shared credentials and config files for the profile
(``aws_profile_name=``, ``AWS_PROFILE``, else ``default``), and, when botocore is installed, its
whole chain (SSO, assume-role, container and instance roles), which refreshes what expires.
"""

from __future__ import annotations

import configparser
import datetime
import functools
import hashlib
import hmac
import os
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any, NamedTuple

from ._exceptions import MissingAPIKeyError

SERVICE = "bedrock"
#: Headers botocore leaves unsigned: proxies and clients may change them.
UNSIGNED = frozenset({"user-agent", "expect", "x-amzn-trace-id"})


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None


def _profile(options: Mapping[str, Any]) -> str:
    return options.get("aws_profile_name") or os.environ.get("AWS_PROFILE") or "default"


def _read(path: str | None, default: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(os.path.expanduser(path or default))
    return parser


def _profile_settings(profile: str) -> dict[str, str]:
    """The profile's settings: the credentials file, then the config file (``[profile x]``).
    Read once per profile and files, as AWS SDKs read them once per session."""
    paths = (os.environ.get("AWS_CONFIG_FILE"), os.environ.get("AWS_SHARED_CREDENTIALS_FILE"))
    return dict(_read_profile(profile, *paths))


@functools.lru_cache(maxsize=16)
def _read_profile(
    profile: str, config_file: str | None, credentials_file: str | None
) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    config = _read(config_file, "~/.aws/config")
    section = "default" if profile == "default" else f"profile {profile}"
    if config.has_section(section):
        found.update(config[section])
    credentials = _read(credentials_file, "~/.aws/credentials")
    if credentials.has_section(profile):
        found.update(credentials[profile])
    return tuple(found.items())


def region(options: Mapping[str, Any]) -> str | None:
    """``aws_region_name=``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, else the profile's region."""
    for value in (
        options.get("aws_region_name"),
        os.environ.get("AWS_REGION"),
        os.environ.get("AWS_DEFAULT_REGION"),
    ):
        if value:
            return str(value)
    return _profile_settings(_profile(options)).get("region")


_botocore_lock = threading.Lock()
#: botocore's credentials per profile: they refresh themselves when they expire.
_botocore_credentials: dict[str, Any] = {}


def credentials(options: Mapping[str, Any]) -> Credentials:
    """The credentials to sign with; may do I/O through botocore's chain (run it off a loop)."""
    key, secret = options.get("aws_access_key_id"), options.get("aws_secret_access_key")
    if key and secret:
        return Credentials(key, secret, options.get("aws_session_token"))
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    profile = _profile(options)
    settings = _profile_settings(profile)
    key, secret = settings.get("aws_access_key_id"), settings.get("aws_secret_access_key")
    if key and secret:
        return Credentials(key, secret, settings.get("aws_session_token") or None)
    try:
        import botocore.session
    except ImportError:
        botocore = None
    if botocore is not None:
        with _botocore_lock:
            found = _botocore_credentials.get(profile)
            if found is None:
                session = botocore.session.Session(profile=None if profile == "default" else profile)
                found = _botocore_credentials[profile] = session.get_credentials()
        if found is not None:
            frozen = found.get_frozen_credentials()
            return Credentials(frozen.access_key, frozen.secret_key, frozen.token)
    raise MissingAPIKeyError(
        "bedrock/ needs AWS credentials: pass aws_access_key_id= and aws_secret_access_key=, set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, configure a profile (AWS_PROFILE), install "
        "botocore for SSO and roles, or set AWS_BEARER_TOKEN_BEDROCK to a Bedrock API key"
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    now: datetime.datetime | None = None,
) -> dict[str, str]:
    """``headers`` with SigV4's added (``x-amz-date``, ``x-amz-security-token``,
    ``authorization``), signing every header given and the host, as botocore does."""
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    parts = urllib.parse.urlsplit(url)
    signed = {name.lower(): value for name, value in headers.items() if name.lower() not in UNSIGNED}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = stamp
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names)
    signed_names = ";".join(names)
    # The path arrives percent-encoded; SigV4 (outside S3) encodes it once more.
    path = urllib.parse.quote(parts.path or "/", safe="/~")
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    canonical_request = "\n".join(
        [method.upper(), path, query, canonical_headers, signed_names, hashlib.sha256(body).hexdigest()]
    )
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{credentials.secret_key}".encode(), day), region), SERVICE), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["x-amz-date"] = stamp
    if credentials.token:
        out["x-amz-security-token"] = credentials.token
    out["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_names}, Signature={signature}"
    )
    return out
