//! Loads every program of every object under a folder with the oracle and compares
//! the verdict with a `kernel-verdicts.tsv` reference (file, section, function, ..., verdict).
//!
//! `cargo run -p oracle --features samples --example verdicts -- /work/shared/ebpf-samples [file filter]`
//! Prints one line per disagreement and a summary; exits 0 either way.

use analyzer::elf::load_object;
use oracle::{load_program, LoadOptions};
use std::collections::HashMap;
use std::path::Path;

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/work/shared/ebpf-samples".into());
    let only = std::env::args().nth(2);
    let tsv = std::fs::read_to_string(Path::new(&root).join("kernel-verdicts.tsv")).unwrap_or_default();
    let mut reference: HashMap<(String, String, String), (String, String)> = HashMap::new();
    let mut files: Vec<String> = Vec::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.starts_with("file\t")) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 6 {
            continue;
        }
        if !files.contains(&cols[0].to_string()) {
            files.push(cols[0].to_string());
        }
        reference.insert(
            (cols[0].into(), cols[1].into(), cols[2].into()),
            (cols[4].into(), cols[5].into()),
        );
    }
    let opts = LoadOptions {
        stats: false,
        ..LoadOptions::default()
    };
    let (mut same, mut differ, mut errors, mut unknown) = (0, 0, 0, 0);
    for file in &files {
        if only.as_ref().is_some_and(|o| !file.contains(o.as_str())) {
            continue;
        }
        let obj = match load_object(&Path::new(&root).join(file)) {
            Ok(o) => o,
            Err(e) => {
                println!("LOADER {file}: {e}");
                errors += 1;
                continue;
            }
        };
        for prog in &obj.programs {
            let key = (file.clone(), prog.section.clone(), prog.name.clone());
            let Some((want, want_line)) = reference.get(&key) else {
                unknown += 1;
                continue;
            };
            match load_program(&obj, prog, &opts) {
                Ok(v) => {
                    let got = if v.accepted {
                        "accepted"
                    } else if v.rejected_by_verifier() {
                        "rejected"
                    } else {
                        "refused_no_log"
                    };
                    if got == want {
                        same += 1;
                    } else {
                        differ += 1;
                        println!(
                            "DIFF {file} {} {}: kernel-verdicts {want} ({want_line}), oracle {got} errno {} ({}) fixups {:?}",
                            prog.section,
                            prog.name,
                            v.errno,
                            v.error_line().unwrap_or(""),
                            v.fixups
                        );
                    }
                }
                Err(e) => {
                    errors += 1;
                    println!("ORACLE {file} {} {}: {e} (reference {want})", prog.section, prog.name);
                }
            }
        }
    }
    println!("same {same}, different {differ}, errors {errors}, not in reference {unknown}");
}
