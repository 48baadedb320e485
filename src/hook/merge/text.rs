//! Plain text: line-based three-way merge (diffy). A conflicting hunk keeps
//! the whole live file as it is; the new default goes beside it.

use super::{Conflict, Engine, Merged, Opts, Src};
use crate::hook::error::Result;

pub struct TextEngine;

impl Engine for TextEngine {
    fn merge_with(&self, base: Src, ours: Src, theirs: Src, _opts: &Opts) -> Result<Merged> {
        match diffy::merge(base.text, ours.text, theirs.text) {
            Ok(text) => Ok(Merged {
                text,
                ..Merged::default()
            }),
            Err(marked) => {
                let hunks = marked.lines().filter(|l| l.starts_with("<<<<<<<")).count();
                Ok(Merged {
                    text: ours.text.to_string(),
                    conflicts: vec![Conflict {
                        key: format!("{hunks} conflicting line block(s)"),
                        base: None,
                        yours: None,
                        new_default: None,
                    }],
                    ..Merged::default()
                })
            }
        }
    }

    fn validate(&self, _src: Src) -> Result<()> {
        Ok(())
    }

    fn value(&self, _src: Src, _key: &str) -> Result<Option<String>> {
        Ok(None)
    }
}
