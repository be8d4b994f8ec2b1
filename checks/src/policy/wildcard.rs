//! IAM wildcard patterns: `*` matches any run of characters (including none) and `?` exactly
//! one character. IAM uses them in `Action`, `Resource` and the `*Like` / `Arn*` condition
//! operators; there is no escape syntax, so a literal `*` cannot be matched on its own.

/// Whether `value` matches the IAM wildcard `pattern`. Actions compare case-insensitively
/// (`S3:getobject` is `s3:GetObject` to IAM), resources and ARNs case-sensitively, hence
/// `ignore_case`.
///
/// Greedy matching with one backtrack point: O(pattern × value) in the worst case, no
/// recursion, so hostile patterns cannot blow the stack.
pub fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let value: Vec<char> = value.chars().collect();
    let (mut p, mut v) = (0usize, 0usize);
    // Position of the last `*` seen and the value position it is currently absorbing up to.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = value.get(v) {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, v));
                p += 1;
            }
            Some(&pc) if pc == '?' || chars_equal(pc, c, ignore_case) => {
                p += 1;
                v += 1;
            }
            _ => match star {
                // Let the last `*` swallow one more character and retry after it.
                Some((sp, sv)) => {
                    star = Some((sp, sv + 1));
                    p = sp + 1;
                    v = sv + 1;
                }
                None => return false,
            },
        }
    }
    while pattern.get(p) == Some(&'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Whether `pattern` matches every possible string: it is non-empty and made only of `*`.
/// (`?` does not qualify: it needs exactly one character.)
pub fn matches_everything(pattern: &str) -> bool {
    !pattern.is_empty() && pattern.chars().all(|c| c == '*')
}

/// Whether `text` contains a wildcard character, i.e. would match more than itself when used
/// as a pattern.
pub fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

fn chars_equal(a: char, b: char, ignore_case: bool) -> bool {
    a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match("*", "anything", false));
        assert!(wildcard_match("s3:Get*", "s3:GetObject", false));
        assert!(!wildcard_match("s3:Get*", "s3:PutObject", false));
        assert!(wildcard_match("s3:?etObject", "s3:GetObject", false));
        assert!(!wildcard_match("s3:?etObject", "s3:etObject", false));
        assert!(wildcard_match("a*b*c", "aXXbYYbc", false));
        assert!(!wildcard_match("a*b*c", "aXXbYYbcd", false));
        assert!(wildcard_match("", "", false));
        assert!(!wildcard_match("", "x", false));
        assert!(wildcard_match("**", "", false));
    }

    #[test]
    fn case_handling() {
        assert!(wildcard_match("S3:get*", "s3:GetObject", true));
        assert!(!wildcard_match("S3:get*", "s3:GetObject", false));
        assert!(wildcard_match(
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/Key",
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/key",
            false
        ));
    }

    #[test]
    fn everything_and_wildcard_detection() {
        assert!(matches_everything("*"));
        assert!(matches_everything("***"));
        assert!(!matches_everything(""));
        assert!(!matches_everything("?"));
        assert!(!matches_everything("s3:*"));
        assert!(has_wildcard("system:serviceaccount:*:*"));
        assert!(has_wildcard("a?"));
        assert!(!has_wildcard("system:serviceaccount:ns:sa"));
    }
}
