//! The drill's outputs: the JSON figures of a run, the data kept to draw it,
//! and the self-contained HTML report (inline SVG, no script, no CDN).
//! Several runs (scenarios) can be put in one report.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::record::{Percentiles, Snapshot};

/// The figures of a load run; serialized, it is the last line of stdout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    /// As told by `--admission` (the drill cannot see the server's switch).
    pub admission: String,
    pub label: String,
    pub journeys: u64,
    pub completed: u64,
    /// Journeys given up (an error they could not get past).
    pub failed: u64,
    /// Journeys still going at the hard stop.
    pub cut: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub limited: u64,
    pub reloads: u64,
    /// Visitors who went through the waiting room.
    pub waited: u64,
    /// Password logins (visitors who came through the door).
    pub gated: u64,
    pub p50_ms: BTreeMap<String, f64>,
    pub p90_ms: BTreeMap<String, f64>,
    pub p99_ms: BTreeMap<String, f64>,
    pub requests: u64,
    pub cpu_ms_per_request: Option<f64>,
    pub server_cpu_s: Option<f64>,
    /// The drill's own CPU over the run: on a shared box, what it took from
    /// the server.
    #[serde(default)]
    pub drill_cpu_s: Option<f64>,
    pub server_peak_rss_mb: Option<f64>,
    pub out_of_order_ratio: Option<f64>,
    /// The same, on the moment the login succeeded (meaningful without admission control).
    pub login_out_of_order_ratio: Option<f64>,
    pub eta_median_error: Option<f64>,
    /// Signed median of (shown − real) / real: above 0, waits were overestimated.
    #[serde(default)]
    pub eta_median_bias: Option<f64>,
    /// Real waits in the waiting room, seconds.
    pub wait_p50_s: Option<f64>,
    pub wait_p99_s: Option<f64>,
    pub wait_max_s: Option<f64>,
    pub first_position_max: Option<f64>,
    /// Seconds from arrival at the door to being let in, per role
    /// (`eleve`, `enseignant`, `parent`): p50 and p90.
    #[serde(default)]
    pub door_s_p50_by_role: BTreeMap<String, f64>,
    #[serde(default)]
    pub door_s_p90_by_role: BTreeMap<String, f64>,
    pub handins: u64,
    pub messages: u64,
    pub without_attachment: u64,
    pub pupils: u64,
    pub with_session: u64,
    pub duration_s: f64,
    pub wall_s: f64,
    pub arrivals_peak_per_s: f64,
    pub hash_rate_per_s: Option<f64>,
    /// How long requests waited for one of the drill's own slots (the drill
    /// being the bottleneck shows here).
    pub client_slot_wait_max_ms: f64,
    pub client_slot_wait_mean_ms: f64,
    pub nproc: usize,
    pub load_avg_start: String,
    pub load_avg_end: String,
}

/// Micro figures (`--scenario cost`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CostFigures {
    pub scenario: String,
    pub admission: String,
    pub requests_each: u64,
    pub connections: u64,
    /// Distinct pupils whose home pages were taken in turn.
    #[serde(default)]
    pub home_pupils: u64,
    pub home_cpu_ms_per_request: f64,
    pub healthz_cpu_ms_per_request: f64,
    pub home_to_healthz_ratio: f64,
    pub home_p50_ms: f64,
    pub healthz_p50_ms: f64,
    pub logins: u64,
    pub login_cpu_ms: f64,
    pub hash_cpu_ms: f64,
    pub login_minus_hash_ms: f64,
    /// The server's hashing threads' CPU per login, and the rest of the
    /// server's CPU per login (both read from the server's threads).
    #[serde(default)]
    pub login_server_hash_ms: f64,
    #[serde(default)]
    pub login_besides_hash_ms: f64,
    pub hash_params: String,
    pub clk_tck: f64,
    pub nproc: usize,
    pub load_avg_start: String,
    pub load_avg_end: String,
}

