//! The testkit itself works: the server answers, a fixture user logs in.

use cartable_testkit::*;

#[tokio::test]
async fn pupil_logs_in_and_sees_home() {
    let t = spawn_app().await;
    let f = seed_fixture(&t).await;
    let c = t.signed_in(f.login("pupil_a")).await;
    let (status, body) = c.get_text("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Bonjour Léa"), "{body}");
    assert!(body.contains("6e A"));
}
