use std::net::IpAddr;
use std::sync::Arc;

use cartable_app::App;

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
}

impl WebConfig {
    pub fn with_random_key() -> WebConfig {
        WebConfig {
            cookie_secure: false,
            trusted_proxies: Vec::new(),
            secret_key: rand::random(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebConfig>,
}

impl AppState {
    pub fn new(app: App, web: WebConfig) -> AppState {
        AppState {
            app,
            web: Arc::new(web),
        }
    }
}