/// The series of a load run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Series {
    pub bucket_s: f64,
    pub pages: BTreeMap<String, Vec<Option<Percentiles>>>,
    pub errors: Vec<u64>,
    pub limited: Vec<u64>,
    pub reloads: Vec<u64>,
    pub snapshots: Vec<Snapshot>,
    pub page_totals: BTreeMap<String, Percentiles>,
    pub errors_by_page: BTreeMap<String, u64>,
    pub error_examples: Vec<String>,
}

/// Everything a run leaves for the report (`--data`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunData {
    pub summary: Option<Summary>,
    pub series: Option<Series>,
    pub cost: Option<CostFigures>,
    pub notes: Vec<String>,
}

const COLORS: [&str; 11] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#000000",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round step for about `n` ticks over `span`.
fn nice_step(span: f64, n: f64) -> f64 {
    if span <= 0.0 {
        return 1.0;
    }
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// An axis tick: no useless decimals.
fn fmt_tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// One named line of a chart.
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart as inline SVG. `log_y`: a logarithmic y axis (latencies).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
    log_y: bool,
) -> String {
    let (w, ml, mr, mb) = (880.0, 64.0, 16.0, 42.0);
    // The legend wraps: one row per 14 px above the plot.
    let mut legend = Vec::with_capacity(lines.len());
    let (mut lx, mut row) = (ml, 0.0);
    for line in lines {
        let width = 13.0 + 6.5 * line.name.chars().count() as f64 + 14.0;
        if lx + width > w - mr && lx > ml {
            lx = ml;
            row += 1.0;
        }
        legend.push((lx, 22.0 + row * 14.0));
        lx += width;
    }
    let mt = 40.0 + row * 14.0;
    let h = 260.0 + mt;
    let pw = w - ml - mr;
    let ph = h - mt - mb;
    let all: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|l| l.points.iter().copied())
        .collect();
    let x_max = all.iter().map(|p| p.0).fold(1.0f64, f64::max);
    let y_of = |v: f64| if log_y { v.max(0.1).log10() } else { v };
    let (mut y_min, mut y_max) = if log_y {
        let lo = all.iter().map(|p| y_of(p.1)).fold(f64::INFINITY, f64::min);
        let hi = all
            .iter()
            .map(|p| y_of(p.1))
            .fold(f64::NEG_INFINITY, f64::max);
        (lo.floor().min(0.0), hi.ceil().max(1.0))
    } else {
        (0.0, all.iter().map(|p| p.1).fold(1.0f64, f64::max) * 1.05)
    };
    if y_max <= y_min {
        y_max = y_min + 1.0;
    }
    if !y_min.is_finite() {
        y_min = 0.0;
    }
    let sx = |x: f64| ml + x / x_max * pw;
    let sy = |y: f64| mt + ph - (y_of(y) - y_min) / (y_max - y_min) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" font-family="sans-serif" font-size="11">"#,
        t = esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{ml}" y="14" font-size="13" font-weight="bold">{}</text>"#,
        esc(title)
    );
    // Axes and grid.
    let _ = write!(
        s,
        r##"<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>"##
    );
    let xs = nice_step(x_max, 8.0);
    let mut x = 0.0;
    while x <= x_max + 1e-9 {
        let px = sx(x);
        let _ = write!(
            s,
            r##"<line x1="{px:.1}" y1="{mt}" x2="{px:.1}" y2="{y2}" stroke="#eee"/><text x="{px:.1}" y="{ty}" text-anchor="middle">{}</text>"##,
            fmt_tick(x),
            y2 = mt + ph,
            ty = mt + ph + 14.0
        );
        x += xs;
    }
    if log_y {
        let mut e = y_min;
        while e <= y_max + 1e-9 {
            let py = mt + ph - (e - y_min) / (y_max - y_min) * ph;
            let _ = write!(
                s,
                r##"<line x1="{ml}" y1="{py:.1}" x2="{x2}" y2="{py:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"##,
                fmt_tick(10f64.powf(e)),
                x2 = ml + pw,
                tx = ml - 4.0,
                ty = py + 4.0
            );
            e += 1.0;
        }
    } else {
        let ys = nice_step(y_max, 5.0);
        let mut y = 0.0;
        while y <= y_max + 1e-9 {
            let py = sy(y);
            let _ = write!(
                s,
                r##"<line x1="{ml}" y1="{py:.1}" x2="{x2}" y2="{py:.1}" stroke="#eee"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"##,
                fmt_tick(y),
                x2 = ml + pw,
                tx = ml - 4.0,
                ty = py + 4.0
            );
            y += ys;
        }
    }
    let _ = write!(
        s,
        r#"<text x="{cx}" y="{by}" text-anchor="middle">{}</text><text transform="translate(12 {cy}) rotate(-90)" text-anchor="middle">{}</text>"#,
        esc(x_label),
        esc(y_label),
        cx = ml + pw / 2.0,
        by = h - 4.0,
        cy = mt + ph / 2.0
    );
    // Lines and legend.
    for (i, (line, &(lx, ly))) in lines.iter().zip(&legend).enumerate() {
        let c = COLORS[i % COLORS.len()];
        if line.points.len() == 1 {
            let (x, y) = line.points[0];
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{c}"/>"#,
                sx(x),
                sy(y)
            );
        } else if !line.points.is_empty() {
            let pts: Vec<String> = line
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = write!(
                s,
                r#"<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{}"/>"#,
                pts.join(" ")
            );
        }
        let _ = write!(
            s,
            r#"<rect x="{lx:.1}" y="{ly:.1}" width="10" height="10" fill="{c}"/><text x="{tx:.1}" y="{ty:.1}">{}</text>"#,
            esc(&line.name),
            tx = lx + 13.0,
            ty = ly + 9.0
        );
    }
    s.push_str("</svg>");
    s
}

