//! Reading the TOML files users write (suppressions, simulations): errors carry the 1-based
//! line and column they are about.

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses a TOML file's text; an error is its 1-based line, column and a one-line message.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, (usize, usize, String)> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        let message: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let message = match message.join("; ") {
            // Some parse errors come without words (a lone carriage return).
            m if m.is_empty() => "not valid TOML".to_string(),
            m => m,
        };
        (line, col, message)
    })
}
