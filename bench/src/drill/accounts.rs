//! `accounts.csv`, as written by `cartable seed`:
//! `role,school_id,class_id,login,password,session_token`.

use std::path::Path;

/// One account the drill may play.
#[derive(Debug, Clone)]
pub struct Account {
    /// `eleve`, `parent`, `enseignant`, `personnel` or `admin`.
    pub role: String,
    pub school_id: String,
    pub class_id: String,
    pub login: String,
    pub password: String,
    /// A valid `cartable_session` cookie value, when the seed made one.
    pub session_token: Option<String>,
}

impl Account {
    pub fn is_pupil(&self) -> bool {
        self.role == "eleve"
    }
}

/// Reads the file; every row must have the six columns.
pub fn load(path: &Path) -> Result<Vec<Account>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| format!("{}: no column {name}", path.display()))
    };
    let (role, school, class, login, password, token) = (
        col("role")?,
        col("school_id")?,
        col("class_id")?,
        col("login")?,
        col("password")?,
        col("session_token")?,
    );
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("{} line {}: {e}", path.display(), i + 2))?;
        let get = |c: usize| row.get(c).unwrap_or("").trim().to_string();
        let token = get(token);
        out.push(Account {
            role: get(role),
            school_id: get(school),
            class_id: get(class),
            login: get(login),
            password: row.get(password).unwrap_or("").to_string(),
            session_token: (!token.is_empty()).then_some(token),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("accounts.csv");
        std::fs::write(
            &p,
            "role,school_id,class_id,login,password,session_token\n\
             eleve,1,3,lea.martin,pw 1,abc\n\
             enseignant,1,,c.delorme,pw2,\n",
        )
        .unwrap();
        let a = load(&p).unwrap();
        assert_eq!(a.len(), 2);
        assert!(a[0].is_pupil());
        assert_eq!(a[0].session_token.as_deref(), Some("abc"));
        assert_eq!(a[0].password, "pw 1");
        assert_eq!(a[1].session_token, None);
        assert!(!a[1].is_pupil());
    }
}
