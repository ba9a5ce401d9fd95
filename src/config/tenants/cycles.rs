//! Import cycles: tenant `a` importing from `b` while `b` (directly or
//! through others) imports from `a`. A message could then travel around the
//! loop forever, so the set is rejected when loaded, as nats-server does.

use super::links::import_kind;
use super::{Issues, TenantSet};

/// Enough to show the operator the shape of the problem; a pathological set
/// can hold exponentially many cycles.
const MAX_REPORTED: usize = 32;

/// An edge `from -> to`, labelled with the first import that makes it.
#[derive(Clone, Copy)]
struct Edge {
    to: usize,
    import: usize,
}

/// A cycle as the edges it follows, each from the tenant at the same index.
type Cycle = Vec<(usize, Edge)>;

pub(super) fn check_cycles(set: &TenantSet<'_>, out: &mut Issues<'_>) {
    let graph = import_graph(set);
    let cycles = elementary_cycles(&graph, MAX_REPORTED);
    for cycle in &cycles {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&(from, _)| set.files[from].1.name.as_str())
            .chain(std::iter::once(set.files[cycle[0].0].1.name.as_str()))
            .collect();
        let edges: Vec<String> = cycle
            .iter()
            .map(|&(from, edge)| format!("{} imports[{}]", set.path(from), edge.import))
            .collect();
        let (start, first) = cycle[0];
        let message = format!(
            "import cycle: {} (via {})",
            names.join(" -> "),
            edges.join(", ")
        );
        out.push(start, format!("imports[{}]", first.import), message);
    }
    if cycles.len() == MAX_REPORTED {
        let message = format!("stopped after {MAX_REPORTED} import cycles; there may be more");
        out.push(cycles[0][0].0, "imports", message);
    }
}

/// Tenant -> source account, over stream and service imports alike. Imports
/// of unknown accounts or of the tenant itself are reported elsewhere and
/// left out here.
fn import_graph(set: &TenantSet<'_>) -> Vec<Vec<Edge>> {
    set.tenants()
        .map(|(f, t)| {
            let mut edges: Vec<Edge> = Vec::new();
            for (i, import) in t.imports.iter().enumerate() {
                let Some((_, source)) = import_kind(import) else {
                    continue;
                };
                let Some(&to) = set.by_name.get(source.account.as_str()) else {
                    continue;
                };
                if to != f && !edges.iter().any(|e| e.to == to) {
                    edges.push(Edge { to, import: i });
                }
            }
            edges
        })
        .collect()
}

/// Every elementary cycle, each found once: from its lowest-numbered tenant,
/// walking only through higher-numbered ones.
fn elementary_cycles(graph: &[Vec<Edge>], limit: usize) -> Vec<Cycle> {
    let mut walk = Walk {
        graph,
        on_path: vec![false; graph.len()],
        path: Vec::new(),
        found: Vec::new(),
        limit,
    };
    for start in 0..graph.len() {
        walk.from(start, start);
    }
    walk.found
}

struct Walk<'g> {
    graph: &'g [Vec<Edge>],
    on_path: Vec<bool>,
    path: Cycle,
    found: Vec<Cycle>,
    limit: usize,
}

impl Walk<'_> {
    fn from(&mut self, start: usize, node: usize) {
        self.on_path[node] = true;
        for &edge in &self.graph[node] {
            if self.found.len() >= self.limit {
                break;
            }
            self.path.push((node, edge));
            if edge.to == start {
                self.found.push(self.path.clone());
            } else if edge.to > start && !self.on_path[edge.to] {
                self.from(start, edge.to);
            }
            self.path.pop();
        }
        self.on_path[node] = false;
    }
}
