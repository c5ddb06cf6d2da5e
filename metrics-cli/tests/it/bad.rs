//! The hostile-input corpus: every folder of `fixtures/bad/` is one case,
//! run through the `cxm` binary in a scratch copy of the folder. Each case's
//! `case.toml` says what must happen (see `fixtures/bad/README.md`); on top
//! of that, every case must end without a panic, and a case that fails
//! (exit code other than 0) must leave every file exactly as it was and
//! write nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case shows (for the reader).
    #[allow(dead_code)]
    why: String,
    /// Arguments after `cxm`, run in the scratch folder.
    args: Vec<String>,
    /// Expected exit code.
    exit: i32,
    /// Phrases that must appear in stderr.
    #[serde(default)]
    stderr: Vec<String>,
    /// Phrases that must appear in stdout.
    #[serde(default)]
    stdout: Vec<String>,
    /// Phrases that must not appear in stdout.
    #[serde(default)]
    stdout_not: Vec<String>,
    /// `table:reason` pairs that must appear in the JSON report's
    /// data_quality (the case must write `--format json` to stdout).
    #[serde(default)]
    quality: Vec<String>,
    /// Files the run is expected to create (a successful run with --output).
    #[serde(default)]
    written: Vec<String>,
    /// Symlinks made before the run: `link -> target`.
    #[serde(default)]
    symlinks: BTreeMap<String, String>,
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let kind = e.file_type().unwrap();
            let p = e.path();
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file() {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else if e.file_name() != "case.toml" {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Runs one case; returns what went wrong, if anything.
fn run(name: &str, folder: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(folder.join("case.toml")).unwrap();
    let case: Case = match toml::from_str(&text) {
        Ok(c) => c,
        Err(e) => return vec![format!("case.toml: {e}")],
    };
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("case");
    copy_dir(folder, &dir);
    #[cfg(unix)]
    for (link, target) in &case.symlinks {
        std::os::unix::fs::symlink(target, dir.join(link)).unwrap();
    }
    let before = snapshot(&dir);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("cxm"))
        .args(&case.args)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let code = out.status.code().unwrap_or(-1);
    let mut problems = Vec::new();
    if code == 101 || stderr.contains("panicked") {
        problems.push(format!("panicked: {stderr}"));
    }
    if code != case.exit {
        problems.push(format!("exit {code}, expected {}; stderr: {stderr}", case.exit));
    }
    for p in &case.stderr {
        if !stderr.to_lowercase().contains(&p.to_lowercase()) {
            problems.push(format!("stderr lacks {p:?}: {stderr}"));
        }
    }
    for p in &case.stdout {
        if !stdout.contains(p.as_str()) {
            problems.push(format!("stdout lacks {p:?}"));
        }
    }
    for p in &case.stdout_not {
        if stdout.contains(p.as_str()) {
            problems.push(format!("stdout has {p:?}"));
        }
    }
    if !case.quality.is_empty() {
        match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(v) => {
                for q in &case.quality {
                    let (table, reason) = q.split_once(':').unwrap_or((q, ""));
                    let found = v["data_quality"][table]
                        .as_array()
                        .is_some_and(|rows| rows.iter().any(|r| r["reason"] == reason));
                    if !found {
                        problems.push(format!("data_quality lacks {q}: {}", v["data_quality"]));
                    }
                }
            }
            Err(e) => problems.push(format!("stdout is not JSON ({e}); stderr: {stderr}")),
        }
    }
    // Inputs are never changed; a failed run writes nothing.
    let after = snapshot(&dir);
    for (path, bytes) in &before {
        match after.get(path) {
            Some(b) if b == bytes => {}
            Some(_) => problems.push(format!("{} was changed", path.display())),
            None => problems.push(format!("{} was deleted", path.display())),
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        let expected = case.written.iter().any(|w| path == Path::new(w) || path.starts_with(w));
        if code != 0 || !expected {
            problems.push(format!("{} was written", path.display()));
        }
    }
    for w in &case.written {
        if code == 0 && !dir.join(w).exists() {
            problems.push(format!("{w} was not written"));
        }
    }
    problems.into_iter().map(|p| format!("{name}: {p}")).collect()
}

#[test]
fn every_hostile_case_ends_as_its_case_file_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bad");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 60, "fixtures/bad holds {} cases; the corpus needs at least 60", names.len());
    let problems: Vec<String> = names.iter().flat_map(|p| run(&p.file_name().unwrap().to_string_lossy(), p)).collect();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
