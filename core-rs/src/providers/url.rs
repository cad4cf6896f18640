//! Building URLs from a base URL: endpoints, queries and path segments. A leaf of `providers/`.

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

/// `value` as one path segment: everything but RFC 3986's unreserved characters
/// percent-encoded, so a `/` or `:` in a model id or account id cannot change the path. (AWS's
/// clients encode a Bedrock model id's `:` so too.)
pub fn path_segment(value: &str) -> String {
    encode(value, b"-._~")
}

/// A model id as one path segment as Google's and Anthropic's clients send it: `@` and `:` are
/// legal in a segment (RFC 3986 `pchar`) and stay (`claude-3-5-sonnet@20240620`); `/`, `?`,
/// `#`, `%`, spaces and the rest are percent-encoded.
pub fn model_segment(value: &str) -> String {
    encode(value, b"-._~@:")
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
        assert_eq!(model_segment(id), id);
        assert_eq!(model_segment("a:b/c?d#e%f g"), "a:b%2Fc%3Fd%23e%25f%20g");
        assert_eq!(path_segment("model-v1:0@x"), "model-v1%3A0%40x");
    }
}
