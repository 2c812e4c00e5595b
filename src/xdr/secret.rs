//! A string that must never be printed: the client password or an access token.

use std::fmt;

/// A secret string. `Debug` prints `<redacted>` and there is no `Display`, so
/// a secret cannot reach a log line or an error message by formatting.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Returns the secret itself, for the one place that puts it in a header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Replaces every occurrence of each non-empty secret in `text` with
/// `<redacted>`. Server text goes through this before it reaches a message.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if secret.0.len() >= 4 {
            out = out.replace(&secret.0, "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_value() {
        let secret = Secret::new("hunter2-password");
        assert_eq!(format!("{secret:?}"), "<redacted>");
    }

    #[test]
    fn redact_removes_every_copy() {
        let secret = Secret::new("tok-123456");
        let text = redact("a tok-123456 b tok-123456", &[&secret]);
        assert_eq!(text, "a <redacted> b <redacted>");
    }
}
