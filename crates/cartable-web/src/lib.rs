//! The HTTP face of Cartable: server-rendered French pages that work without
//! JavaScript, behind a hardened server loop.
//!
//! - [`router`] builds every route; each handler asks the policy before acting.
//! - [`server::serve`] runs it with header-read timeouts, a per-IP connection
//!   cap and an accept loop that survives running out of file descriptors.

pub mod admission;
mod csrf;
mod error;
mod extract;
mod layout;
pub mod metrics;
mod middleware;
pub mod ratelimit;
mod routes;
pub mod server;
mod state;
pub mod upload;

pub use state::{AppState, WebConfig};

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::timeout::TimeoutLayer;

/// Largest form body (login, password, small admin forms).
pub const FORM_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    use routes::*;
    let import_limit = cartable_app::import::MAX_IMPORT_BYTES + 64 * 1024;
    // The streaming reader enforces the per-file caps; this bounds the whole body.
    let upload_limit =
        messages::attachment_limits(&state.app.config).max_total_bytes as usize + 256 * 1024;
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/connexion", get(auth::login_page).post(auth::login))
        .route("/deconnexion", post(auth::logout))
        .route("/activation", get(auth::activate_page).post(auth::activate))
        .route(
            "/compte",
            get(auth::account_page).post(auth::change_password),
        )
        .route("/classes/{id}", get(school::class_page))
        .route("/classes/{id}/eleves", get(school::class_roster))
        .route("/personnes/{id}", get(school::person_page))
        .route("/admin/personnes", get(admin::people))
        .route("/admin/classes", get(admin::classes))
        .route("/admin/import/{draft}/appliquer", post(admin::import_apply))
        .route(
            "/admin/codes",
            get(admin::codes_page).post(admin::issue_codes),
        )
        .route(
            "/admin/personnes/{id}/reinitialiser",
            post(admin::reset_password),
        )
        .route("/admin/personnes/{id}/desactiver", post(admin::disable))
        .route("/admin/personnes/{id}/reactiver", post(admin::enable))
        .route("/admin/journal", get(admin::audit_log))
        .route(
            "/admin/messagerie",
            get(admin::messaging).post(admin::set_messaging_rules),
        )
        .route("/messages/nouveau", get(messages::compose_page))
        .route("/messages/{id}", get(messages::show))
        .route("/actualites/nouvelle", get(news::new_page))
        .route("/actualites/{id}", get(news::show))
        .route("/actualites/{id}/supprimer", post(news::delete))
        .route("/carnet/nouveau", get(notes::new_page))
        .route("/carnet/{id}", get(notes::show))
        .route("/carnet/{id}/signer", post(notes::sign))
        .route("/carnet/{id}/relancer", post(notes::remind))
        .route("/cahier", get(lessons::index))
        .route("/cahier/classes/{id}/charge", get(lessons::workload))
        .route("/cahier/classes/{id}/nouvelle", get(lessons::new_page))
        .route("/cahier/seances/{id}", get(lessons::show))
        .route(
            "/cahier/seances/{id}/modifier",
            get(lessons::edit_page).post(lessons::edit),
        )
        .route("/cahier/seances/{id}/supprimer", post(lessons::delete))
        .route(
            "/cahier/seances/{id}/fichiers/{file}/supprimer",
            post(lessons::remove_file),
        )
        .route("/cahier/groupes/{id}/charge", get(lessons::group_workload))
        .route(
            "/cahier/groupes/{id}/nouvelle",
            get(lessons::group_new_page),
        )
        .route(
            "/cahier/groupes/{id}/devoir-a-rendre",
            get(assignments::group_new_page),
        )
        .route("/devoirs", get(lessons::due))
        .route("/devoirs-a-rendre", get(assignments::list))
        .route("/documents", get(documents::index))
        .route("/documents/classes/{id}", get(documents::class_space))
        .route("/documents/personnel", get(documents::personal_space))
        .route("/documents/dossiers/{id}", get(documents::folder))
        .route(
            "/documents/dossiers/{id}/dossiers",
            post(documents::new_folder),
        )
        .route(
            "/documents/dossiers/{id}/fichiers/{file}/supprimer",
            post(documents::delete_file),
        )
        .route(
            "/compte/calendrier",
            get(calendar::page).post(calendar::create),
        )
        .route("/compte/calendrier/supprimer", post(calendar::revoke))
        .route("/calendrier/{file}", get(calendar::feed))
        .route(
            "/cahier/classes/{id}/devoir-a-rendre",
            get(assignments::new_page),
        )
        .route(
            "/rendus/{id}/retour/{pupil}",
            post(assignments::give_feedback),
        )
        .route("/rendus/{id}/tout.zip", get(assignments::download_all))
        .route("/devoirs/{id}/fait", post(lessons::mark_done))
        .route("/operateur", get(operator::schools))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(status::metrics))
        .route("/etat", get(status::status_page))
        .route("/static/app.css", get(health::stylesheet))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ));
    // Uploads and downloads of files: a pupil on a slow connection needs more
    // than 30 s for 10 MB. Each file is still capped while it streams.
    let transfers = Router::new()
        .route(
            "/admin/import",
            get(admin::import_page)
                .post(admin::import_preview)
                .layer(DefaultBodyLimit::max(import_limit)),
        )
        .route("/messages", get(messages::inbox).post(messages::send))
        .route("/messages/{id}/repondre", post(messages::reply))
        .route("/actualites", get(news::list).post(news::publish))
        .route("/carnet", get(notes::list).post(notes::send))
        .route(
            "/cahier/classes/{id}",
            get(lessons::week).post(lessons::create),
        )
        .route(
            "/cahier/classes/{id}/devoirs-a-rendre",
            post(assignments::create),
        )
        .route(
            "/cahier/groupes/{id}",
            get(lessons::group_week).post(lessons::group_create),
        )
        .route(
            "/cahier/groupes/{id}/devoirs-a-rendre",
            post(assignments::group_create),
        )
        .route("/cahier/seances/{id}/fichiers", post(lessons::add_files))
        .route("/rendus/{id}", get(assignments::show))
        .route("/rendus/{id}/rendre", post(assignments::hand_in))
        .route("/documents/dossiers/{id}/fichiers", post(documents::upload))
        .route("/pieces-jointes/{id}", get(messages::download))
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(600),
        ));
    pages
        .merge(transfers)
        .fallback(health::not_found)
        // Inside the CSRF cookie layer: tickets are bound to that cookie.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admission::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::ensure_cookie,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            extract::renew_session_cookie,
        ))
        .layer(axum::middleware::from_fn(middleware::refuse_nul_in_address))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}
