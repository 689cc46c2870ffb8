//! What an import wrote, as the command reports it.

use super::super::counted;

/// A workflow named in the notes: its id here and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// What an import wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub project_id: String,
    pub project_name: String,
    /// Workflows written: new ones and the ones replaced.
    pub workflows: usize,
    /// Workflows that existed here with the same id in the receiving project and got the
    /// imported content as their newest version (n8n's import upserts by id).
    pub workflows_replaced: usize,
    /// Workflows whose n8n id was taken here (or not an id), with the id they got.
    pub workflows_renamed: Vec<(String, String)>,
    /// Workflows that were active in n8n (imported unpublished).
    pub workflows_active: Vec<Named>,
    /// Replaced workflows that are published here: they keep running their published version.
    pub workflows_still_published: Vec<Named>,
    pub credentials: usize,
    pub credentials_replaced: usize,
    pub credentials_renamed: Vec<(String, String)>,
    /// Credential types this server's catalog does not know (stored unchecked).
    pub unknown_types: Vec<String>,
    pub tags_created: usize,
    pub tags_existing: usize,
}

impl Summary {
    /// The line the command prints: counts only.
    pub fn line(&self) -> String {
        let replaced = if self.workflows_replaced + self.credentials_replaced > 0 {
            format!(
                " ({} and {} replaced by id)",
                counted(self.workflows_replaced, "workflow", "workflows"),
                counted(self.credentials_replaced, "credential", "credentials"),
            )
        } else {
            String::new()
        };
        format!(
            "imported {}, {} and {} ({} existing) into project \"{}\" ({}){replaced}",
            counted(self.workflows, "workflow", "workflows"),
            counted(self.credentials, "credential", "credentials"),
            counted(self.tags_created, "new tag", "new tags"),
            self.tags_existing,
            self.project_name,
            self.project_id
        )
    }

    /// Lines worth a look: ids that changed, types stored unchecked, workflows to publish.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (from, to) in &self.workflows_renamed {
            notes.push(format!(
                "workflow {from} was imported as {to} (its id is taken here by a workflow of another project); the imported workflows that call it use the new id"
            ));
        }
        for (from, to) in &self.credentials_renamed {
            notes.push(format!(
                "credential {from} was imported as {to} (its id is taken here by a credential of another project); the imported workflows use the new id"
            ));
        }
        if !self.unknown_types.is_empty() {
            notes.push(format!(
                "credential types this server does not know, stored unchecked: {}",
                self.unknown_types.join(", ")
            ));
        }
        for Named { id, name } in &self.workflows_active {
            notes.push(format!(
                "workflow \"{name}\" ({id}) was active in n8n and is imported unpublished; publish it when ready"
            ));
        }
        for Named { id, name } in &self.workflows_still_published {
            notes.push(format!(
                "workflow \"{name}\" ({id}) is published here and keeps running its published version; publish the imported version to run it"
            ));
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formerly_active_workflow_is_named() {
        let summary = Summary {
            workflows_active: vec![
                Named {
                    id: "a1".into(),
                    name: "Sync users".into(),
                },
                Named {
                    id: "b2".into(),
                    name: "Report".into(),
                },
            ],
            ..Summary::default()
        };
        let notes = summary.notes();
        assert_eq!(
            notes,
            [
                "workflow \"Sync users\" (a1) was active in n8n and is imported unpublished; publish it when ready",
                "workflow \"Report\" (b2) was active in n8n and is imported unpublished; publish it when ready",
            ]
        );
    }

    #[test]
    fn the_line_mentions_replacements_only_when_there_are_some() {
        let mut summary = Summary {
            project_id: "p".into(),
            project_name: "Me".into(),
            workflows: 2,
            ..Summary::default()
        };
        assert_eq!(
            summary.line(),
            "imported 2 workflows, 0 credentials and 0 new tags (0 existing) into project \"Me\" (p)"
        );
        summary.workflows_replaced = 2;
        assert!(summary
            .line()
            .ends_with("(p) (2 workflows and 0 credentials replaced by id)"));
    }
}
