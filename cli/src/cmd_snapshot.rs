//! `bpfcheck snapshot DIR`: writes, for every program of every object under DIR, its
//! level-2 kernel-style log and its JSON report as stable text files, so a user's CI can
//! gate on verdict and log changes (`--check` compares instead of writing and exits 1
//! on any difference, listing the files that changed).

use crate::collect::object_files;
use analyzer::verify::{verify_program, Config};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The snapshot files of one object: (file name, contents).
pub(crate) fn snapshots_of(obj: &analyzer::object::Object, label: &str) -> Vec<(String, String)> {
    let config = Config { collect_states: true, ..Config::default() };
    let mut out = Vec::new();
    for i in 0..obj.programs.len() {
        let mut r = verify_program(obj, i, &config);
        r.file = label.to_string();
        let stem = format!("{}__{}", label.replace(['/', '\\'], "__"), r.name);
        out.push((format!("{stem}.log"), reports::kernel_log::kernel_log(&r, 2)));
        let json = reports::json::json_report(std::slice::from_ref(&r), &[], &reports::json::JsonOptions { timings: false });
        out.push((format!("{stem}.json"), serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"));
    }
    out
}

pub(crate) fn run(dir: &Path, out: &Path, check: bool) -> Result<ExitCode> {
    let files = object_files(&[dir.to_path_buf()])?;
    let mut changed: Vec<PathBuf> = Vec::new();
    let mut written = 0;
    if !check {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    for f in files {
        let label = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        let obj = match analyzer::elf::load_object(&f) {
            Ok(o) => o,
            Err(e) => {
                // A load error is a snapshot too: it must stay the same.
                let name = format!("{}.error", label.replace(['/', '\\'], "__"));
                let text = format!("{e}\n");
                compare_or_write(out, &name, &text, check, &mut changed, &mut written)?;
                continue;
            }
        };
        for (name, text) in snapshots_of(&obj, &label) {
            compare_or_write(out, &name, &text, check, &mut changed, &mut written)?;
        }
    }
    if check {
        for c in &changed {
            println!("changed: {}", c.display());
        }
        println!("{} snapshot(s) changed", changed.len());
        Ok(if changed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    } else {
        println!("wrote {written} snapshot file(s) to {}", out.display());
        Ok(ExitCode::SUCCESS)
    }
}

fn compare_or_write(
    out: &Path,
    name: &str,
    text: &str,
    check: bool,
    changed: &mut Vec<PathBuf>,
    written: &mut usize,
) -> Result<()> {
    let path = out.join(name);
    if check {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            changed.push(path);
        }
    } else {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        *written += 1;
    }
    Ok(())
}
