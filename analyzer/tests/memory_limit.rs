//! The per-program memory limit (`fixpoint::mem_budget`): this test binary installs the counting
//! allocator, as the `bpfcheck` binary does, and solves an analysis whose states grow by 32 KiB
//! per loop iteration up to 8 MiB each (a stand-in for a program whose states blow up). Under a
//! 4 MiB limit the solver stops with `FixpointError::MemoryLimit`; under no limit, or with the
//! limit lifted for the scope, it reaches the fixpoint.

use analyzer::fixpoint::mem_budget::{self, CountingAlloc};
use analyzer::fixpoint::{solve, Analysis, Budget, FixpointError, Lattice, Thresholds, WideningPolicy, Wto};
use petgraph::graph::{DiGraph, NodeIndex};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Elements a state reaches at the fixpoint (8 MiB of u64).
const CAP: u64 = 1 << 20;
/// Elements added by one visit of the loop body.
const STEP: u64 = 4096;

/// The set `{0, .., n-1}` stored element by element (so it costs 8 bytes per element);
/// `None` is bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Prefix(Option<Vec<u64>>);

impl Prefix {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, Vec::len)
    }
}

impl Lattice for Prefix {
    fn bottom() -> Self {
        Prefix(None)
    }
    fn top() -> Self {
        Prefix(Some((0..CAP).collect()))
    }
    fn is_bottom(&self) -> bool {
        self.0.is_none()
    }
    fn leq(&self, o: &Self) -> bool {
        self.is_bottom() || (!o.is_bottom() && self.len() <= o.len())
    }
    fn join(&mut self, o: &Self) -> bool {
        if o.is_bottom() || (!self.is_bottom() && o.len() <= self.len()) {
            return false;
        }
        *self = o.clone();
        true
    }
    fn meet(&self, o: &Self) -> Self {
        if self.leq(o) {
            self.clone()
        } else {
            o.clone()
        }
    }
    fn widen(&self, newer: &Self, _: &Thresholds) -> Self {
        let mut w = self.clone();
        w.join(newer);
        w
    }
    fn narrow(&self, newer: &Self) -> Self {
        newer.clone()
    }
}

/// Node 0 (entry) -> node 1 (loop body, grows the set) -> node 1 | node 2 (exit).
struct Grow {
    thresholds: Thresholds,
}

impl Analysis for Grow {
    type Domain = Prefix;
    type Node = ();
    type Edge = ();

    fn entry_state(&self) -> Prefix {
        Prefix(Some(vec![0]))
    }

    fn transfer_node(&self, node: NodeIndex, _: &(), state: &mut Prefix) {
        if node.index() != 1 {
            return;
        }
        if let Some(v) = &mut state.0 {
            let n = v.len() as u64;
            v.extend(n..(n + STEP).min(CAP));
        }
    }

    fn transfer_edge(&self, _: &(), _: NodeIndex, _: NodeIndex, state: &Prefix) -> Prefix {
        state.clone()
    }

    fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }
}

fn graph() -> (DiGraph<(), ()>, Wto) {
    let mut g = DiGraph::new();
    let (a, b, c) = (g.add_node(()), g.add_node(()), g.add_node(()));
    g.add_edge(a, b, ());
    g.add_edge(b, b, ());
    g.add_edge(b, c, ());
    let wto = Wto::new(&g, a);
    (g, wto)
}

fn run() -> Result<usize, FixpointError> {
    let (g, wto) = graph();
    let analysis = Grow { thresholds: Thresholds::default() };
    // Join (never widen early) until the set stops growing: CAP / STEP iterations.
    let policy = WideningPolicy { delay: u32::MAX, narrowing_iterations: 0 };
    let fix = solve(&g, NodeIndex::new(0), &wto, &analysis, &policy, &Budget::unlimited())?;
    Ok(fix.exit_of(NodeIndex::new(2)).map_or(0, Prefix::len))
}

#[test]
fn states_that_blow_up_hit_the_limit() {
    let _limit = mem_budget::limit_scope(Some(4 << 20));
    let err = run().expect_err("8 MiB states under a 4 MiB limit");
    match err {
        FixpointError::MemoryLimit { bytes, visits } => {
            assert!(bytes > 4 << 20, "reported {bytes} bytes, not over the limit");
            assert!(visits > 1 && visits < CAP / STEP, "stopped after {visits} visits");
        }
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
    assert!(mem_budget::counting(), "the counting allocator is installed in this binary");
}

#[test]
fn the_same_analysis_without_a_limit_reaches_its_fixpoint() {
    assert_eq!(mem_budget::current_limit(), None);
    assert_eq!(run(), Ok(CAP as usize));
    // Lifting a limit for a scope works the same.
    let _outer = mem_budget::limit_scope(Some(1 << 20));
    let _inner = mem_budget::limit_scope(None);
    assert_eq!(run(), Ok(CAP as usize));
}

#[test]
fn live_bytes_follow_allocations_on_this_thread() {
    let before = mem_budget::live_bytes();
    let v = vec![1u8; 1 << 20];
    let during = mem_budget::live_bytes();
    assert!(during - before >= 1 << 20, "{before} -> {during}");
    drop(v);
    assert!(mem_budget::live_bytes() - before < 1 << 10, "freed bytes are subtracted");
}

/// The limit reaches a real verification through `verify::Config::max_memory`: a limit of one
/// byte gives verdict `error` with the reason, the default limit the corpus verdict.
#[test]
fn verify_config_memory_limit_gives_an_error_verdict() {
    use analyzer::verify::{verify_program, Config, Verdict};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/loops/bounded_sum.o");
    let obj = analyzer::elf::load_object(&path).expect("corpus object loads");
    let tiny = Config { max_memory: Some(1), ..Config::default() };
    let r = verify_program(&obj, 0, &tiny);
    assert_eq!(r.verdict, Verdict::Error, "{:?}", r.error);
    assert!(r.error.as_deref().is_some_and(|e| e.contains("memory limit")), "{:?}", r.error);
    let r = verify_program(&obj, 0, &Config::default());
    assert_eq!(r.verdict, Verdict::Accepted, "{:?} {:?}", r.error, r.diagnostics);
}
