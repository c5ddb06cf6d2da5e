//! The HTML report in a real browser: the demo report is rendered, loaded
//! in headless Chromium (`.ci/run` installs Debian's `chromium` when
//! missing; `CXM_CHROMIUM` names another binary) and screenshotted at
//! desktop and phone width under the build folder
//! (`target/tmp/html-report/`).

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

/// The sections of the demo report, by their `aria-label`.
const SECTIONS: [&str; 14] = [
    "support headline",
    "sla headline",
    "revenue headline",
    "surveys headline",
    "support",
    "sla",
    "revenue",
    "cohorts",
    "surveys",
    "purchases",
    "health",
    "health_summary",
    "data quality",
    "meta",
];

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CXM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `args`; returns stdout and stderr.
fn browse(browser: &Path, page: &Path, args: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Process::new(browser)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn config_with_sla(dir: &Path) -> PathBuf {
    let d = dir.join("demo");
    Command::cargo_bin("cxm").unwrap().args(["demo", "-q", "--rows", "3000", "--out"]).arg(&d).assert().success();
    let cfg = d.join("cxm.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[sla.targets]\nurgent = { first_response = \"1h\", resolution = \"8h\" }\ndefault = { first_response = \"8h\" }\n");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn demo_report_in_headless_chromium() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = config_with_sla(&dir);
    let page = dir.join("report.html");
    Command::cargo_bin("cxm")
        .unwrap()
        .args(["report", "-q", "--config"])
        .arg(&cfg)
        .arg("--output")
        .arg(&page)
        .assert()
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["http:", "https:", "src=", "url(", "<script", "<link", "@import"] {
        assert!(!html.contains(external), "the page refers to something outside it: {external}");
    }
    for s in SECTIONS {
        assert!(html.contains(&format!("aria-label=\"{s}\"")), "section {s} missing");
    }
    let charts = html.matches("<svg role=\"img\" aria-label=").count();
    assert!(charts >= 10, "{charts} charts");
    assert_eq!(charts, html.matches("Data of this chart").count(), "every chart has its data table");
    let Some(browser) = chromium() else {
        panic!("headless Chromium not found: install Debian's chromium (.ci/run does) or set CXM_CHROMIUM")
    };
    let (dom, log) = browse(&browser, &page, &["--dump-dom".into()]);
    assert!(!log.contains("CONSOLE"), "console messages:\n{log}");
    for s in SECTIONS {
        assert!(dom.contains(&format!("aria-label=\"{s}\"")), "section {s} missing from the loaded page");
    }
    assert_eq!(dom.matches("<svg").count(), charts, "every chart is in the loaded page");
    for (name, size) in [("report.png", "1200,4000"), ("report-375.png", "375,6000")] {
        let shot = dir.join(name);
        browse(&browser, &page, &[format!("--screenshot={}", shot.display()), format!("--window-size={size}")]);
        let bytes = std::fs::read(&shot).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{name} was not written");
    }
}
