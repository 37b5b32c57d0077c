//! Classes and groups by folded name: "3E B" in a file is the school's "3e B".
//! Only a pupils' file may create them (see `plan`).

use std::collections::HashMap;
use std::hash::Hash;

use cartable_domain::names::{fold_key, ClassName};

/// A class or group that exists, or the n-th one this import creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Place<Id> {
    Existing(Id),
    New(usize),
}

pub(super) struct Places<Id> {
    by_key: HashMap<String, Place<Id>>,
    names: HashMap<Id, String>,
    pub created: Vec<ClassName>,
}

impl<Id: Copy + Eq + Hash> Places<Id> {
    pub fn new(existing: &[(Id, String)]) -> Self {
        let mut by_key = HashMap::new();
        for (id, name) in existing {
            // Two classes folding alike: the first keeps the name, as the
            // store lists them.
            by_key.entry(fold_key(name)).or_insert(Place::Existing(*id));
        }
        Places {
            by_key,
            names: existing.iter().map(|(id, n)| (*id, n.clone())).collect(),
            created: Vec::new(),
        }
    }

    pub fn find(&self, name: &ClassName) -> Option<Place<Id>> {
        self.by_key.get(&fold_key(name.as_str())).copied()
    }

    pub fn find_or_create(&mut self, name: &ClassName) -> Place<Id> {
        if let Some(place) = self.find(name) {
            return place;
        }
        let place = Place::New(self.created.len());
        self.created.push(name.clone());
        self.by_key.insert(fold_key(name.as_str()), place);
        place
    }

    /// The name to show: the school's spelling, or the file's for a new one.
    pub fn name(&self, place: Place<Id>) -> String {
        match place {
            Place::Existing(id) => self.names.get(&id).cloned().unwrap_or_default(),
            Place::New(n) => self.created[n].to_string(),
        }
    }
}
