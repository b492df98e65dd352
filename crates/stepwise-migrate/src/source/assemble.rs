//! Put named files together into migrations: pair each down file with the up
//! file of its version, refuse two files for one version, and order the
//! result (versioned by version, then repeatable by name).

use super::filename::{FileName, Part};
use super::list::SqlFile;
use crate::migration::{MigrationKind, Version};
use std::collections::btree_map::{BTreeMap, Entry};
use std::sync::Arc;
use stepwise_sql::{InputError, SourceFile};

/// A migration file with what its name says.
#[derive(Debug, Clone)]
pub(super) struct Named {
    pub file: SqlFile,
    pub name: FileName,
    /// The file's text, read once (or why it could not be used).
    pub source: Result<Arc<SourceFile>, Vec<InputError>>,
}

/// The files of one migration: its up (or whole) file and maybe a separate down file.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub up: Named,
    pub down: Option<Named>,
}

/// Group `files` (sorted by path) into migrations in apply order. Files that
/// cannot be placed are reported in `errors` and left out.
pub(super) fn assemble(files: Vec<Named>, errors: &mut Vec<InputError>) -> Vec<Plan> {
    let (downs, ups): (Vec<Named>, Vec<Named>) = files.into_iter().partition(|f| f.name.part == Part::Down);
    let mut versioned: BTreeMap<Version, Plan> = BTreeMap::new();
    let mut repeatable: BTreeMap<String, Plan> = BTreeMap::new();
    for up in ups {
        let placed = match up.name.kind {
            MigrationKind::Versioned => place(&mut versioned, up.name.version.clone(), up),
            MigrationKind::Repeatable => place(&mut repeatable, up.name.name.clone(), up),
        };
        errors.extend(placed.err());
    }
    for down in downs {
        let version = &down.name.version;
        match versioned.get_mut(version) {
            None => errors.push(no_up(&down, format!("no up file has version `{version}`"))),
            Some(plan) if plan.up.name.part == Part::Whole => {
                let whole = format!(
                    "version `{version}` is the single-file migration `{}`, which holds its own down section",
                    plan.up.file.display
                );
                errors.push(no_up(&down, whole));
            }
            Some(Plan { down: Some(first), .. }) => {
                errors.push(duplicate(format!("two down migrations for version `{version}`"), first, &down));
            }
            Some(plan) => plan.down = Some(down),
        }
    }
    versioned.into_values().chain(repeatable.into_values()).collect()
}

/// Insert `up` under `key`, unless another file is there already.
fn place<K: Ord>(plans: &mut BTreeMap<K, Plan>, key: K, up: Named) -> Result<(), InputError> {
    match plans.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(Plan { up, down: None });
            Ok(())
        }
        Entry::Occupied(slot) => {
            let what = match up.name.kind {
                MigrationKind::Versioned => format!("two migrations have version `{}`", up.name.version),
                MigrationKind::Repeatable => format!("two repeatable migrations are named `{}`", up.name.name),
            };
            Err(duplicate(what, &slot.get().up, &up))
        }
    }
}

fn duplicate(what: String, first: &Named, second: &Named) -> InputError {
    InputError::whole_file(&second.file.display, format!("{what}: `{}` and `{}`", first.file.display, second.file.display))
}

fn no_up(down: &Named, why: String) -> InputError {
    InputError::whole_file(&down.file.display, format!("no up migration for `{}`: {why}", down.file.display))
}
