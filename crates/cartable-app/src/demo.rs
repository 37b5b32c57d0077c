//! The demo school that `cartable demo` seeds: a small collège with three
//! classes, pupils, their parents, teachers, a vie scolaire and an
//! administrator. It goes in through the real roster import, so the demo
//! shows what an import makes.

use cartable_domain::roster::RosterKind;
use cartable_domain::Role;
use cartable_store::School;

use crate::auth::ClientInfo;
use crate::{App, AppError};

pub const DEMO_UAI: &str = "0000001D";
pub const DEMO_SCHOOL: &str = "Collège Jean Moulin (démo)";
/// The password of every demo account. Demo data only: a real school's
/// people choose theirs through their activation code.
pub const DEMO_PASSWORD: &str = "demo-cartable-2026";

const PUPILS_CSV: &[u8] = include_bytes!("../demo/eleves.csv");
const TEACHERS_CSV: &[u8] = include_bytes!("../demo/enseignants.csv");

/// One line of the printed list of demo logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    pub role: Role,
    pub login: String,
    pub name: String,
}

/// Seeds the demo school unless it exists, and returns its logins.
pub async fn ensure_demo_school(app: &App) -> Result<(School, Vec<DemoLogin>), AppError> {
    let school = match app.store.school_by_uai(DEMO_UAI).await? {
        Some(s) => s,
        None => seed(app).await?,
    };
    let mut logins: Vec<DemoLogin> = app
        .store
        .people(school.id, None)
        .await?
        .into_iter()
        .map(|p| DemoLogin {
            role: p.role,
            name: p.display_name(),
            login: p.login,
        })
        .collect();
    logins.sort_by_key(|l| l.role == Role::Pupil);
    logins.sort_by_key(|l| order(l.role));
    Ok((school, logins))
}

fn order(role: Role) -> u8 {
    match role {
        Role::Pupil => 0,
        Role::Parent => 1,
        Role::Teacher => 2,
        Role::Staff => 3,
        Role::SchoolAdmin => 4,
        Role::Operator => 5,
    }
}

async fn seed(app: &App) -> Result<School, AppError> {
    let school = app.create_school(DEMO_SCHOOL, DEMO_UAI).await?;
    let system = ClientInfo::default();
    for (bytes, kind) in [
        (PUPILS_CSV, RosterKind::Pupils),
        (TEACHERS_CSV, RosterKind::Teachers),
    ] {
        let plan = app.plan_roster(school.id, bytes, Some(kind)).await?;
        app.apply_roster_plan(school.id, &plan, None, &system)
            .await?;
    }
    app.create_account(Some(school.id), Role::Staff, "Nadia", "Benali", None)
        .await?;
    app.create_account(Some(school.id), Role::SchoolAdmin, "Michel", "Roux", None)
        .await?;
    // One hash, reused: the demo seeds in a second instead of thirty.
    let hash = app.hasher.hash(DEMO_PASSWORD.to_string()).await?;
    for person in app.store.people(school.id, None).await? {
        app.store
            .set_password(person.id, Some(&hash), app.now())
            .await?;
    }
    Ok(school)
}
