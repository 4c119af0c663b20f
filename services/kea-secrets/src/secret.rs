//! [`Secret`]: a value that never shows up in logs or error messages by accident.

use std::fmt;

/// A secret value whose `Debug` and `Display` print `[redacted]`.
///
/// Use [`Secret::expose`] at the one place the value is needed (a header, a signature key), so
/// a `?secret` in a log line or a `{:?}` of a config struct cannot leak it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself; keep what you do with it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([redacted])");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn redacted_inside_derived_debug() {
        #[derive(Debug)]
        #[expect(dead_code, reason = "only read through Debug")]
        struct Config {
            token: Secret,
        }
        let shown = format!(
            "{:?}",
            Config {
                token: Secret::new("hunter2".to_owned())
            }
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
