//! `/metrics`: Prometheus text exposition format 0.0.4, or OpenMetrics
//! 1.0.0 when the scraper's `Accept` header prefers it. Per-tenant
//! traffic, connections, subscriptions and slow consumers (label
//! `tenant`), leaf node connections and their traffic (label `tenant`),
//! failed logins by reason, and the plugin host's counters.
//!
//! Family names are chosen so that both formats' parsers accept the page:
//! no gauge `X` beside a counter `X_total` (the text parser names the
//! counter's family `X` too) and, in OpenMetrics, a counter's family is
//! declared without its `_total`, which only its samples carry.

use super::observer::{LeafTotalsSnapshot, Observer};
use super::plugins::{LATENCY_BUCKETS, PluginMetrics};
use super::time::since;
use std::fmt::Write;
use std::time::SystemTime;

/// The two exposition formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text` with a quality at least that of
    /// the text format (`text/plain`, else `*/*`), as Prometheus's
    /// default header does; the text format otherwise.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let (mut open_metrics, mut text) = (0.0f32, 0.0f32);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => open_metrics = open_metrics.max(q),
                "text/plain" | "*/*" | "text/*" => text = text.max(q),
                _ => {}
            }
        }
        if open_metrics > 0.0 && open_metrics >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

pub fn render(observer: &dyn Observer, format: Format) -> String {
    let mut out = Exposition {
        text: String::new(),
        format,
    };
    let summary = observer.summary();
    let stats = observer.stats();
    let accounts = observer.accounts();

    out.family("switchyard_info", "gauge", "Server identity; always 1.");
    out.sample(
        "switchyard_info",
        &[
            ("server_id", &summary.server_id),
            ("server_name", &summary.server_name),
            ("version", &summary.version),
            ("switchyard_version", env!("CARGO_PKG_VERSION")),
        ],
        1,
    );
    out.family(
        "switchyard_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
    );
    out.sample(
        "switchyard_uptime_seconds",
        &[],
        since(SystemTime::now(), summary.start).as_secs(),
    );
    out.family(
        "switchyard_client_connections",
        "gauge",
        "Open client connections, logged in or not.",
    );
    out.sample(
        "switchyard_client_connections",
        &[],
        observer.connection_count() as u64,
    );
    out.family(
        "switchyard_client_connections_accepted_total",
        "counter",
        "Client connections accepted since start.",
    );
    out.sample(
        "switchyard_client_connections_accepted_total",
        &[],
        stats.total_connections,
    );

    type Field = fn(&super::observer::AccountSnapshot) -> u64;
    let per_tenant: [(&str, &str, &str, Field); 8] = [
        (
            "switchyard_connections",
            "gauge",
            "Open connections logged in to the tenant.",
            |a| a.connections as u64,
        ),
        (
            "switchyard_logins_total",
            "counter",
            "Connections that logged in to the tenant since start.",
            |a| a.total_connections,
        ),
        (
            "switchyard_subscriptions",
            "gauge",
            "Client subscriptions in the tenant.",
            |a| a.subscriptions as u64,
        ),
        (
            "switchyard_in_msgs_total",
            "counter",
            "Messages published by the tenant's clients.",
            |a| a.traffic.in_msgs,
        ),
        (
            "switchyard_in_bytes_total",
            "counter",
            "Payload bytes (headers included) published by the tenant's clients.",
            |a| a.traffic.in_bytes,
        ),
        (
            "switchyard_out_msgs_total",
            "counter",
            "Messages delivered to the tenant's clients.",
            |a| a.traffic.out_msgs,
        ),
        (
            "switchyard_out_bytes_total",
            "counter",
            "Payload bytes (headers included) delivered to the tenant's clients.",
            |a| a.traffic.out_bytes,
        ),
        (
            "switchyard_slow_consumers_total",
            "counter",
            "The tenant's connections closed as slow consumers.",
            |a| a.slow_consumers,
        ),
    ];
    for (name, kind, help, field) in per_tenant {
        out.family(name, kind, help);
        for a in &accounts {
            out.sample(name, &[("tenant", &a.name)], field(a));
        }
    }

    leaf_metrics(&mut out, &observer.leaf_totals());
    route_metrics(&mut out, observer);

    out.family(
        "switchyard_auth_failures_total",
        "counter",
        "Failed logins by reason (credentials, jwt, revoked, source, account_limit, timeout, busy).",
    );
    for (reason, n) in observer.auth_failures() {
        out.sample("switchyard_auth_failures_total", &[("reason", reason)], n);
    }

    let plugins = observer.plugin_metrics();
    plugin_metrics(&mut out, &plugins);
    if format == Format::OpenMetrics {
        out.text.push_str("# EOF\n");
    }
    out.text
}

