//! The `Prefer` header: [`Preferences`], parsed from it and echoed in `Preference-Applied`.

use axum::http::HeaderMap;

use super::types::{CountPref, Resolution, ReturnPref};

/// The preferences of the `Prefer` header kea honours (the first of each kind wins, as in
/// PostgREST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preferences {
    /// `count=…`.
    pub count: Option<CountPref>,
    /// `return=…`.
    pub representation: Option<ReturnPref>,
    /// `resolution=…`.
    pub resolution: Option<Resolution>,
    /// `missing=default` (`Some(true)`) or `missing=null`.
    pub missing_default: Option<bool>,
    /// `tx=rollback` (`Some(true)`) or `tx=commit`.
    pub rollback: Option<bool>,
}

impl Preferences {
    /// Parses every `Prefer` header.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut p = Preferences::default();
        let items = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim);
        for item in items {
            match item {
                "count=exact" => p.count = p.count.or(Some(CountPref::Exact)),
                "count=planned" => p.count = p.count.or(Some(CountPref::Planned)),
                "count=estimated" => p.count = p.count.or(Some(CountPref::Estimated)),
                "return=minimal" => {
                    p.representation = p.representation.or(Some(ReturnPref::Minimal))
                }
                "return=headers-only" => {
                    p.representation = p.representation.or(Some(ReturnPref::HeadersOnly));
                }
                "return=representation" => {
                    p.representation = p.representation.or(Some(ReturnPref::Representation));
                }
                "resolution=merge-duplicates" => {
                    p.resolution = p.resolution.or(Some(Resolution::MergeDuplicates));
                }
                "resolution=ignore-duplicates" => {
                    p.resolution = p.resolution.or(Some(Resolution::IgnoreDuplicates));
                }
                "missing=default" => p.missing_default = p.missing_default.or(Some(true)),
                "missing=null" => p.missing_default = p.missing_default.or(Some(false)),
                "tx=rollback" => p.rollback = p.rollback.or(Some(true)),
                "tx=commit" => p.rollback = p.rollback.or(Some(false)),
                _ => {}
            }
        }
        p
    }

    /// The `Preference-Applied` value for the preferences an action honoured, in PostgREST's
    /// order (resolution, missing, return, count, tx); `None` when there is none.
    pub fn applied(&self, resolution: bool, missing: bool, representation: bool) -> Option<String> {
        let mut v: Vec<&str> = Vec::new();
        if resolution && let Some(r) = self.resolution {
            v.push(match r {
                Resolution::MergeDuplicates => "resolution=merge-duplicates",
                Resolution::IgnoreDuplicates => "resolution=ignore-duplicates",
            });
        }
        if missing && let Some(m) = self.missing_default {
            v.push(if m { "missing=default" } else { "missing=null" });
        }
        if representation && let Some(r) = self.representation {
            v.push(match r {
                ReturnPref::Minimal => "return=minimal",
                ReturnPref::HeadersOnly => "return=headers-only",
                ReturnPref::Representation => "return=representation",
            });
        }
        if let Some(c) = self.count {
            v.push(match c {
                CountPref::Exact => "count=exact",
                CountPref::Planned => "count=planned",
                CountPref::Estimated => "count=estimated",
            });
        }
        if let Some(r) = self.rollback {
            v.push(if r { "tx=rollback" } else { "tx=commit" });
        }
        (!v.is_empty()).then(|| v.join(", "))
    }
}
