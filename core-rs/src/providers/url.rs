//! Building URLs from a base URL: endpoints, queries and path segments; and checking what goes
//! into them, so the host gets a URL that every transport sends byte for byte the same, aimed
//! where the caller meant. A leaf of `providers/`.

use crate::error::CoreError;

/// The longest request URL built. httpx refuses URLs over 64 KiB with its own error, and servers
/// rarely take request lines of more than 8 or 16 KiB.
pub const MAX_URL_BYTES: usize = 16 << 10;

/// Joins an API base and an endpoint path. A base that already ends in the path is used as
/// it is, so older configurations that spelled out the full URL keep working.
pub fn endpoint(base: &str, path: &str) -> String {
    let (base, query) = split_query(base);
    let base = base.trim_end_matches('/');
    let url = if base.ends_with(path) {
        base.to_string()
    } else {
        format!("{}{}", base, path)
    };
    join_query(url, query)
}

/// A base URL without its query, and the query (`tenant=a`), which goes after the path a
/// protocol adds to the base.
pub fn split_query(base: &str) -> (&str, &str) {
    match base.split_once('?') {
        Some((base, query)) => (base, query),
        None => (base, ""),
    }
}

/// `url` with `query` added to whatever query it already has.
pub fn join_query(url: String, query: &str) -> String {
    match (query.is_empty(), url.contains('?')) {
        (true, _) => url,
        (false, true) => format!("{}&{}", url, query),
        (false, false) => format!("{}?{}", url, query),
    }
}

/// The path of a URL (`/v1` of `https://host:4000/v1?x=1`): empty for a bare server root.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = split_query(rest).0;
    rest.find('/').map_or("", |slash| &rest[slash..])
}

/// Whether a path segment names an API version: `v1`, `v2`, `v1beta`, `v1alpha1`.
pub fn is_version(segment: &str) -> bool {
    let mut bytes = segment.bytes();
    bytes.next() == Some(b'v')
        && bytes.next().map_or(false, |b| b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A model id as one path segment: everything but RFC 3986's
/// unreserved characters percent-encoded, so a `/`, `?` or `#` in it cannot change the path.
/// (AWS's clients encode a Bedrock model id's `:` so too.) See [`check_model`] for what is
/// refused.
pub fn path_segment(model: &str) -> Result<String, CoreError> {
    check_model(model)?;
    Ok(encode(model, b"-._~"))
}

/// A deployment name as openai's `AzureOpenAI` client puts it in the path, where a `/` separates
/// segments: each part between slashes encoded as by [`path_segment`].
pub fn path_segments(model: &str) -> Result<String, CoreError> {
    check_model(model)?;
    let parts: Vec<String> = model.split('/').map(|part| encode(part, b"-._~")).collect();
    Ok(parts.join("/"))
}

/// A model id as one path segment as Google's and Anthropic's clients send it: `@` and `:` are
/// legal in a segment (RFC 3986 `pchar`) and stay (`claude-3-5-sonnet@20240620`); `/`, `?`,
/// `#`, `%`, spaces and the rest are percent-encoded.
pub fn model_segment(model: &str) -> Result<String, CoreError> {
    check_model(model)?;
    Ok(encode(model, b"-._~@:"))
}

/// Refuses a model whose `/`-separated parts include `.`, `..` or nothing. Alone, `.` and `..`
/// are dot segments, which URL parsers remove (`bedrock/..` would post to `/converse`); inside
/// a longer name its slashes are encoded, but a server or proxy that decodes `%2F` before it
/// routes would climb out of the API's path (`vertex_ai/../../x`).
fn check_model(model: &str) -> Result<(), CoreError> {
    if model
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(CoreError::invalid_request(format!(
            "model {:?} cannot go in the request's path: it has a \".\", \"..\" or empty part",
            shown(model)
        )));
    }
    Ok(())
}

/// A setting the core puts in a URL (see [`SETTINGS`]).
struct Setting {
    /// The environment variable the host hands it in.
    env: &'static str,
    /// How callers set it, for the error.
    named: &'static str,
    valid: fn(&str) -> bool,
    /// What it should look like, for the error.
    like: &'static str,
}

/// The settings the core puts in a URL's host or path, with the shape their provider gives them.
/// Encoding would not be enough: a location or region is part of a host name
/// (`vertex_location="evil.example#"` would aim the call, and its token, at another host), and
/// a region is also part of the request's signature, a header.
const SETTINGS: &[Setting] = &[
    Setting {
        env: "AWS_REGION",
        named: "aws_region_name (or AWS_REGION, AWS_DEFAULT_REGION)",
        valid: is_label,
        like: "an AWS region like \"us-east-1\"",
    },
    Setting {
        env: "VERTEXAI_LOCATION",
        named: "vertex_location (or VERTEXAI_LOCATION, GOOGLE_CLOUD_LOCATION)",
        valid: is_label,
        like: "a Google Cloud location like \"us-central1\" or \"global\"",
    },
    Setting {
        env: "VERTEXAI_PROJECT",
        named: "vertex_project (or VERTEXAI_PROJECT, GOOGLE_CLOUD_PROJECT)",
        valid: is_gcp_project,
        like: "a Google Cloud project id like \"my-project\" or \"example.com:my-project\", or a project number",
    },
    Setting {
        env: "CLOUDFLARE_ACCOUNT_ID",
        named: "CLOUDFLARE_ACCOUNT_ID",
        valid: is_account_id,
        like: "a Cloudflare account id (at most 32 letters and digits)",
    },
    Setting {
        env: "AZURE_API_VERSION",
        named: "api_version (or AZURE_API_VERSION)",
        valid: is_api_version,
        like: "an API version like \"2024-10-21\" or \"2025-01-01-preview\"",
    },
];

/// `value` of the setting handed in as environment variable `env`, refused before any I/O,
/// naming the setting, unless it has the shape [`SETTINGS`] gives it.
pub fn setting<'a>(env: &str, value: &'a str) -> Result<&'a str, CoreError> {
    let setting = SETTINGS.iter().find(|s| s.env == env);
    match setting {
        Some(setting) if !(setting.valid)(value) => Err(CoreError::invalid_request(format!(
            "{} {:?} is not {}",
            setting.named,
            shown(value),
            setting.like
        ))),
        _ => Ok(value),
    }
}