/// Leaf node connections by local tenant: how many are open, and what
/// crossed them since start (closed connections included). The families
/// are always declared, so dashboards find them before any leaf connects.
fn leaf_metrics(out: &mut Exposition, leaves: &[LeafTotalsSnapshot]) {
    type Field = fn(&LeafTotalsSnapshot) -> u64;
    let families: [(&str, &str, &str, Field); 5] = [
        (
            "switchyard_leaf_connections",
            "gauge",
            "Open leaf node connections (both ways) bound to the tenant.",
            |l| l.connections as u64,
        ),
        (
            "switchyard_leaf_in_msgs_total",
            "counter",
            "Messages received from leaf node peers.",
            |l| l.traffic.in_msgs,
        ),
        (
            "switchyard_leaf_in_bytes_total",
            "counter",
            "Payload bytes (headers included) received from leaf node peers.",
            |l| l.traffic.in_bytes,
        ),
        (
            "switchyard_leaf_out_msgs_total",
            "counter",
            "Messages sent to leaf node peers.",
            |l| l.traffic.out_msgs,
        ),
        (
            "switchyard_leaf_out_bytes_total",
            "counter",
            "Payload bytes (headers included) sent to leaf node peers.",
            |l| l.traffic.out_bytes,
        ),
    ];
    for (name, kind, help, field) in families {
        out.family(name, kind, help);
        for l in leaves {
            out.sample(name, &[("tenant", &l.tenant)], field(l));
        }
    }
}

/// Cluster routes: how many are open, and what crossed them since start
/// (closed routes included).
fn route_metrics(out: &mut Exposition, observer: &dyn Observer) {
    let open = observer.routes(false).len() as u64;
    let t = observer.route_traffic();
    let families: [(&str, &str, &str, u64); 5] = [
        ("switchyard_routes", "gauge", "Open cluster routes.", open),
        (
            "switchyard_route_in_msgs_total",
            "counter",
            "Messages received from cluster peers.",
            t.in_msgs,
        ),
        (
            "switchyard_route_in_bytes_total",
            "counter",
            "Payload bytes (headers included) received from cluster peers.",
            t.in_bytes,
        ),
        (
            "switchyard_route_out_msgs_total",
            "counter",
            "Messages sent to cluster peers.",
            t.out_msgs,
        ),
        (
            "switchyard_route_out_bytes_total",
            "counter",
            "Payload bytes (headers included) sent to cluster peers.",
            t.out_bytes,
        ),
    ];
    for (name, kind, help, value) in families {
        out.family(name, kind, help);
        out.sample(name, &[], value);
    }
}

