//! Plain text: line-based three-way merge (diffy). A conflicting hunk keeps
//! the whole live file as it is; the new default goes beside it.

use super::{limit, Conflict, Engine, Merged, Opts, Src};
use crate::error::Result;

pub struct TextEngine;

impl Engine for TextEngine {
    fn merge_with(&self, base: Src, ours: Src, theirs: Src, _opts: &Opts) -> Result<Merged> {
        // A byte order mark is not a line of the file: the live file's is kept.
        let (o, bom) = limit::strip_bom(ours.text);
        let (b, t) = (
            limit::strip_bom(base.text).0,
            limit::strip_bom(theirs.text).0,
        );
        match diffy::merge(b, o, t) {
            Ok(text) => Ok(Merged {
                text: if bom {
                    format!("{}{text}", limit::BOM)
                } else {
                    text
                },
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
