//! What every page's frame needs: title, who is signed in, the CSRF token for
//! the logout button and any form, and a one-line notice.

use cartable_app::auth::CurrentSession;
use cartable_domain::Role;

pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub user: Option<NavUser>,
    pub notice: Option<String>,
}

pub struct NavUser {
    pub name: String,
    pub role_label: &'static str,
    pub is_school_manager: bool,
    pub is_operator: bool,
    /// Pupils and parents: homework rather than the cahier de textes.
    pub is_family: bool,
}

impl Layout {
    pub fn anonymous(title: impl Into<String>, csrf: &str) -> Layout {
        Layout {
            title: title.into(),
            csrf: csrf.to_string(),
            user: None,
            notice: None,
        }
    }

    pub fn signed_in(title: impl Into<String>, csrf: &str, session: &CurrentSession) -> Layout {
        let role = session.actor.role;
        Layout {
            title: title.into(),
            csrf: csrf.to_string(),
            user: Some(NavUser {
                name: session.user.display_name(),
                role_label: role.label_fr(),
                is_school_manager: matches!(role, Role::SchoolAdmin | Role::Staff),
                is_operator: role == Role::Operator,
                is_family: matches!(role, Role::Pupil | Role::Parent),
            }),
            notice: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Layout {
        self.notice = notice;
        self
    }
}
