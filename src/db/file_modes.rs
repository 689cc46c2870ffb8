//! The SQLite database holds password hashes, key HMACs and sealed secrets: its folder is
//! private to the server's user (0700) and its files (the database and SQLite's `-wal` and
//! `-shm` companions, which SQLite creates with the database file's mode) are 0600. Looser
//! modes left by an older version or a copy are tightened at start, with a warning.

use std::path::Path;

/// Creates `folder` (0700) if needed and the database file (0600) if it does not exist, and
/// tightens the modes of what is already there.
pub fn secure(folder: Option<&Path>, database: &Path) -> std::io::Result<()> {
    if let Some(folder) = folder.filter(|f| !f.as_os_str().is_empty()) {
        if !folder.exists() {
            create_private_dir(folder)?;
        } else if is_default_data_folder(folder, database) {
            tighten(folder, 0o700)?;
        }
    }
    if !database.exists() {
        create_private_file(database)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = Path::new(&name);
        if path.exists() {
            tighten(path, 0o600)?;
        }
    }
    Ok(())
}

/// Only the folder the server made for its database is tightened; a folder the operator
/// chose for a database file of their own (say `/srv/shared/`) keeps its mode.
fn is_default_data_folder(folder: &Path, database: &Path) -> bool {
    database.file_name().is_some_and(|n| n == "flowgate.sqlite")
        && database.parent() == Some(folder)
}

#[cfg(unix)]
fn create_private_dir(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
}

#[cfg(not(unix))]
fn create_private_dir(folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Ok(()),
            _ => Err(e),
        })
}

#[cfg(not(unix))]
fn create_private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        tracing::warn!(
            path = %path.display(),
            from = format!("{current:o}"),
            to = format!("{mode:o}"),
            "the database's files were readable by other users; tightening their mode"
        );
        // A folder or file owned by another user (a mounted volume) cannot be changed: that
        // is the operator's to fix, and no reason to refuse to start.
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            tracing::warn!(path = %path.display(), %error, "cannot tighten the mode");
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn a_new_database_and_its_folder_are_private() {
        let root = tempfile::tempdir().expect("temp dir");
        let folder = root.path().join("data");
        let database = folder.join("flowgate.sqlite");
        secure(Some(&folder), &database).expect("secured");
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&database), 0o600);
    }

    #[test]
    fn looser_modes_are_tightened_and_chosen_folders_kept() {
        let root = tempfile::tempdir().expect("temp dir");
        let database = root.path().join("flowgate.sqlite");
        let wal = root.path().join("flowgate.sqlite-wal");
        for path in [&database, &wal] {
            std::fs::write(path, b"").expect("written");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        secure(Some(root.path()), &database).expect("secured");
        assert_eq!(mode(&database), 0o600);
        assert_eq!(mode(&wal), 0o600);
        assert_eq!(mode(root.path()), 0o700, "the server's own data folder");

        let shared = tempfile::tempdir().expect("temp dir");
        std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let elsewhere = shared.path().join("mine.db");
        secure(Some(shared.path()), &elsewhere).expect("secured");
        assert_eq!(mode(&elsewhere), 0o600);
        assert_eq!(
            mode(shared.path()),
            0o755,
            "a folder the operator chose keeps its mode"
        );
    }
}
