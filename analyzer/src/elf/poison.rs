//! Messages for poisoned instructions: what libbpf prints when the verifier reaches an
//! instruction the loader replaced (an unresolvable CO-RE relocation, `call 0xbad2310`;
//! an unresolved kfunc, `call 2002000000 + n`).
//!
//! libbpf rewrites the kernel's `invalid func unknown#195896080` into its own line from
//! what it knows about the relocation; we do the same: the loader registers the message
//! per (program, pc) and the verifier asks for it when it reaches such a call.
//!
//! Programs are identified by a hash of their decoded instructions, because the
//! `Program` the verifier receives carries no loader notes yet (a per-pc map on
//! `Program` would be cleaner). A program whose instructions the verifier changed, or
//! an identical program with a different message, gets a message of the same kind or
//! the kernel's raw wording: never a different verdict. The table only grows with
//! poisoned programs, which are rare.

use crate::insn::{decode, Insn, RawInsn};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

/// libbpf's `POISON_CALL_KFUNC_BASE`: an unresolved kfunc call becomes `call BASE + n`.
pub const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;

static MESSAGES: OnceLock<Mutex<HashMap<(u64, usize), String>>> = OnceLock::new();

fn key(insns: &[Insn]) -> u64 {
    let mut h = DefaultHasher::new();
    insns.hash(&mut h);
    h.finish()
}

/// True for the helper ids libbpf uses to poison instructions.
pub fn is_poison_call(imm: i32) -> bool {
    imm == super::core::POISON_CALL_IMM || (POISON_CALL_KFUNC_BASE..POISON_CALL_KFUNC_BASE + 1_000_000).contains(&imm)
}

/// Records the messages of a linked program's poisoned pcs.
pub(crate) fn register(raw: &[RawInsn], messages: &[(usize, String)]) {
    if messages.is_empty() {
        return;
    }
    let Ok(insns) = decode(raw) else { return };
    let k = key(&insns);
    let table = MESSAGES.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(mut t) = table.lock() {
        for (pc, m) in messages {
            t.insert((k, *pc), m.clone());
        }
    }
}

/// The loader's message for the poisoned call at `pc` of `insns`, if it registered one.
pub fn message(insns: &[Insn], pc: usize) -> Option<String> {
    let table = MESSAGES.get()?;
    let t = table.lock().ok()?;
    t.get(&(key(insns), pc)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_messages_are_found_by_program_and_pc() {
        let raw = [super::super::core::poison_insn(), RawInsn { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }];
        register(&raw, &[(0, "failed to resolve CO-RE relocation <byte_off> test".to_string())]);
        let insns = decode(&raw).expect("decodes");
        assert_eq!(message(&insns, 0).as_deref(), Some("failed to resolve CO-RE relocation <byte_off> test"));
        assert_eq!(message(&insns, 1), None);
        assert!(is_poison_call(0xbad2310) && is_poison_call(POISON_CALL_KFUNC_BASE + 3) && !is_poison_call(1));
    }
}