/// A DNS label, as botocore checks a region name: letters, digits and inner hyphens, at most 63.
/// AWS regions (`us-gov-west-1`) and Google Cloud locations (`europe-west4`, `global`) are such.
fn is_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// A Google Cloud project id (`my-project`: lowercase letters, digits and hyphens), a legacy
/// domain-scoped one (`example.com:my-project`), or a project number. Google checks the lengths.
fn is_gcp_project(value: &str) -> bool {
    let (domain, id) = match value.split_once(':') {
        Some((domain, id)) => (Some(domain), id),
        None => (None, value),
    };
    let lower = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
    let domain_ok = domain.map_or(true, |domain| {
        (1..=63).contains(&domain.len()) && domain.bytes().all(|b| lower(b) || b == b'.')
    });
    domain_ok
        && (1..=30).contains(&id.len())
        && id.bytes().all(lower)
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Cloudflare's account ids: 32 hexadecimal digits (its API says "at most 32 characters").
fn is_account_id(value: &str) -> bool {
    (1..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Azure's API versions: a date (`2024-10-21`), maybe `-preview`, or a word (`preview`).
fn is_api_version(value: &str) -> bool {
    (1..=32).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric()
}

/// A caller's value, shortened, for an error message.
fn shown(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &value[..end]),
        None => value.to_string(),
    }
}

/// A base URL from the caller or the environment (`source` names which), as every transport
/// sends it byte for byte. httpx percent-encodes a space or a non-ASCII character in a path or
/// query, aiohttp sends it raw; httpx drops `.` and `..` segments, aiohttp does not; a CR or LF
/// is an untyped error in one and stripped in another. So: control characters are refused
/// anywhere, and so is a fragment (`#`: the API's path would go after it, and never be sent);
/// the host must be a host name or IP address (ASCII, lowercased here as httpx does: an
/// international name goes in its `xn--` form), with a port of digits; a path with a dot
/// segment is refused; and spaces, non-ASCII characters and the few others httpx encodes are
/// percent-encoded in the path and query, as httpx does. What httpx leaves alone stays.
pub fn base_url(url: &str, source: &str) -> Result<String, CoreError> {
    let refuse = |why: String| Err(CoreError::invalid_request(format!("{} {}", source, why)));
    if let Some(c) = url.chars().find(|c| c.is_control()) {
        return refuse(format!(
            "has a control character (U+{:04X}), which no transport sends the same way",
            c as u32
        ));
    }
    if url.contains('#') {
        return refuse(
            "has a fragment (#): the API's path would go after it and never be sent".into(),
        );
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if authority.contains('@') {
        return refuse(
            "carries a user name or password, which ritellm does not send (and would show in \
             errors): give credentials as api_key= or extra_headers="
                .into(),
        );
    }
    let (host, port) = split_port(authority);
    if !is_host(host) {
        return refuse(format!(
            "has host {:?}, which is not a host name or IP address (an international name goes in its xn-- form)",
            shown(host)
        ));
    }
    let port = match port {
        None => String::new(),
        Some(port) => match port.parse::<u16>() {
            Ok(number) if port.bytes().all(|b| b.is_ascii_digit()) => format!(":{}", number),
            _ => {
                return refuse(format!(
                    "has port {:?}, which is not a number up to 65535",
                    shown(port)
                ))
            }
        },
    };
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return refuse("has a \".\" or \"..\" segment in its path, which some transports remove and others send".into());
    }
    let mut clean = format!("{}://{}{}", scheme, host.to_ascii_lowercase(), port);
    clean.push_str(&encode_only(path, b" \"<>`{}"));
    if let Some(query) = query {
        clean.push('?');
        clean.push_str(&encode_only(query, b" \"<>"));
    }
    Ok(clean)
}

/// A host name (letters, digits, `-`, `.`, `_`) or an IP address, as every transport takes it:
/// httpx reads four runs of digits with one character between each (`10-0-0-1`) as an IPv4
/// address, and refuses it with an error of its own unless it is one.
fn is_host(host: &str) -> bool {
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return is_ipv6(ip);
    }
    let runs = host.split(|c: char| !c.is_ascii_digit());
    if runs.clone().count() == 4 && runs.clone().all(|run| !run.is_empty()) {
        return is_ipv4(host);
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// Whether `text` is an IPv4 address as `str::parse::<std::net::Ipv4Addr>` takes it (four
/// decimal numbers up to 255, no leading zero), without the standard library's parser.
fn is_ipv4(text: &str) -> bool {
    let mut at = Cursor(text.as_bytes(), 0);
    ipv4(&mut at) && at.1 == text.len()
}

/// Whether `text` is an IPv6 address as `str::parse::<std::net::Ipv6Addr>` takes it (Rust
/// 1.63's parser, step for step: up to eight groups of up to four hex digits, one `::` for
/// groups of zeros, an IPv4 address for the last two), without it.
fn is_ipv6(text: &str) -> bool {
    let mut at = Cursor(text.as_bytes(), 0);
    let (head, head_ipv4) = groups(&mut at, 8);
    if head < 8 {
        if head_ipv4 || !(at.given(b':') && at.given(b':')) {
            return false;
        }
        groups(&mut at, 7 - head);
    }
    at.1 == text.len()
}

/// Bytes and a position in them.
struct Cursor<'a>(&'a [u8], usize);

impl Cursor<'_> {
    /// Reads `byte` if it is next.
    fn given(&mut self, byte: u8) -> bool {
        let next = self.0.get(self.1) == Some(&byte);
        self.1 += usize::from(next);
        next
    }

    /// Reads a number of at most `max` digits in `radix` up to `limit` (a leading zero only if
    /// `zero_prefix`); reads nothing unless it succeeds.
    fn number(&mut self, radix: u32, max: usize, zero_prefix: bool, limit: u32) -> bool {
        let start = self.1;
        let mut value = 0;
        while let Some(digit) = self
            .0
            .get(self.1)
            .and_then(|&b| char::from(b).to_digit(radix))
        {
            value = value * radix + digit;
            self.1 += 1;
            if self.1 - start > max {
                break;
            }
        }
        let count = self.1 - start;
        let ok = count > 0
            && count <= max
            && value <= limit
            && (zero_prefix || count == 1 || self.0[start] != b'0');
        if !ok {
            self.1 = start;
        }
        ok
    }
}

