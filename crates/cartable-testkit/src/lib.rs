//! Test helpers: the real server on 127.0.0.1:0 with a fresh database per
//! test, a browser-like HTTP client (cookies, CSRF tokens, no automatic
//! redirects), and a two-school fixture.

pub mod matrix;

use std::net::SocketAddr;
use std::sync::Arc;

use cartable_app::blobs::FsBlobStore;
use cartable_app::clock::ManualClock;
use cartable_app::hashing::{HashCost, HashPool};
use cartable_app::{App, AppConfig};
use cartable_domain::names::{BirthDate, ClassName, PersonName};
use cartable_domain::roster::{ClassRef, GroupRef, PersonRecord, PersonRef, RosterOp};
use cartable_domain::{ClassId, GroupId, Role, SchoolId, UserId};
use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::Store;
use cartable_web::server::{serve, ServerConfig, ServerStats};
use cartable_web::{router, AppState, WebConfig};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use tokio::sync::oneshot;

pub use reqwest;

/// The password every fixture account gets.
pub const PASSWORD: &str = "mot de passe de test";

/// A running server. Stops when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub clock: ManualClock,
    pub stats: Arc<ServerStats>,
    pub store: Arc<SqlStore>,
    /// The web layer's state (door, metrics, rate limits).
    pub state: AppState,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// Options for [`spawn_app_with`].
#[derive(Clone, Default)]
pub struct TestOptions {
    pub server: ServerConfig,
    pub app: AppConfig,
    /// The door: `None` leaves the waiting room on at a rate no test reaches
    /// (tests log in dozens of browsers within a second; a measured rate
    /// would send some to the waiting room, depending on the machine's load).
    pub door: Option<Door>,
    /// Switches the rate limits off (a test posting a whole corpus as one pupil).
    pub no_rate_limits: bool,
    /// The password hashing pool: `None` is two threads, room for 64
    /// waiting hashes, at the cheap test cost.
    pub hashing: Option<HashPool>,
}

/// How the waiting room is set for a test.
#[derive(Clone, Copy, Debug)]
pub enum Door {
    /// Off: nobody ever waits (what admission control prevents, measured).
    Off,
    /// On, letting this many people in per second.
    FixedRate(f64),
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestOptions::default()).await
}

/// Set to `postgres` to run the HTTP tests on a fresh PostgreSQL database
/// per test (on the server `CARTABLE_TEST_PG_URL` names) instead of SQLite:
/// `.ci/run` runs this crate's tests both ways.
pub const HTTP_DB_VAR: &str = "CARTABLE_TEST_HTTP_DB";

/// The database a test server gets: a SQLite file in the test's directory,
/// or a fresh PostgreSQL database when [`HTTP_DB_VAR`] says so.
async fn test_database_url(dir: &std::path::Path) -> String {
    match std::env::var(HTTP_DB_VAR).as_deref() {
        Ok("postgres") => {
            let admin = std::env::var(cartable_store::testing::PG_URL_VAR).unwrap_or_else(|_| {
                panic!(
                    "{HTTP_DB_VAR}=postgres needs {} (e.g. postgres://postgres@127.0.0.1:5432/postgres)",
                    cartable_store::testing::PG_URL_VAR
                )
            });
            cartable_store::testing::fresh_postgres_database(&admin)
                .await
                .expect("create a PostgreSQL test database")
        }
        Ok("") | Ok("sqlite") | Err(_) => {
            format!("sqlite://{}", dir.join("cartable.db").display())
        }
        Ok(other) => panic!("{HTTP_DB_VAR}={other}: sqlite or postgres"),
    }
}