fn opt(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{}{unit}", fmt_num(v)),
        None => "—".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{:.2} %", v * 100.0),
        None => "—".into(),
    }
}

fn run_title(s: &Summary) -> String {
    let adm = if s.admission.is_empty() {
        String::new()
    } else {
        format!(", admission control {}", s.admission)
    };
    if s.label.is_empty() {
        format!("Scenario {}{adm}", s.scenario)
    } else {
        format!("{} ({}{adm})", s.label, s.scenario)
    }
}

fn summary_rows(s: &Summary) -> Vec<(String, String)> {
    let mut rows = vec![
        ("pupils (journeys)".to_string(), s.journeys.to_string()),
        ("completed".into(), s.completed.to_string()),
        (
            "failed / cut at the hard stop".into(),
            format!("{} / {}", s.failed, s.cut),
        ),
        (
            "errors (5xx, timeout, reset, unexpected)".into(),
            format!(
                "{} {}",
                s.errors,
                if s.errors_by_kind.is_empty() {
                    String::new()
                } else {
                    format!(
                        "({})",
                        s.errors_by_kind
                            .iter()
                            .map(|(k, v)| format!("{k}: {v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        ),
        ("limited (429)".into(), s.limited.to_string()),
        ("reloads (page over 10 s)".into(), s.reloads.to_string()),
        (
            "password logins / went through the waiting room".into(),
            format!("{} / {}", s.gated, s.waited),
        ),
        (
            "real wait p50 / p99 / max".into(),
            format!(
                "{} / {} / {}",
                opt(s.wait_p50_s, " s"),
                opt(s.wait_p99_s, " s"),
                opt(s.wait_max_s, " s")
            ),
        ),
        (
            "out of order (admission; login)".into(),
            format!(
                "{}; {}",
                pct(s.out_of_order_ratio),
                pct(s.login_out_of_order_ratio)
            ),
        ),
        (
            "time at the door p50 / p90, per role".into(),
            s.door_s_p50_by_role
                .iter()
                .map(|(role, p50)| {
                    let p90 = s.door_s_p90_by_role.get(role).copied().unwrap_or(f64::NAN);
                    format!("{role} {p50:.1} / {p90:.1} s")
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (
            "median error of the first shown wait (signed: + overestimated)".into(),
            format!("{} ({})", pct(s.eta_median_error), pct(s.eta_median_bias)),
        ),
        (
            "server CPU per request".into(),
            opt(s.cpu_ms_per_request, " ms"),
        ),
        ("server CPU total".into(), opt(s.server_cpu_s, " s")),
        ("the drill's own CPU".into(), opt(s.drill_cpu_s, " s")),
        (
            "server peak memory (VmHWM)".into(),
            opt(s.server_peak_rss_mb, " MiB"),
        ),
        ("requests sent".into(), s.requests.to_string()),
        (
            "hand-ins / messages".into(),
            format!("{} / {}", s.handins, s.messages),
        ),
        (
            "arrivals: over / peak rate".into(),
            format!(
                "{} s / {} per s",
                fmt_num(s.duration_s),
                fmt_num(s.arrivals_peak_per_s)
            ),
        ),
        (
            "measured hash capacity".into(),
            opt(s.hash_rate_per_s, " logins/s"),
        ),
        ("wall time".into(), format!("{} s", fmt_num(s.wall_s))),
        (
            "drill's own slot wait: max / mean".into(),
            format!(
                "{} / {} ms",
                fmt_num(s.client_slot_wait_max_ms),
                fmt_num(s.client_slot_wait_mean_ms)
            ),
        ),
        (
            "machine".into(),
            format!(
                "{} CPUs, load {} → {}",
                s.nproc, s.load_avg_start, s.load_avg_end
            ),
        ),
    ];
    if s.without_attachment > 0 {
        rows.push((
            "journeys without an attachment to download".into(),
            s.without_attachment.to_string(),
        ));
    }
    rows
}

fn table(rows: &[(String, String)]) -> String {
    let mut s = String::from("<table class=\"figures\"><tbody>");
    for (k, v) in rows {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    s.push_str("</tbody></table>");
    s
}

fn section_run(s: &Summary, series: Option<&Series>, notes: &[String]) -> String {
    let mut h = String::new();
    let _ = write!(h, "<section><h2>{}</h2>", esc(&run_title(s)));
    for n in notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h.push_str(&table(&summary_rows(s)));
    if let Some(series) = series {
        // Pages table.
        h.push_str("<table class=\"pages\"><thead><tr><th>page</th><th>n</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>");
        for (page, p) in &series.page_totals {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(page),
                p.n,
                fmt_num(p.p50),
                fmt_num(p.p90),
                fmt_num(p.p99),
                fmt_num(p.max)
            );
        }
        h.push_str("</tbody></table>");
        let snaps = &series.snapshots;
        let pick =
            |f: fn(&Snapshot) -> f64| snaps.iter().map(|x| (x.t_s, f(x))).collect::<Vec<_>>();
        h.push_str(&line_chart(
            "People over time",
            "seconds since the start",
            "people",
            &[
                Line {
                    name: "arrived".into(),
                    points: pick(|x| x.arrived as f64),
                },
                Line {
                    name: "admitted (inside)".into(),
                    points: pick(|x| x.inside as f64),
                },
                Line {
                    name: "waiting room".into(),
                    points: pick(|x| x.waiting as f64),
                },
                Line {
                    name: "done".into(),
                    points: pick(|x| x.done as f64),
                },
                Line {
                    name: "failed".into(),
                    points: pick(|x| x.failed as f64),
                },
            ],
            false,
        ));
        let cpu: Vec<(f64, f64)> = snaps
            .iter()
            .filter_map(|x| Some((x.t_s, x.server_cpu_pct?)))
            .collect();
        if !cpu.is_empty() {
            h.push_str(&line_chart(
                "Server CPU",
                "seconds since the start",
                "% of one core",
                &[Line {
                    name: "server CPU".into(),
                    points: cpu,
                }],
                false,
            ));
        }
        let b = series.bucket_s;
        for (q, name) in [(99, "p99"), (50, "p50")] {
            let lines: Vec<Line> = series
                .pages
                .iter()
                .map(|(page, buckets)| Line {
                    name: page.clone(),
                    points: buckets
                        .iter()
                        .enumerate()
                        .filter_map(|(i, p)| {
                            let p = (*p)?;
                            Some(((i as f64 + 0.5) * b, if q == 99 { p.p99 } else { p.p50 }))
                        })
                        .collect(),
                })
                .collect();
            h.push_str(&line_chart(
                &format!("Latency {name} per page, per {} s (log scale)", fmt_num(b)),
                "seconds since the start",
                "ms",
                &lines,
                true,
            ));
        }
        let per = |v: &[u64]| {
            v.iter()
                .enumerate()
                .map(|(i, n)| ((i as f64 + 0.5) * b, *n as f64))
                .collect::<Vec<_>>()
        };
        h.push_str(&line_chart(
            &format!("Errors, limits and reloads per {} s", fmt_num(b)),
            "seconds since the start",
            "count",
            &[
                Line {
                    name: "errors".into(),
                    points: per(&series.errors),
                },
                Line {
                    name: "limited (429)".into(),
                    points: per(&series.limited),
                },
                Line {
                    name: "reloads".into(),
                    points: per(&series.reloads),
                },
            ],
            false,
        ));
        if !series.errors_by_page.is_empty() {
            h.push_str("<h3>Errors by page</h3><ul>");
            for (k, v) in &series.errors_by_page {
                let _ = write!(h, "<li>{}: {v}</li>", esc(k));
            }
            h.push_str("</ul>");
        }
        if !series.error_examples.is_empty() {
            h.push_str("<h3>First errors</h3><pre>");
            for e in &series.error_examples {
                let _ = writeln!(h, "{}", esc(e));
            }
            h.push_str("</pre>");
        }
    }
    h.push_str("</section>");
    h
}

fn section_cost(c: &CostFigures, notes: &[String]) -> String {
    let mut h = String::from("<section><h2>Micro figures (scenario cost)</h2>");
    for n in notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    let rows = vec![
        (
            "requests each, connections, pupils in turn".to_string(),
            format!("{}, {}, {}", c.requests_each, c.connections, c.home_pupils),
        ),
        (
            "pupil's home page: server CPU per request".into(),
            format!("{} ms", fmt_num(c.home_cpu_ms_per_request)),
        ),
        (
            "GET /healthz: server CPU per request".into(),
            format!("{} ms", fmt_num(c.healthz_cpu_ms_per_request)),
        ),
        (
            "ratio home / healthz".into(),
            format!("{:.1}", c.home_to_healthz_ratio),
        ),
        (
            "wall p50: home / healthz".into(),
            format!(
                "{} / {} ms",
                fmt_num(c.home_p50_ms),
                fmt_num(c.healthz_p50_ms)
            ),
        ),
        ("password logins measured".into(), c.logins.to_string()),
        (
            "server CPU per login (POST /connexion)".into(),
            format!("{} ms", fmt_num(c.login_cpu_ms)),
        ),
        (
            "… of which on the server's hashing threads".into(),
            format!("{} ms", fmt_num(c.login_server_hash_ms)),
        ),
        (
            "… besides the hash".into(),
            format!("{} ms", fmt_num(c.login_besides_hash_ms)),
        ),
        (
            format!("Argon2id alone, in the drill's process ({})", c.hash_params),
            format!("{} ms", fmt_num(c.hash_cpu_ms)),
        ),
        (
            "machine".into(),
            format!(
                "{} CPUs, CLK_TCK {}, load {} → {}",
                c.nproc, c.clk_tck, c.load_avg_start, c.load_avg_end
            ),
        ),
    ];
    h.push_str(&table(&rows));
    h.push_str("</section>");
    h
}

/// The comparison table at the top of a report with several runs.
fn overview(runs: &[RunData]) -> String {
    let loads: Vec<&Summary> = runs.iter().filter_map(|r| r.summary.as_ref()).collect();
    if loads.len() < 2 {
        return String::new();
    }
    let mut h = String::from("<section><h2>Side by side</h2><table class=\"pages\"><thead><tr><th>run</th><th>journeys</th><th>completed</th><th>errors</th><th>waited</th><th>limited</th><th>reloads</th><th>p99 home ms</th><th>p99 login ms</th><th>out of order (admission)</th><th>out of order (login)</th><th>ETA error</th><th>CPU ms/req</th><th>peak MiB</th></tr></thead><tbody>");
    for s in loads {
        let p = |k: &str| s.p99_ms.get(k).map_or("—".to_string(), |v| fmt_num(*v));
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&run_title(s)),
            s.journeys,
            s.completed,
            s.errors,
            s.waited,
            s.limited,
            s.reloads,
            p("home"),
            p("login"),
            pct(s.out_of_order_ratio),
            pct(s.login_out_of_order_ratio),
            pct(s.eta_median_error),
            opt(s.cpu_ms_per_request, ""),
            opt(s.server_peak_rss_mb, "")
        );
    }
    h.push_str("</tbody></table></section>");
    h
}

const STYLE: &str = "body{font-family:sans-serif;max-width:920px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}
table.figures th{font-weight:normal;background:#f6f6f6}section{margin:2em 0;border-top:2px solid #444}
.note{color:#555;font-size:13px}svg{display:block;margin:1em 0;max-width:100%;height:auto}pre{font-size:12px;white-space:pre-wrap}";

/// The whole report.
pub fn render(title: &str, intro: &[String], runs: &[RunData]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(title)
    );
    for p in intro {
        let _ = write!(h, "<p>{}</p>", esc(p));
    }
    h.push_str(&overview(runs));
    for r in runs {
        if let Some(c) = &r.cost {
            h.push_str(&section_cost(c, &r.notes));
        }
        if let Some(s) = &r.summary {
            h.push_str(&section_run(s, r.series.as_ref(), &r.notes));
        }
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_self_contained() {
        let summary = Summary {
            scenario: "morning".into(),
            admission: "on".into(),
            journeys: 10,
            completed: 10,
            ..Summary::default()
        };
        let mut pages = BTreeMap::new();
        pages.insert(
            "home".to_string(),
            vec![
                Some(Percentiles {
                    n: 3,
                    p50: 2.0,
                    p90: 3.0,
                    p99: 4.0,
                    max: 5.0,
                }),
                None,
                Some(Percentiles {
                    n: 1,
                    p50: 1.0,
                    p90: 1.0,
                    p99: 1.0,
                    max: 1.0,
                }),
            ],
        );
        let series = Series {
            bucket_s: 10.0,
            pages,
            errors: vec![0, 1, 0],
            limited: vec![0, 0, 0],
            reloads: vec![0, 0, 2],
            snapshots: vec![Snapshot {
                t_s: 1.0,
                arrived: 3,
                ..Snapshot::default()
            }],
            ..Series::default()
        };
        let run = RunData {
            summary: Some(summary),
            series: Some(series),
            cost: Some(CostFigures::default()),
            notes: vec!["a <note>".into()],
        };
        let html = render("Drill", &["intro".into()], &[run.clone(), run]);
        assert!(html.contains("<svg") && html.contains("polyline"));
        assert!(html.contains("a &lt;note&gt;"));
        assert!(!html.contains("<script") && !html.contains("http://c"));
        assert!(html.contains("Side by side"));
        let back: RunData =
            serde_json::from_str(&serde_json::to_string(&RunData::default()).unwrap()).unwrap();
        assert!(back.summary.is_none());
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(100.0, 5.0), 20.0);
        assert_eq!(nice_step(7.0, 8.0), 1.0);
        assert_eq!(nice_step(0.0, 8.0), 1.0);
        assert_eq!(fmt_tick(2.0), "2");
        assert_eq!(fmt_tick(0.25), "0.25");
        assert_eq!(fmt_tick(1000.0), "1000");
    }
}