/// Reads an IPv4 address; reads nothing unless it succeeds.
fn ipv4(at: &mut Cursor) -> bool {
    let start = at.1;
    let ok = (0..4).all(|i| (i == 0 || at.given(b'.')) && at.number(10, 3, false, 255));
    if !ok {
        at.1 = start;
    }
    ok
}

/// Reads up to `limit` IPv6 groups separated by `:`, the last two maybe an IPv4 address; how
/// many, and whether an IPv4 address ended them.
fn groups(at: &mut Cursor, limit: usize) -> (usize, bool) {
    for i in 0..limit {
        let start = at.1;
        if i + 1 < limit {
            if (i == 0 || at.given(b':')) && ipv4(at) {
                return (i + 2, true);
            }
            at.1 = start;
        }
        if !((i == 0 || at.given(b':')) && at.number(16, 4, true, 0xffff)) {
            at.1 = start;
            return (i, false);
        }
    }
    (limit, false)
}

/// An authority's host and port, if it has one: `h:80`, `[::1]:80`.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = match authority.find(']') {
        Some(end) if authority.starts_with('[') => end + 1,
        _ => authority.rfind(':').unwrap_or(authority.len()),
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => (host, Some(port)),
        None if rest.is_empty() => (host, None),
        None => (authority, None), // `[::1]x`: refused as a host
    }
}

