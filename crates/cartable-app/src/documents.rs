//! Documents: a class's shared folders (its teachers add, everyone of the
//! class reads) and each person's own space, within a quota.

use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{ClassId, Role};
use cartable_store::{AttachmentRow, FolderRow, NewAttachment};

use crate::blobs::human_size;
use crate::messaging::clean_title;
use crate::{App, AppError};

/// A folder as its reader sees it.
#[derive(Debug, Clone)]
pub struct FolderView {
    pub folder: FolderRow,
    pub parent: Option<FolderRow>,
    pub subfolders: Vec<FolderRow>,
    pub files: Vec<AttachmentRow>,
    pub may_write: bool,
    /// Personal space: bytes used and allowed.
    pub usage: Option<(i64, i64)>,
}

impl App {
    fn may_read_space(&self, actor: &Actor, f: &FolderRow) -> bool {
        let Some(school) = actor.school_id else {
            return false;
        };
        match (f.class_id, f.owner_id) {
            (Some(class), _) => can(
                actor,
                Action::ViewLessons,
                Resource::Class { school, class },
            ),
            (None, Some(owner)) => owner == actor.user_id,
            _ => false,
        }
    }

    fn may_write_space(&self, actor: &Actor, f: &FolderRow) -> bool {
        let Some(school) = actor.school_id else {
            return false;
        };
        match (f.class_id, f.owner_id) {
            (Some(class), _) => can(
                actor,
                Action::WriteLessons,
                Resource::Class { school, class },
            ),
            (None, Some(owner)) => owner == actor.user_id,
            _ => false,
        }
    }

    /// The top folder of a class's documents.
    pub async fn class_documents(
        &self,
        actor: &Actor,
        class: ClassId,
    ) -> Result<FolderRow, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        self.store
            .class(school, class)
            .await?
            .ok_or(AppError::NotFound)?;
        if !can(
            actor,
            Action::ViewLessons,
            Resource::Class { school, class },
        ) {
            return Err(AppError::Forbidden);
        }
        Ok(self
            .store
            .class_root_folder(school, class, actor.user_id, self.now())
            .await?)
    }

    /// The top folder of the actor's own space.
    pub async fn personal_documents(&self, actor: &Actor) -> Result<FolderRow, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        Ok(self
            .store
            .personal_root_folder(school, actor.user_id, self.now())
            .await?)
    }

    pub async fn open_folder(&self, actor: &Actor, id: i64) -> Result<FolderView, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let folder = self
            .store
            .folder(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !self.may_read_space(actor, &folder) {
            return Err(AppError::NotFound);
        }
        let parent = match folder.parent_id {
            Some(p) => self.store.folder(school, p).await?,
            None => None,
        };
        let usage = match folder.owner_id {
            Some(owner) => Some((
                self.store.personal_usage(school, owner).await?,
                self.config.personal_quota_bytes,
            )),
            None => None,
        };
        Ok(FolderView {
            may_write: self.may_write_space(actor, &folder),
            subfolders: self.store.subfolders(school, id).await?,
            files: self.store.folder_files(school, id).await?,
            folder,
            parent,
            usage,
        })
    }

    async fn writable_folder(&self, actor: &Actor, id: i64) -> Result<FolderRow, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let folder = self
            .store
            .folder(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if !self.may_read_space(actor, &folder) {
            return Err(AppError::NotFound);
        }
        if !self.may_write_space(actor, &folder) {
            return Err(AppError::Forbidden);
        }
        Ok(folder)
    }

    pub async fn create_subfolder(
        &self,
        actor: &Actor,
        parent: i64,
        name: &str,
    ) -> Result<i64, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        self.writable_folder(actor, parent).await?;
        let name = clean_title(name, "le nom du dossier", 80)?;
        if name.contains('/') || name.contains('\\') {
            return Err(AppError::invalid(
                "folder.name",
                "Le nom du dossier ne peut pas contenir « / » ni « \\ ».",
            ));
        }
        Ok(self
            .store
            .create_folder(school, parent, &name, actor.user_id, self.now())
            .await?)
    }

    /// Adds uploaded files to a folder; a personal space refuses what would
    /// go over its quota.
    pub async fn add_documents(
        &self,
        actor: &Actor,
        folder: i64,
        files: Vec<NewAttachment>,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let f = self.writable_folder(actor, folder).await?;
        if files.is_empty() {
            return Err(AppError::invalid(
                "documents.empty",
                "Choisissez au moins un fichier.",
            ));
        }
        if let Some(owner) = f.owner_id {
            let used = self.store.personal_usage(school, owner).await?;
            let adding: i64 = files.iter().map(|a| a.size).sum();
            let quota = self.config.personal_quota_bytes;
            if used + adding > quota {
                return Err(AppError::invalid(
                    "documents.quota",
                    format!(
                        "Votre espace personnel est plein : {} utilisés sur {}, ces fichiers font {}. Supprimez des fichiers puis recommencez.",
                        human_size(used.max(0) as u64),
                        human_size(quota as u64),
                        human_size(adding.max(0) as u64)
                    ),
                ));
            }
        }
        self.store
            .add_folder_files(school, folder, &files, self.now())
            .await?;
        Ok(())
    }

    pub async fn delete_document(
        &self,
        actor: &Actor,
        folder: i64,
        attachment: i64,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        self.writable_folder(actor, folder).await?;
        let key = self
            .store
            .delete_folder_file(school, folder, attachment)
            .await?
            .ok_or(AppError::NotFound)?;
        if let Err(e) = self.blobs.delete(&key).await {
            tracing::warn!(error = %e, %key, "could not delete a removed document's file");
        }
        Ok(())
    }

    /// Classes whose documents the actor can open, for the documents home.
    pub async fn document_classes(
        &self,
        actor: &Actor,
    ) -> Result<Vec<cartable_store::ClassSummary>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        Ok(match actor.role {
            Role::Staff | Role::SchoolAdmin => self.store.classes(school).await?,
            _ => self.store.classes_of(school, actor.user_id).await?,
        })
    }

    pub(crate) async fn may_read_folder(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let Some(school) = actor.school_id else {
            return Ok(false);
        };
        Ok(match self.store.folder(school, id).await? {
            Some(f) => self.may_read_space(actor, &f),
            None => false,
        })
    }
}