/// Starts Cartable on 127.0.0.1:0 with a fresh database (SQLite, or
/// PostgreSQL with [`HTTP_DB_VAR`]).
pub async fn spawn_app_with(options: TestOptions) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = test_database_url(dir.path()).await;
    let store = Arc::new(
        SqlStore::connect(&url, &PoolSettings::default())
            .await
            .expect("open test database"),
    );
    let clock = ManualClock::new(1_788_220_800); // 1 September 2026, rentrée
    let app = App::new(
        store.clone() as Arc<dyn Store>,
        options
            .hashing
            .unwrap_or_else(|| HashPool::new(2, 64, HashCost::for_tests())),
        Arc::new(FsBlobStore::new(dir.path().join("files")).expect("blob directory")),
        Arc::new(clock.clone()),
        options.app,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let mut web = WebConfig::with_random_key();
    match options.door {
        None => web.admission_rate = Some(1_000.0),
        Some(Door::Off) => web.admission = false,
        Some(Door::FixedRate(rate)) => web.admission_rate = Some(rate),
    }
    web.rate_limits = !options.no_rate_limits;
    let state = AppState::new(app.clone(), web);
    let routes = router(state.clone());
    let stats = Arc::new(ServerStats::default());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(
        listener,
        routes,
        options.server,
        stats.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    TestApp {
        addr,
        app,
        clock,
        stats,
        store,
        state,
        _dir: dir,
        _stop: stop,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new browser: its own cookie jar, no automatic redirects.
    pub fn client(&self) -> TestClient {
        TestClient {
            base: format!("http://{}", self.addr),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }

    /// A browser already signed in as `login`.
    pub async fn signed_in(&self, login: &str) -> TestClient {
        let c = self.client();
        let r = c.login(login, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {login} failed");
        c
    }
}

/// A browser-like client.
pub struct TestClient {
    pub base: String,
    pub http: reqwest::Client,
}

impl TestClient {
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    /// The CSRF token this browser's pages carry.
    pub async fn csrf(&self) -> String {
        let (_, body) = self.get_text("/activation").await;
        extract_csrf(&body).expect("a csrf field on /activation")
    }

    /// Posts a form with this browser's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, HeaderMap::new()).await
    }

    /// Posts exactly these fields and headers (for CSRF tests).
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: HeaderMap,
    ) -> Response {
        self.http
            .post(format!("{}{}", self.base, path))
            .headers(headers)
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        self.post_form(
            "/connexion",
            &[("login", login), ("password", password), ("rester", "1")],
        )
        .await
    }
}

/// Reads the value of the first hidden `csrf` field of a page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Two schools, so that every "other school" case has something to hit.
///
/// School A: classes 6e A and 6e B; pupils `pupil_a` (6e A) and `pupil_b`
/// (6e B); `parent_a` of pupil_a; `parent_b` of pupil_b; `teacher_a` teaches
/// 6e A only; `teacher_b` teaches 6e B; `staff`; `admin`.
/// School B: class 5e C; `other_pupil`, `other_parent`, `other_teacher`,
/// `other_admin`.
pub struct Fixture {
    pub school_a: SchoolId,
    pub school_b: SchoolId,
    pub class_a: ClassId,
    pub class_b: ClassId,
    pub other_class: ClassId,
    pub people: Vec<(&'static str, UserId, String)>,
}

impl Fixture {
    pub fn id(&self, key: &str) -> UserId {
        self.people
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, id, _)| *id)
            .expect("fixture key")
    }

    pub fn login(&self, key: &str) -> &str {
        self.people
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, l)| l.as_str())
            .expect("fixture key")
    }
}

fn person(first: &str, last: &str) -> PersonRecord {
    PersonRecord {
        external_id: None,
        last_name: PersonName::parse(last).unwrap(),
        first_name: PersonName::parse(first).unwrap(),
        birth_date: Some(BirthDate::parse("01/02/2013").unwrap()),
        email: None,
    }
}

fn create(role: Role, first: &str, last: &str) -> RosterOp {
    RosterOp::CreatePerson {
        role,
        person: person(first, last),
        subject: (role == Role::Teacher).then(|| "Mathématiques".to_string()),
    }
}

