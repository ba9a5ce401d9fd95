//! What a message plugin registered at load time, narrowed by the tenant
//! file, and the native subject test that decides whether it is called.

use super::error::LoadError;
use crate::subject::{is_subset_match, is_valid_subject, matches};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub subjects: Vec<String>,
    pub wants_headers: bool,
    pub wants_payload: bool,
}

impl Registered {
    /// Checks the plugin's own registration, then narrows it to `narrowed`
    /// (the tenant file's `subjects`), each of which must fall inside what
    /// the plugin registered: an operator may call a plugin less often than
    /// it asked, never for subjects it did not expect.
    pub fn new(
        path: &Path,
        subjects: Vec<String>,
        wants_headers: bool,
        wants_payload: bool,
        narrowed: Option<&[String]>,
    ) -> Result<Registered, LoadError> {
        for subject in &subjects {
            if !is_valid_subject(subject.as_bytes()) {
                return Err(LoadError::BadSubject {
                    path: path.to_path_buf(),
                    subject: subject.clone(),
                });
            }
        }
        let subjects = match narrowed {
            None => subjects,
            Some(narrowed) => {
                for subject in narrowed {
                    if !is_valid_subject(subject.as_bytes()) {
                        return Err(LoadError::BadSubject {
                            path: path.to_path_buf(),
                            subject: subject.clone(),
                        });
                    }
                    if !subjects
                        .iter()
                        .any(|r| is_subset_match(subject.as_bytes(), r.as_bytes()))
                    {
                        return Err(LoadError::SubjectNotRegistered {
                            path: path.to_path_buf(),
                            subject: subject.clone(),
                            registered: subjects.join(", "),
                        });
                    }
                }
                narrowed.to_vec()
            }
        };
        if subjects.is_empty() {
            return Err(LoadError::NoSubjects {
                path: path.to_path_buf(),
            });
        }
        Ok(Registered {
            subjects,
            wants_headers,
            wants_payload,
        })
    }

    /// Whether a message on `subject` goes to this plugin.
    pub fn matches(&self, subject: &[u8]) -> bool {
        self.subjects.iter().any(|f| matches(f.as_bytes(), subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(subjects: &[&str], narrowed: Option<&[&str]>) -> Result<Registered, LoadError> {
        let narrowed: Option<Vec<String>> =
            narrowed.map(|n| n.iter().map(|s| s.to_string()).collect());
        Registered::new(
            Path::new("p.wasm"),
            subjects.iter().map(|s| s.to_string()).collect(),
            false,
            false,
            narrowed.as_deref(),
        )
    }

    #[test]
    fn narrowing_stays_inside_the_registration() {
        let r = reg(&["orders.>"], Some(&["orders.eu.*"])).expect("inside");
        assert!(r.matches(b"orders.eu.new"));
        assert!(!r.matches(b"orders.us.new"));
        assert!(matches!(
            reg(&["orders.>"], Some(&["billing.>"])),
            Err(LoadError::SubjectNotRegistered { .. })
        ));
    }

    #[test]
    fn bad_or_missing_subjects_are_refused() {
        assert!(matches!(
            reg(&["a..b"], None),
            Err(LoadError::BadSubject { .. })
        ));
        assert!(matches!(reg(&[], None), Err(LoadError::NoSubjects { .. })));
    }
}
