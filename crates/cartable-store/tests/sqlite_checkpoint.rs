//! SQLite's write-ahead log is copied back into the database file in the
//! background, not by whichever writer happens to take it past 1,000 pages
//! (that writer would hold the one writer connection for the whole copy).

use std::time::{Duration, Instant};

use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::Store;
use sqlx::{Connection, Row};

/// Pages the database holds, as a reader sees it (the WAL included).
async fn logical_bytes(url: &str) -> u64 {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let row = sqlx::query(
        "SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size()) AS n",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let n: i64 = row.try_get("n").unwrap();
    conn.close().await.unwrap();
    n as u64
}

#[tokio::test]
async fn the_log_reaches_the_database_file_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cartable.db");
    let url = format!("sqlite://{}", file.display());
    let store = SqlStore::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    let store: &dyn Store = &store;
    // A hundred commits: far fewer pages than SQLite's own checkpoint
    // threshold (1,000), so only the background copies them.
    for i in 0..100 {
        store
            .create_school(&format!("Collège {i}"), &format!("{:07}A", i), 1)
            .await
            .unwrap();
    }
    let wanted = logical_bytes(&url).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let on_disk = std::fs::metadata(&file).unwrap().len();
        if on_disk >= wanted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the database file holds {on_disk} of {wanted} bytes 10 s after the writes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
