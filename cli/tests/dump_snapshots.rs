//! insta snapshots of `bpfcheck dump` for every object in `corpus/`: programs, maps and
//! the disassembly in the kernel's syntax with source lines, as a user sees them.

use std::path::Path;
use std::process::Command;

#[test]
fn dump_snapshots() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus.join("snapshots/dump"));
    settings.set_prepend_module_to_snapshot(false);
    let mut objects = Vec::new();
    for family in std::fs::read_dir(&corpus).unwrap().flatten() {
        if !family.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(family.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "o") {
                objects.push(f.path());
            }
        }
    }
    objects.sort();
    assert!(objects.len() > 50, "corpus objects: {}", objects.len());
    settings.bind(|| {
        for o in &objects {
            let rel = o.strip_prefix(&corpus).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_bpfcheck")).arg("dump").arg(rel).current_dir(&corpus).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", rel.display());
            let name = rel.with_extension("").display().to_string().replace('/', "__");
            insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
        }
    });
}
