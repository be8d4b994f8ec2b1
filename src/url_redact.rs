//! URLs given on the command line (`--webhook`, `--endpoint-url`, `AWS_ENDPOINT_URL`) may
//! carry credentials as `scheme://user:password@host/…`. They are used, never printed: every
//! message that shows such a URL shows [`redacted`] instead.
//!
//! A leaf module (it uses nothing of the crate), so that both the AWS session and the webhook
//! can call it without importing each other.

use std::borrow::Cow;

/// `url` as it may be printed: `https://***@host/…` for `https://user:password@host/…`, the
/// URL itself when it has no userinfo.
///
/// Works on text that is not a valid URL too (an error about a bad URL quotes it): the
/// userinfo ends at the last `@` before the query, not at the first `/`, because a password
/// with an unescaped `/` is not valid in a URL but is still a password. A path holding an
/// `@` is redacted up to it as well: shown too little, never too much.
pub fn redacted(url: &str) -> Cow<'_, str> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}***{}", &url[..start], &url[start + at..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_never_shown() {
        for (url, shown) in [
            (
                "https://user:pa55@hooks.example.com/x?t=1",
                "https://***@hooks.example.com/x?t=1",
            ),
            ("http://user@127.0.0.1:8080", "http://***@127.0.0.1:8080"),
            // Not valid URLs, still passwords.
            ("https://user:pa/ss@host/x", "https://***@host/x"),
            ("https://u:p@ss@host", "https://***@host"),
            ("user:pa55@host:80", "***@host:80"),
            ("ftp://a:b@h", "ftp://***@h"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
        for url in [
            "https://hooks.example.com/x?email=a@b.example",
            "http://127.0.0.1:5000",
            "not a url",
            "",
        ] {
            assert!(matches!(redacted(url), Cow::Borrowed(_)), "{url}");
        }
    }
}
