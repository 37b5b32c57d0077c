//! Accounts: schools and their first administrator, activation codes (first
//! login and password reset), disabling an account.

use cartable_domain::names::{Login, PersonName, SchoolName};
use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{Role, SchoolId, UserId};
use cartable_store::{ActivationCodeRow, NewUser, School, StoreError, User};

use crate::auth::ClientInfo;
use crate::tokens::{hash_code, new_activation_code};
use crate::{App, AppError};

/// A code to print on a slip, with who it is for.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub user: User,
    pub class_name: Option<String>,
    pub code: String,
    pub expires_at: i64,
}

/// What a batch of codes did.
#[derive(Debug, Clone, Default)]
pub struct IssuedCodes {
    pub issued: Vec<IssuedCode>,
    /// Accounts skipped because their owner already chose a password.
    pub already_active: Vec<User>,
}

impl App {
    /// Issues activation codes to `targets`. Accounts already in use are
    /// skipped unless `reset`: then their password stops working and their
    /// sessions end (the "mot de passe oublié" at the school office).
    pub async fn issue_codes(
        &self,
        actor: &Actor,
        targets: &[UserId],
        reset: bool,
        client: &ClientInfo,
    ) -> Result<IssuedCodes, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let mut out = IssuedCodes::default();
        for &target in targets {
            let facts = self
                .store
                .person_facts(school, target)
                .await?
                .ok_or(AppError::NotFound)?;
            if !can(actor, Action::IssueActivationCode, Resource::Person(&facts)) {
                return Err(AppError::Forbidden);
            }
        }
        for &target in targets {
            let user = self
                .store
                .user(Some(school), target)
                .await?
                .ok_or(AppError::NotFound)?;
            if user.activated && !reset {
                out.already_active.push(user);
                continue;
            }
            let issued = self.new_code_for(&user, Some(actor.user_id)).await?;
            if reset && user.activated {
                self.store.set_password(user.id, None, self.now()).await?;
                self.end_sessions(user.id, None).await?;
            }
            let action = if reset {
                "password.reset"
            } else {
                "code.issued"
            };
            self.audit(
                Some(school),
                action,
                Some(user.login.clone()),
                client,
                Some(actor.user_id),
            )
            .await;
            let class_name = self
                .store
                .classes_of(school, user.id)
                .await?
                .first()
                .map(|c| c.name.clone());
            out.issued.push(IssuedCode {
                class_name,
                ..issued
            });
        }
        Ok(out)
    }

    async fn new_code_for(
        &self,
        user: &User,
        issued_by: Option<UserId>,
    ) -> Result<IssuedCode, AppError> {
        let code = new_activation_code();
        let now = self.now();
        let expires_at = now + self.config.activation_code_secs;
        self.store
            .put_activation_code(&ActivationCodeRow {
                user_id: user.id,
                school_id: user.school_id,
                code_hash: hash_code(&code),
                created_at: now,
                expires_at,
                issued_by,
            })
            .await?;
        Ok(IssuedCode {
            user: user.clone(),
            class_name: None,
            code,
            expires_at,
        })
    }

    /// Disables or re-enables an account. Disabling ends its sessions at once.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        target: UserId,
        disabled: bool,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let facts = self
            .store
            .person_facts(school, target)
            .await?
            .ok_or(AppError::NotFound)?;
        if !can(actor, Action::DisableAccount, Resource::Person(&facts)) {
            return Err(AppError::Forbidden);
        }
        self.store
            .set_disabled(school, target, disabled, self.now())
            .await?;
        // The people one may write to leave out disabled accounts.
        self.facts.forget(school);
        if disabled {
            self.end_sessions(target, None).await?;
        }
        let user = self
            .store
            .user(Some(school), target)
            .await?
            .ok_or(AppError::NotFound)?;
        let action = if disabled {
            "account.disabled"
        } else {
            "account.enabled"
        };
        self.audit(
            Some(school),
            action,
            Some(user.login),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }

    /// Creates a school (operator or CLI). `uai` is the national school code.
    pub async fn create_school(&self, name: &str, uai: &str) -> Result<School, AppError> {
        let name =
            SchoolName::parse(name).map_err(|e| AppError::invalid("school.name", e.to_string()))?;
        let uai = uai.trim().to_ascii_uppercase();
        if uai.len() != 8 || !uai.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(AppError::invalid(
                "school.uai",
                "Le code UAI doit faire 8 caractères (7 chiffres et une lettre, par exemple 0750001A).",
            ));
        }
        let id = match self
            .store
            .create_school(name.as_str(), &uai, self.now())
            .await
        {
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::invalid(
                    "school.exists",
                    format!("Un établissement porte déjà le code {uai}."),
                ))
            }
            other => other?,
        };
        self.store.school(id).await?.ok_or(AppError::NotFound)
    }

    /// Creates an account outside any roster (a school's administrator, an
    /// operator) and returns it with an activation code to hand over.
    pub async fn create_account(
        &self,
        school: Option<SchoolId>,
        role: Role,
        first_name: &str,
        last_name: &str,
        issued_by: Option<UserId>,
    ) -> Result<IssuedCode, AppError> {
        if role.is_school_member() != school.is_some() {
            return Err(AppError::invalid(
                "account.school",
                "Un opérateur n'appartient à aucun établissement ; tout autre compte à un seul.",
            ));
        }
        let first = PersonName::parse(first_name)
            .map_err(|e| AppError::invalid("account.first_name", e.to_string()))?;
        let last = PersonName::parse(last_name)
            .map_err(|e| AppError::invalid("account.last_name", e.to_string()))?;
        let mut suffix = 1;
        let id = loop {
            let login = Login::suggest(&first, &last, suffix);
            let attempt = self
                .store
                .create_user(
                    &NewUser {
                        school_id: school,
                        role,
                        login: login.as_str().to_string(),
                        last_name: last.as_str().to_string(),
                        first_name: first.as_str().to_string(),
                        password_hash: None,
                    },
                    self.now(),
                )
                .await;
            match attempt {
                Ok(id) => break id,
                Err(StoreError::Conflict(_)) if suffix < 1000 => suffix += 1,
                Err(e) => return Err(e.into()),
            }
        };
        let user = self
            .store
            .user(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.audit(
            school,
            "account.created",
            Some(user.login.clone()),
            &ClientInfo::default(),
            issued_by,
        )
        .await;
        self.new_code_for(&user, issued_by).await
    }

    /// Resets a password from the command line: a new activation code.
    pub async fn reset_by_login(&self, login: &str) -> Result<IssuedCode, AppError> {
        let creds = self
            .store
            .credentials(login)
            .await?
            .ok_or(AppError::NotFound)?;
        let user = self
            .store
            .user(creds.school_id, creds.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.store.set_password(user.id, None, self.now()).await?;
        self.end_sessions(user.id, None).await?;
        self.audit(
            user.school_id,
            "password.reset",
            Some(user.login.clone()),
            &ClientInfo::default(),
            None,
        )
        .await;
        self.new_code_for(&user, None).await
    }

    /// Sets a password directly (demo seeding and the CLI only; people choose
    /// their own through activation).
    pub async fn set_password_directly(&self, login: &str, password: &str) -> Result<(), AppError> {
        let creds = self
            .store
            .credentials(login)
            .await?
            .ok_or(AppError::NotFound)?;
        let hash = self.hasher.hash(password.to_string()).await?;
        self.store
            .set_password(creds.user_id, Some(&hash), self.now())
            .await?;
        Ok(())
    }
}
