//! Output never touches input: before anything is read, every path cxm
//! will write is compared with every input path (files, glob matches,
//! directory members, the config and the rates table), by canonical path
//! and by file identity, so a symlink or hard link cannot slip through.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use metrics_core::mapping::TableInput;
use metrics_core::source::Source;

use crate::settings::{Settings, Target};

/// One input: its name, its files, and the directory given, if it was one.
struct InputPaths {
    what: String,
    files: Vec<PathBuf>,
    dir: Option<PathBuf>,
}

/// The canonical form of `p`: resolved when it exists, else its parent's
/// canonical form joined with its name (an output not yet written).
fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            canonical(parent).join(name)
        }
        _ => p.to_path_buf(),
    }
}

/// Whether two existing paths are the same file (a hard link included).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

fn input_paths(what: &str, t: &TableInput) -> InputPaths {
    let files = Source::resolve(&t.path).map(|s| s.files).unwrap_or_default();
    let p = Path::new(&t.path);
    let dir = p.is_dir().then(|| canonical(p));
    InputPaths { what: what.to_owned(), files: files.iter().map(|f| canonical(f)).collect(), dir }
}

/// Refuses (exit 1, nothing written) an output that is an input, a folder
/// output that holds an input, or one inside an input directory.
pub(crate) fn output_is_not_input(settings: &Settings, config: Option<&Path>) -> Result<()> {
    let i = &settings.inputs;
    let mut inputs: Vec<InputPaths> = [
        ("tickets", &i.tickets),
        ("subscriptions", &i.subscriptions),
        ("accounts", &i.accounts),
        ("surveys", &i.surveys),
        ("transactions", &i.transactions),
        ("usage", &i.usage),
        ("rates", &settings.options.revenue.rates),
    ]
    .into_iter()
    .filter_map(|(what, t)| t.as_ref().map(|t| input_paths(what, t)))
    .collect();
    if let Some(c) = config {
        inputs.push(InputPaths { what: "config".into(), files: vec![canonical(c)], dir: None });
    }
    match &settings.target {
        Target::Stdout => Ok(()),
        Target::File(out) => {
            let o = canonical(out);
            for input in &inputs {
                if let Some(f) = input.files.iter().find(|f| **f == o || same_file(f, out)) {
                    bail!(
                        "refusing to write {}: it is the {} input {}; choose another output (nothing was written)",
                        out.display(),
                        input.what,
                        f.display()
                    );
                }
            }
            Ok(())
        }
        Target::Folder(dir) => {
            let d = canonical(dir);
            for input in &inputs {
                if let Some(f) = input.files.iter().find(|f| f.starts_with(&d)) {
                    bail!(
                        "refusing to write into {}: the folder holds the {} input {}; choose another output folder (nothing was written)",
                        dir.display(),
                        input.what,
                        f.display()
                    );
                }
                if let Some(idir) = input.dir.as_ref().filter(|idir| d.starts_with(idir)) {
                    bail!(
                        "refusing to write into {}: it is inside the {} input directory {}, whose next read would take the report as data; choose another output folder (nothing was written)",
                        dir.display(),
                        input.what,
                        idir.display()
                    );
                }
            }
            Ok(())
        }
    }
}
