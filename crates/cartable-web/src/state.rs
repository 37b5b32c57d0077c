use std::net::IpAddr;
use std::sync::Arc;

use cartable_app::App;

use crate::admission::Admission;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimits;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Set the `Secure` flag on cookies (when served over HTTPS, directly or
    /// behind a proxy).
    pub cookie_secure: bool,
    /// Proxies whose `X-Forwarded-For` is believed (a load balancer in front).
    pub trusted_proxies: Vec<IpAddr>,
    /// Key for CSRF tokens; random per process unless given (several nodes
    /// behind one balancer must share it).
    pub secret_key: [u8; 32],
    /// The waiting room at the door (on unless switched off for a comparison).
    pub admission: bool,
    /// Bearer token that lets a scraper on another machine read `/metrics`
    /// (the machine itself always may).
    pub metrics_token: Option<String>,
    /// People let in per second, fixed: for tests and benchmarks only (an
    /// operator leaves it unset and the node measures its capacity).
    pub admission_rate: Option<f64>,
    /// Rate limits per account and address (on unless a test replays a
    /// corpus through one account).
    pub rate_limits: bool,
}

impl WebConfig {
    pub fn with_random_key() -> WebConfig {
        WebConfig {
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            secret_key: rand::random(),
            admission: true,
            metrics_token: None,
            admission_rate: None,
            rate_limits: true,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebConfig>,
    pub admission: Arc<Admission>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// Starts the admission probe when called inside a Tokio runtime.
    pub fn new(app: App, web: WebConfig) -> AppState {
        let admission = Arc::new(Admission::new(
            web.admission,
            &app.hasher,
            web.admission_rate,
        ));
        Admission::spawn_probe(&admission, app.hasher.clone());
        AppState {
            app,
            admission,
            metrics: Arc::default(),
            limits: Arc::new(if web.rate_limits {
                RateLimits::default()
            } else {
                RateLimits::off()
            }),
            web: Arc::new(web),
        }
    }
}
