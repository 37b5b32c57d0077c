//! Classes and groups as the cahier de textes and the devoirs à rendre see
//! them: a lesson or an assignment is for one class or one group, and a
//! pupil's homework is that of their class and of every group they are in.

use cartable_domain::policy::Actor;
use cartable_domain::{Role, SchoolId, Target};
use cartable_store::Cohorts;

use crate::{App, AppError};

/// A class or a group, with what its pages show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSummary {
    pub target: Target,
    pub name: String,
    pub pupils: i64,
}

impl TargetSummary {
    /// The path segment of its cahier pages: `classes/3` or `groupes/5`.
    pub fn path(&self) -> String {
        self.target.path()
    }

    pub fn is_group(&self) -> bool {
        self.target.is_group()
    }

    /// "6e A", or "groupe Latin": a group's name alone rarely says it is one.
    pub fn label_fr(&self) -> String {
        if self.is_group() {
            format!("groupe {}", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// The classes and groups whose homework a pupil actor gets (others: none).
pub fn pupil_cohorts(actor: &Actor) -> Cohorts {
    if actor.role != Role::Pupil {
        return Cohorts::default();
    }
    Cohorts {
        classes: actor.classes.iter().copied().collect(),
        groups: actor.groups.iter().copied().collect(),
    }
}

impl App {
    /// The class or group of the school, or `NotFound` (another school's too).
    pub async fn target_summary(
        &self,
        school: SchoolId,
        target: Target,
    ) -> Result<TargetSummary, AppError> {
        match target {
            Target::Class(id) => {
                let c = self
                    .store
                    .class(school, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok(TargetSummary {
                    target,
                    name: c.name,
                    pupils: c.pupils,
                })
            }
            Target::Group(id) => {
                let g = self
                    .store
                    .group(school, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok(TargetSummary {
                    target,
                    name: g.name,
                    pupils: g.pupils,
                })
            }
        }
    }
}