/// `text` with the bytes in `encoded` and every non-ASCII byte percent-encoded.
fn encode_only(text: &str, encoded: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii() && !encoded.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{:02X}", byte));
        }
    }
    out
}

/// A query string's key or value, percent-encoded but for unreserved characters.
pub fn query_part(text: &str) -> String {
    encode(text, b"-._~")
}

fn encode(value: &str, kept: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || kept.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{:02X}", byte));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_ip_addresses_as_the_standard_library_does() {
        let mut texts: Vec<String> = [
            "",
            "1.2.3.4",
            "01.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4.5",
            "1..2.3",
            "::",
            "::1",
            "1::",
            ":1",
            "1:",
            ":::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::8",
            "1:2:3:4:5:6:7::8",
            "::ffff:1.2.3.4",
            "1.2.3.4::",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "fe80::1%25eth0",
            "00000::",
            "0000::",
            "ABCD:ef01::",
            "g::",
            "1::2::3",
            "::ffff:01.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "::0:1.2.3.4",
            "1.2.3.4:1::",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let tokens = [
            "0", "1", "9", "a", "F", "00", "01", "12", "255", "256", "999", "ffff", "10000", ":",
            "::", ":", ".", ".", "1.2.3.4", "g", "%",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            let mut text = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut pick = state;
            for _ in 0..(state % 20) {
                pick = pick.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push_str(tokens[(pick >> 33) as usize % tokens.len()]);
            }
            texts.push(text);
        }
        let valid = texts
            .iter()
            .filter(|t| t.parse::<std::net::IpAddr>().is_ok())
            .count();
        assert!(valid > 1000, "{}", valid);
        for text in &texts {
            assert_eq!(
                is_ipv4(text),
                text.parse::<std::net::Ipv4Addr>().is_ok(),
                "{}",
                text
            );
            assert_eq!(
                is_ipv6(text),
                text.parse::<std::net::Ipv6Addr>().is_ok(),
                "{}",
                text
            );
        }
    }

    use super::*;

    #[test]
    fn endpoint_appends_once() {
        let path = "/chat/completions";
        assert_eq!(
            endpoint("https://x/v1?tenant=a", path),
            "https://x/v1/chat/completions?tenant=a"
        );
        assert_eq!(
            endpoint("https://x/v1/chat/completions/?tenant=a", path),
            "https://x/v1/chat/completions?tenant=a"
        );
        assert_eq!(
            endpoint("https://x/v1", path),
            "https://x/v1/chat/completions"
        );
        assert_eq!(
            endpoint("https://x/v1/", path),
            "https://x/v1/chat/completions"
        );
        assert_eq!(
            endpoint("https://x/v1/chat/completions", path),
            "https://x/v1/chat/completions"
        );
    }

    #[test]
    fn paths_and_versions() {
        assert_eq!(path_of("http://h:4000"), "");
        assert_eq!(path_of("http://h:4000/?a=/b"), "/");
        assert_eq!(path_of("https://h/anthropic/v1?x"), "/anthropic/v1");
        for version in ["v1", "v2", "v1beta", "v1alpha1", "v10"] {
            assert!(is_version(version), "{}", version);
        }
        for other in ["v", "vertex", "V1", "v1-beta", "api", ""] {
            assert!(!is_version(other), "{}", other);
        }
    }

    #[test]
    fn segments_keep_what_each_client_keeps() {
        let id = "claude-3-5-sonnet@20240620";
        assert_eq!(model_segment(id).unwrap(), id);
        assert_eq!(
            model_segment("a:b/c?d#e%f g").unwrap(),
            "a:b%2Fc%3Fd%23e%25f%20g"
        );
        assert_eq!(path_segment("model-v1:0@x").unwrap(), "model-v1%3A0%40x");
        assert_eq!(path_segment("m\r\nx\u{fc}").unwrap(), "m%0D%0Ax%C3%BC");
        assert_eq!(path_segment("..x.").unwrap(), "..x.");
        assert_eq!(path_segments("org/d?x#y z").unwrap(), "org/d%3Fx%23y%20z");
        assert_eq!(path_segment("%2E%2E").unwrap(), "%252E%252E");
    }

    #[test]
    fn models_that_would_step_through_the_path_are_refused() {
        for model in [
            "..",
            ".",
            "",
            "../../x",
            "a/../b",
            "a/./b",
            "a//b",
            "x/",
            "/x",
            "../../../../../x",
        ] {
            for segment in [path_segment, model_segment, path_segments] {
                let error = segment(model).unwrap_err();
                assert!(error.message.starts_with("model "), "{}", error.message);
                assert!(error.message.contains("path"), "{}", error.message);
            }
        }
    }

    #[test]
    fn settings_have_their_providers_shapes() {
        let ok = |env: &str, value: &str| setting(env, value).is_ok();
        for region in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "eu-central-2",
            "x",
        ] {
            assert!(ok("AWS_REGION", region), "{}", region);
        }
        for location in [
            "us-central1",
            "europe-west4",
            "global",
            "us",
            "asia-northeast1",
        ] {
            assert!(ok("VERTEXAI_LOCATION", location), "{}", location);
        }
        for project in [
            "my-project",
            "p",
            "example.com:my-proj",
            "123456789012",
            "a1-b2",
        ] {
            assert!(ok("VERTEXAI_PROJECT", project), "{}", project);
        }
        for version in [
            "2024-10-21",
            "2025-01-01-preview",
            "preview",
            "v1",
            "2023.05",
        ] {
            assert!(ok("AZURE_API_VERSION", version), "{}", version);
        }
        for id in ["0123abcd", "023e105f4ecef8ad9ca31a8372d0c353"] {
            assert!(ok("CLOUDFLARE_ACCOUNT_ID", id), "{}", id);
        }
        let hostile = [
            "evil.example#",
            "us-east-1 ",
            "us east 1",
            "us-east-1\r\nX-Injected: 1",
            "a/b",
            "a?b",
            "-a",
            "a-",
            "\u{e9}",
            "",
        ];
        for env in [
            "AWS_REGION",
            "VERTEXAI_LOCATION",
            "VERTEXAI_PROJECT",
            "AZURE_API_VERSION",
            "CLOUDFLARE_ACCOUNT_ID",
        ] {
            for value in hostile {
                let error = setting(env, value).unwrap_err();
                assert!(error.message.contains(env), "{}", error.message);
            }
        }
        for project in ["My-Project", ":p", "a:b:c", "x_y", "example.com:"] {
            assert!(!ok("VERTEXAI_PROJECT", project), "{}", project);
        }
        assert!(!ok("CLOUDFLARE_ACCOUNT_ID", &"a".repeat(33)));
        assert!(!ok("AWS_REGION", &"a".repeat(64)));
        assert!(!ok("AZURE_API_VERSION", "2024-10-21&x=1"));
        let error = setting("VERTEXAI_LOCATION", "evil.example#").unwrap_err();
        assert_eq!(
            error.message,
            "vertex_location (or VERTEXAI_LOCATION, GOOGLE_CLOUD_LOCATION) \"evil.example#\" is not a Google Cloud location like \"us-central1\" or \"global\""
        );
    }

    #[test]
    fn base_urls_come_out_as_every_transport_sends_them() {
        let clean = |url: &str| base_url(url, "base_url").unwrap();
        for (given, sent) in [
            ("http://h:4000/v1", "http://h:4000/v1"),
            (
                "https://H.Example/V1?Tenant=A",
                "https://h.example/V1?Tenant=A",
            ),
            (
                "http://127.0.0.1:8080/a b/v1",
                "http://127.0.0.1:8080/a%20b/v1",
            ),
            (
                "http://h/caf\u{e9}?q=\u{fc} x&r=\"<>`{}",
                "http://h/caf%C3%A9?q=%C3%BC%20x&r=%22%3C%3E`{}",
            ),
            ("http://h/a`{}|^[]\\", "http://h/a%60%7B%7D|^[]\\"),
            ("http://h/%2e%2E/x%20y%zz", "http://h/%2e%2E/x%20y%zz"),
            ("http://[::1]:0080/v1", "http://[::1]:80/v1"),
            ("http://my_service:80", "http://my_service:80"),
            ("http://h?a=/b", "http://h?a=/b"),
            ("http://10.0.0.1:1/v1", "http://10.0.0.1:1/v1"),
            ("http://10-0-0-1.example/v1", "http://10-0-0-1.example/v1"),
            ("http://[::ffff:1.2.3.4]/v1", "http://[::ffff:1.2.3.4]/v1"),
            ("http://h/v1/?", "http://h/v1/?"),
        ] {
            assert_eq!(clean(given), sent, "{}", given);
        }
        for (url, complaint) in [
            ("http://h/v1\r\nX: 1", "control character (U+000D)"),
            ("http://h/v1\n", "control character (U+000A)"),
            ("http://h\u{0}/v1", "control character (U+0000)"),
            ("http://h/\t", "control character (U+0009)"),
            ("http://h/v1\u{85}", "control character (U+0085)"),
            ("http://h/v1#x", "fragment"),
            ("http://h#/v1", "fragment"),
            ("http://h x/v1", "host \"h x\""),
            ("http:// h/v1", "host \" h\""),
            ("http://caf\u{e9}.example/v1", "xn--"),
            ("http://evil\\@good/", "user name or password"),
            ("http://user:pw@h/", "user name or password"),
            ("http:///v1", "host \"\""),
            ("http://h:/v1", "port \"\""),
            ("http://h:99999/v1", "port \"99999\""),
            ("http://h:+80/v1", "port \"+80\""),
            ("http://[::1/v1", "host"),
            ("http://[zz]/v1", "host"),
            ("http://[:::]/v1", "host"),
            ("http://[fe80::1%25eth0]/v1", "host"),
            ("http://256.0.0.1/v1", "host \"256.0.0.1\""),
            ("http://01.0.0.1/v1", "host"),
            ("http://10-0-0-1/v1", "host"),
            ("http://h/a/../v1", "\"..\" segment"),
            ("http://h/./v1", "\"..\" segment"),
            ("http://h/v1/..?x", "\"..\" segment"),
        ] {
            let error = base_url(url, "OPENAI_BASE_URL").unwrap_err();
            assert!(
                error.message.starts_with("OPENAI_BASE_URL "),
                "{}",
                error.message
            );
            assert!(
                error.message.contains(complaint),
                "{}: {}",
                url,
                error.message
            );
            assert!(!error.message.contains("pw"), "{}", error.message);
        }
    }
}