pub async fn seed_fixture(t: &TestApp) -> Fixture {
    let app = &t.app;
    let a = app
        .create_school("Collège Jean Moulin", "0750001A")
        .await
        .unwrap()
        .id;
    let b = app
        .create_school("Collège Lucie Aubrac", "0750002B")
        .await
        .unwrap()
        .id;
    let ops_a = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("6e A").unwrap(),
        },
        RosterOp::CreateClass {
            name: ClassName::parse("6e B").unwrap(),
        },
        create(Role::Pupil, "Léa", "Alpha"),
        create(Role::Pupil, "Hugo", "Bravo"),
        create(Role::Parent, "Sophie", "Alpha"),
        create(Role::Parent, "Karim", "Bravo"),
        create(Role::Teacher, "Camille", "Tango"),
        create(Role::Teacher, "Paul", "Uniform"),
        create(Role::Staff, "Nadia", "Sierra"),
        create(Role::SchoolAdmin, "Michel", "Romeo"),
        RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::New(0),
        },
        RosterOp::SetClass {
            pupil: PersonRef::New(1),
            class: ClassRef::New(1),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(2),
            child: PersonRef::New(0),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(3),
            child: PersonRef::New(1),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(4),
            classes: vec![(ClassRef::New(0), true)],
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(5),
            classes: vec![(ClassRef::New(1), false)],
        },
    ];
    let keys_a = [
        "pupil_a",
        "pupil_b",
        "parent_a",
        "parent_b",
        "teacher_a",
        "teacher_b",
        "staff",
        "admin",
    ];
    let ops_b = vec![
        RosterOp::CreateClass {
            name: ClassName::parse("5e C").unwrap(),
        },
        create(Role::Pupil, "Inès", "Xray"),
        create(Role::Parent, "Aïcha", "Xray"),
        create(Role::Teacher, "Jules", "Yankee"),
        create(Role::SchoolAdmin, "Élodie", "Zulu"),
        RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::New(0),
        },
        RosterOp::LinkParent {
            parent: PersonRef::New(1),
            child: PersonRef::New(0),
        },
        RosterOp::SetTeachings {
            teacher: PersonRef::New(2),
            classes: vec![(ClassRef::New(0), false)],
        },
    ];
    let keys_b = [
        "other_pupil",
        "other_parent",
        "other_teacher",
        "other_admin",
    ];
    let applied_a = app.store.apply_roster(a, &ops_a, app.now()).await.unwrap();
    let applied_b = app.store.apply_roster(b, &ops_b, app.now()).await.unwrap();
    let hash = app.hasher.hash(PASSWORD.into()).await.unwrap();
    let mut people = Vec::new();
    for (keys, applied) in [(&keys_a[..], &applied_a), (&keys_b[..], &applied_b)] {
        for (key, (id, login)) in keys.iter().zip(&applied.created) {
            app.store
                .set_password(*id, Some(&hash), app.now())
                .await
                .unwrap();
            people.push((*key, *id, login.clone()));
        }
    }
    let classes_a = app.store.classes(a).await.unwrap();
    let classes_b = app.store.classes(b).await.unwrap();
    Fixture {
        school_a: a,
        school_b: b,
        class_a: classes_a[0].id,
        class_b: classes_a[1].id,
        other_class: classes_b[0].id,
        people,
    }
}

/// Adds a person to the fixture's school A (in `class` if a pupil, as a parent of `child`
/// if given) who can sign in with [`PASSWORD`].
pub async fn add_person(
    t: &TestApp,
    f: &Fixture,
    role: Role,
    first: &str,
    last: &str,
    class: Option<ClassId>,
    child: Option<UserId>,
) -> (UserId, String) {
    let mut ops = vec![RosterOp::CreatePerson {
        role,
        person: PersonRecord {
            external_id: None,
            last_name: PersonName::parse(last).unwrap(),
            first_name: PersonName::parse(first).unwrap(),
            birth_date: None,
            email: None,
        },
        subject: None,
    }];
    if let Some(class) = class {
        ops.push(RosterOp::SetClass {
            pupil: PersonRef::New(0),
            class: ClassRef::Existing(class),
        });
    }
    if let Some(child) = child {
        ops.push(RosterOp::LinkParent {
            parent: PersonRef::New(0),
            child: PersonRef::Existing(child),
        });
    }
    let applied = t
        .app
        .store
        .apply_roster(f.school_a, &ops, t.app.now())
        .await
        .unwrap();
    let (id, login) = applied.created[0].clone();
    let hash = t.app.hasher.hash(PASSWORD.into()).await.unwrap();
    t.app
        .store
        .set_password(id, Some(&hash), t.app.now())
        .await
        .unwrap();
    (id, login)
}

/// A group added to the fixture: school A's "Latin" (pupil_a of 6e A and
/// pupil_b of 6e B, taught by teacher_a) and school B's "Grec" (other_pupil,
/// taught by other_teacher), as a roster import would make them.
pub struct GroupFixture {
    pub latin: GroupId,
    pub other_group: GroupId,
}

pub async fn seed_groups(t: &TestApp, f: &Fixture) -> GroupFixture {
    let group = |school, name: &str, pupils: &[UserId], teacher: UserId| {
        let mut ops = vec![RosterOp::CreateGroup {
            name: ClassName::parse(name).unwrap(),
        }];
        for p in pupils {
            ops.push(RosterOp::SetGroups {
                pupil: PersonRef::Existing(*p),
                groups: vec![GroupRef::New(0)],
            });
        }
        ops.push(RosterOp::SetTeacherGroups {
            teacher: PersonRef::Existing(teacher),
            groups: vec![GroupRef::New(0)],
        });
        async move {
            t.app
                .store
                .apply_roster(school, &ops, t.app.now())
                .await
                .unwrap();
            t.app.store.groups(school).await.unwrap()[0].id
        }
    };
    GroupFixture {
        latin: group(
            f.school_a,
            "Latin",
            &[f.id("pupil_a"), f.id("pupil_b")],
            f.id("teacher_a"),
        )
        .await,
        other_group: group(
            f.school_b,
            "Grec",
            &[f.id("other_pupil")],
            f.id("other_teacher"),
        )
        .await,
    }
}
