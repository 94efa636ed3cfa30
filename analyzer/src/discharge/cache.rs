//! The query cache of one run: discharge outcomes keyed by a canonical description of the
//! query, shared by every rayon thread of the run.
//!
//! A query is one obligation: the program's instructions, maps and type, the diagnostic (pc,
//! code, message) and the search bounds. Together they determine the Z3 formulas the search
//! builds, so the key is a 128-bit hash of their canonical text (two SipHash-1-3 passes with
//! different prefixes). The same program in several objects (copies in a corpus, a program
//! verified once per attach point), or the same obligation asked twice, is solved once. An
//! outcome depends on the time budget only through `Unknown`, which is cached too: in one run,
//! asking again under the same budget would give the same answer, slower.

use super::{DischargeConfig, DischargeOutcome};
use crate::diag::Diagnostic;
use crate::object::Object;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Outcomes by query key, and how many lookups hit.
#[derive(Debug, Default)]
pub struct QueryCache {
    outcomes: Mutex<HashMap<u128, DischargeOutcome>>,
    hits: AtomicU64,
}

/// The canonical key of the query "is `diag` of program `index` of `obj` real?" under `config`.
/// `None` for a missing program (never cached).
pub fn query_key(obj: &Object, index: usize, diag: &Diagnostic, config: &DischargeConfig) -> Option<u128> {
    let prog = obj.programs.get(index)?;
    let mut text = String::new();
    use std::fmt::Write;
    let _ = write!(text, "type={:?};insns=", prog.prog_type);
    for i in &prog.insns {
        let _ = write!(text, "{i:?},");
    }
    for m in &obj.maps {
        let _ = write!(
            text,
            ";map={}/{}/{}/{}/{}/{}/{:?}/{:?}",
            m.name, m.map_type, m.key_size, m.value_size, m.max_entries, m.map_flags, m.inner, m.initial_value
        );
    }
    let _ = write!(text, ";diag={}/{}/{};config={config:?}", diag.pc, diag.code.as_str(), diag.message);
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    };
    Some((u128::from(half(1)) << 64) | u128::from(half(2)))
}

impl QueryCache {
    pub fn new() -> QueryCache {
        QueryCache::default()
    }

    /// The cached outcome of `key`, counting a hit.
    pub fn get(&self, key: u128) -> Option<DischargeOutcome> {
        let found = self.outcomes.lock().ok()?.get(&key).cloned();
        if found.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    pub fn insert(&self, key: u128, outcome: DischargeOutcome) {
        if let Ok(mut m) = self.outcomes.lock() {
            m.insert(key, outcome);
        }
    }

    /// Lookups answered from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Distinct queries stored.
    pub fn len(&self) -> usize {
        self.outcomes.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::DiagCode;
    use crate::object::Program;
    use crate::prog_type::ProgType;

    fn obj(insns: &str) -> Object {
        Object {
            path: "t".into(),
            license: None,
            kern_version: None,
            maps: Vec::new(),
            programs: vec![Program {
                section: "xdp".into(),
                name: "p".into(),
                prog_type: ProgType::Xdp,
                expected_attach_type: None,
                insns: crate::insn::parse_program(insns).expect("parses"),
                functions: vec![(0, "p".into())],
                line_info: Default::default(),
            }],
            btf: None,
            parsed_btf: Default::default(),
        }
    }

    #[test]
    fn keys_differ_by_program_diagnostic_and_config_and_not_by_path() {
        let d = Diagnostic::new(0, DiagCode::PacketAccess, "m");
        let c = DischargeConfig::default();
        let a = obj("r0 = 0\nexit");
        let mut a2 = obj("r0 = 0\nexit");
        a2.path = "elsewhere".into();
        let b = obj("r0 = 1\nexit");
        let k = query_key(&a, 0, &d, &c);
        assert!(k.is_some());
        assert_eq!(k, query_key(&a2, 0, &d, &c));
        assert_ne!(k, query_key(&b, 0, &d, &c));
        assert_ne!(k, query_key(&a, 0, &Diagnostic::new(1, DiagCode::PacketAccess, "m"), &c));
        assert_ne!(k, query_key(&a, 0, &d, &DischargeConfig::full()));
        assert_eq!(query_key(&a, 1, &d, &c), None);
    }

    #[test]
    fn hits_are_counted() {
        let cache = QueryCache::new();
        assert_eq!(cache.get(7), None);
        cache.insert(7, DischargeOutcome::Proved);
        assert_eq!(cache.get(7), Some(DischargeOutcome::Proved));
        assert_eq!(cache.get(8), None);
        assert_eq!((cache.hits(), cache.len()), (1, 1));
    }
}