/// Plugin counters and call latency; the families are always declared so
/// dashboards find them before any plugin is loaded.
fn plugin_metrics(out: &mut Exposition, plugins: &[PluginMetrics]) {
    type Field = fn(&PluginMetrics) -> u64;
    let counters: [(&str, &str, Field); 6] = [
        ("switchyard_plugin_calls_total", "Plugin calls.", |p| {
            p.calls
        }),
        (
            "switchyard_plugin_errors_total",
            "Errors plugins reported.",
            |p| p.errors,
        ),
        (
            "switchyard_plugin_traps_total",
            "Plugin traps (each discards the instance).",
            |p| p.traps,
        ),
        (
            "switchyard_plugin_timeouts_total",
            "Plugin calls stopped at their deadline.",
            |p| p.timeouts,
        ),
        (
            "switchyard_plugin_output_lines_total",
            "Lines plugins wrote to stdout and stderr.",
            |p| p.output_lines,
        ),
        (
            "switchyard_plugin_output_suppressed_total",
            "Plugin output lines the rate limit kept out of the log.",
            |p| p.output_suppressed,
        ),
    ];
    for (name, help, field) in counters {
        out.family(name, "counter", help);
        for p in plugins {
            out.sample(
                name,
                &[("tenant", &p.tenant), ("plugin", &p.plugin)],
                field(p),
            );
        }
    }
    let name = "switchyard_plugin_call_duration_seconds";
    out.family(name, "histogram", "Plugin call latency.");
    for p in plugins {
        let labels = [("tenant", p.tenant.as_str()), ("plugin", p.plugin.as_str())];
        for (bound, count) in LATENCY_BUCKETS.iter().zip(p.latency.counts) {
            let le = format!("{}", bound.as_secs_f64());
            out.sample(
                &format!("{name}_bucket"),
                &[labels[0], labels[1], ("le", &le)],
                count,
            );
        }
        out.sample(
            &format!("{name}_bucket"),
            &[labels[0], labels[1], ("le", "+Inf")],
            p.latency.count,
        );
        out.sample_f64(&format!("{name}_sum"), &labels, p.latency.sum.as_secs_f64());
        out.sample(&format!("{name}_count"), &labels, p.latency.count);
    }
}

/// Builds the text: `# HELP` and `# TYPE` once per family, then samples.
struct Exposition {
    text: String,
    format: Format,
}

impl Exposition {
    /// Declares a family by the name of its samples (a counter's with its
    /// `_total`).
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let name = match self.format {
            Format::OpenMetrics if kind == "counter" => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        let help = escape_help(help, self.format);
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.labels(name, labels);
        let _ = writeln!(self.text, " {value}");
    }

    fn sample_f64(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.labels(name, labels);
        let _ = writeln!(self.text, " {value}");
    }

    fn labels(&mut self, name: &str, labels: &[(&str, &str)]) {
        self.text.push_str(name);
        if labels.is_empty() {
            return;
        }
        self.text.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
        }
        self.text.push('}');
    }
}

/// Label values escape backslash, double quote and newline.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text escapes backslash and newline (OpenMetrics: double quote
/// too).
fn escape_help(v: &str, format: Format) -> String {
    let v = v.replace('\\', "\\\\").replace('\n', "\\n");
    match format {
        Format::Text => v,
        Format::OpenMetrics => v.replace('"', "\\\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_the_format_from_accept() {
        let prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text")),
            Format::OpenMetrics
        );
        assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
        assert_eq!(
            Format::negotiate(Some("text/plain;q=0.9, application/openmetrics-text;q=0.5")),
            Format::Text
        );
        assert_eq!(Format::negotiate(None), Format::Text);
    }

    #[test]
    fn open_metrics_counter_families_drop_total() {
        let mut e = Exposition {
            text: String::new(),
            format: Format::OpenMetrics,
        };
        e.family("x_total", "counter", "say \"hi\"");
        assert_eq!(e.text, "# HELP x say \\\"hi\\\"\n# TYPE x counter\n");
    }

    #[test]
    fn escapes_label_values() {
        let mut e = Exposition {
            text: String::new(),
            format: Format::Text,
        };
        e.sample("m", &[("tenant", "a\"b\\c\nd")], 3);
        assert_eq!(e.text, "m{tenant=\"a\\\"b\\\\c\\nd\"} 3\n");
    }
}
