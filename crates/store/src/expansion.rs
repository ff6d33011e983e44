//! What expanding a send decides whatever the backend: whether everything the send names still
//! exists (API.md §4.2) and, when not, the reasons it fails with (user-visible: they are the
//! send's `errors`). Each backend only reads the rows and writes the outcome.

use crate::Expansion;

/// What a send names, as one batch of its expansion found it in the database.
#[derive(Debug)]
pub struct Named<'a> {
    /// The message's ID, and whether the account still has it.
    pub message_id: &'a str,
    pub message_found: bool,
    /// The target lists' IDs as stored on the send, and the pk of each (in the same order),
    /// `None` for one the account no longer has.
    pub target_ids: &'a [String],
    pub target_pks: Vec<Option<i64>>,
    /// The same for the exclusion lists.
    pub exclusion_ids: &'a [String],
    pub exclusion_pks: Vec<Option<i64>>,
    /// The send's code string.
    pub code: &'a str,
}

/// The send's lists resolved within its account, in order, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLists {
    pub targets: Vec<i64>,
    pub exclusions: Vec<i64>,
}

/// The lists and the code (`found_code`, `None` when the account no longer has it) of a send
/// whose message, lists and code all still exist; otherwise every reason it fails with, in
/// order: the message, each missing list once (targets first), the code.
pub fn check_named<C>(
    named: Named<'_>,
    found_code: Option<C>,
) -> Result<(ResolvedLists, C), Vec<String>> {
    let mut errors = Vec::new();
    if !named.message_found {
        errors.push(format!(
            "Message {} was deleted before the send was due.",
            named.message_id
        ));
    }
    let mut lists = ResolvedLists {
        targets: Vec::new(),
        exclusions: Vec::new(),
    };
    let mut missing = Vec::new();
    for (ids, found, pks) in [
        (named.target_ids, named.target_pks, &mut lists.targets),
        (
            named.exclusion_ids,
            named.exclusion_pks,
            &mut lists.exclusions,
        ),
    ] {
        for (id, pk) in ids.iter().zip(found) {
            match pk {
                Some(pk) if !pks.contains(&pk) => pks.push(pk),
                Some(_) => {}
                None if !missing.contains(&id.to_ascii_lowercase()) => {
                    missing.push(id.to_ascii_lowercase());
                    errors.push(format!("List {id} was deleted before the send was due."));
                }
                None => {}
            }
        }
    }
    if found_code.is_none() {
        errors.push(format!(
            "Code {} was deleted before the send was due.",
            named.code
        ));
    }
    match found_code {
        Some(code) if errors.is_empty() => Ok((lists, code)),
        _ => Err(errors),
    }
}

impl Expansion {
    /// The outcome of a send that failed with `errors` (as [`check_named`] gives them).
    pub fn failed(errors: &[String]) -> Expansion {
        Expansion::Failed {
            reason: errors.join(" "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_missing_object_is_a_reason_in_order_and_lists_are_named_once() {
        let targets = ids(&["a", "B", "b"]);
        let exclusions = ids(&["x", "a"]);
        let named = Named {
            message_id: "m",
            message_found: false,
            target_ids: &targets,
            target_pks: vec![Some(1), None, None],
            exclusion_ids: &exclusions,
            exclusion_pks: vec![None, Some(1)],
            code: "88976",
        };
        let errors = check_named::<()>(named, None).err();
        assert_eq!(
            errors,
            Some(vec![
                "Message m was deleted before the send was due.".to_string(),
                "List B was deleted before the send was due.".to_string(),
                "List x was deleted before the send was due.".to_string(),
                "Code 88976 was deleted before the send was due.".to_string(),
            ])
        );
    }

    #[test]
    fn a_send_whose_objects_exist_gets_its_lists_without_repeats() {
        let targets = ids(&["a", "A", "b"]);
        let exclusions = ids(&["c"]);
        let named = Named {
            message_id: "m",
            message_found: true,
            target_ids: &targets,
            target_pks: vec![Some(1), Some(1), Some(2)],
            exclusion_ids: &exclusions,
            exclusion_pks: vec![Some(3)],
            code: "88976",
        };
        assert_eq!(
            check_named(named, Some(7)),
            Ok((
                ResolvedLists {
                    targets: vec![1, 2],
                    exclusions: vec![3],
                },
                7
            ))
        );
    }
}
