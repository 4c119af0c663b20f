//! `GET /metrics`: Prometheus's text format, read from the database at scrape time so every
//! replica reports the same numbers (the pipeline's state lives in PostgreSQL, not in processes).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Scrapes the pipeline's gauges; 503 when the database cannot be read.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match kea_store::pipeline::gauges(&state.db).await {
        Ok(g) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&g)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// A label value with `\`, `"` and newlines escaped as the format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// A gauge family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

/// The gauges in the exposition format.
pub fn render(g: &kea_store::pipeline::PipelineGauges) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "kea_jobs",
        "Background jobs by type and apalis status.",
    );
    for (job_type, status, count, _) in &g.jobs {
        let _ = writeln!(
            out,
            "kea_jobs{{job_type=\"{}\",status=\"{}\"}} {count}",
            label(job_type),
            label(status)
        );
    }
    family(
        &mut out,
        "kea_jobs_dead",
        "Jobs in the dead-letter state (failed every attempt, or killed).",
    );
    let mut dead: Vec<(&str, i64)> = Vec::new();
    for (job_type, _, _, d) in &g.jobs {
        match dead.iter_mut().find(|(t, _)| t == job_type) {
            Some((_, n)) => *n += d,
            None => dead.push((job_type, *d)),
        }
    }
    for (job_type, n) in dead {
        let _ = writeln!(out, "kea_jobs_dead{{job_type=\"{}\"}} {n}", label(job_type));
    }
    family(&mut out, "kea_orders", "Orders by status.");
    for (status, n) in &g.orders {
        let _ = writeln!(out, "kea_orders{{status=\"{}\"}} {n}", label(status));
    }
    family(
        &mut out,
        "kea_tasks_open",
        "Tasks waiting for an agent, by kind.",
    );
    for (kind, n) in &g.open_tasks {
        let _ = writeln!(out, "kea_tasks_open{{kind=\"{}\"}} {n}", label(kind));
    }
    family(&mut out, "kea_workers", "Agents by activity.");
    for (activity, n) in &g.workers {
        let _ = writeln!(out, "kea_workers{{activity=\"{}\"}} {n}", label(activity));
    }
    out
}

#[cfg(test)]
mod tests {
    use kea_store::pipeline::PipelineGauges;

    use super::*;

    #[test]
    fn renders_each_family_with_escaped_labels() {
        let g = PipelineGauges {
            jobs: vec![
                ("push_order_to_pos".into(), "Done".into(), 7, 0),
                ("push_order_to_pos".into(), "Failed".into(), 2, 1),
                ("weird\"type".into(), "Done".into(), 1, 0),
            ],
            orders: vec![("sent_to_pos".into(), 7)],
            open_tasks: vec![("callback".into(), 1)],
            workers: vec![("available".into(), 3)],
        };
        let text = render(&g);
        assert!(text.contains("kea_jobs{job_type=\"push_order_to_pos\",status=\"Failed\"} 2\n"));
        assert!(text.contains("kea_jobs_dead{job_type=\"push_order_to_pos\"} 1\n"));
        assert!(text.contains("kea_jobs{job_type=\"weird\\\"type\",status=\"Done\"} 1\n"));
        assert!(text.contains("kea_orders{status=\"sent_to_pos\"} 7\n"));
        assert!(text.contains("kea_tasks_open{kind=\"callback\"} 1\n"));
        assert!(text.contains("kea_workers{activity=\"available\"} 3\n"));
        for family in [
            "kea_jobs",
            "kea_jobs_dead",
            "kea_orders",
            "kea_tasks_open",
            "kea_workers",
        ] {
            assert!(
                text.contains(&format!("# TYPE {family} gauge\n")),
                "{family}"
            );
        }
    }
}
