//! The dependency graph: tables as nodes, one edge per foreign key (parallel edges
//! allowed, so two renamed keys from one child to one parent stay distinct), each
//! edge carrying its attribute map and whether it is primary or renamed. Lists
//! parents, children, ancestors and descendants in topological order, with part
//! tables placed right after their masters as DataJoint does.

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::heading::ForeignKey;
use crate::naming::FullName;
use petgraph::algo::toposort;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use petgraph::Direction;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// One foreign key as a graph edge (parent → child).
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// (child attribute, parent attribute) pairs.
    pub attr_map: Vec<(String, String)>,
    /// The foreign-key attributes are all in the child's primary key.
    pub primary: bool,
    /// Some attribute is renamed.
    pub aliased: bool,
    /// Declared nullable.
    pub nullable: bool,
}

/// The dependency graph of a catalog.
#[derive(Debug, Clone)]
pub struct Graph {
    g: StableDiGraph<FullName, Edge>,
    index: HashMap<FullName, NodeIndex>,
    order: Vec<FullName>,
}

impl Graph {
    /// Builds the graph of every user-visible table in the catalog.
    pub fn build(catalog: &Catalog) -> Result<Graph> {
        let mut g = StableDiGraph::new();
        let mut index = HashMap::new();
        for info in catalog.user_tables(None) {
            index.insert(info.name.clone(), g.add_node(info.name.clone()));
        }
        for info in catalog.user_tables(None) {
            let child = index[&info.name];
            let pk = info.primary_key();
            for fk in &info.foreign_keys {
                let Some(&parent) = index.get(&fk.parent) else {
                    continue;
                };
                g.add_edge(parent, child, edge_of(fk, &pk));
            }
        }
        let mut graph = Graph {
            g,
            index,
            order: Vec::new(),
        };
        graph.order = graph.sorted()?;
        Ok(graph)
    }

    /// Topological order with parts right after their masters.
    fn sorted(&self) -> Result<Vec<FullName>> {
        // sort on a copy where each part's other parents also point to its master, so
        // that a master comes after everything its parts depend on
        let mut h: StableDiGraph<FullName, ()> = self.g.map(|_, n| n.clone(), |_, _| ());
        for (name, &ix) in &self.index {
            if let Some(m) = name.master().and_then(|m| self.index.get(&m).copied()) {
                let parents: Vec<NodeIndex> =
                    self.g.neighbors_directed(ix, Direction::Incoming).collect();
                for p in parents {
                    // the master itself and sibling parts are not outside dependencies
                    let sibling = self.g[p].master().as_ref() == Some(&self.g[m]);
                    if p != m && !sibling && !h.contains_edge(p, m) {
                        h.add_edge(p, m, ());
                    }
                }
            }
        }
        let order = toposort(&h, None).map_err(|c| {
            Error::Query(format!(
                "dependency cycle through {}",
                h[c.node_id()].pretty()
            ))
        })?;
        let names: Vec<FullName> = order.into_iter().map(|i| h[i].clone()).collect();
        let mut out: Vec<FullName> = Vec::with_capacity(names.len());
        for n in &names {
            if n.master().is_some_and(|m| self.index.contains_key(&m)) {
                continue;
            }
            out.push(n.clone());
            // parts of n, in their own topological order
            out.extend(
                names
                    .iter()
                    .filter(|p| p.master().as_ref() == Some(n))
                    .cloned(),
            );
        }
        Ok(out)
    }

    /// Every table in topological order.
    pub fn topo_order(&self) -> &[FullName] {
        &self.order
    }

    /// Sorts names into topological order.
    pub fn sort(&self, names: impl IntoIterator<Item = FullName>) -> Vec<FullName> {
        let set: BTreeSet<FullName> = names.into_iter().collect();
        self.order
            .iter()
            .filter(|n| set.contains(n))
            .cloned()
            .collect()
    }

    /// True when the table is in the graph.
    pub fn contains(&self, name: &FullName) -> bool {
        self.index.contains_key(name)
    }

    /// Direct parents with the edge to each (one entry per foreign key).
    pub fn parents(&self, name: &FullName) -> Vec<(FullName, Edge)> {
        self.neighbors(name, Direction::Incoming)
    }

    /// Direct children with the edge from `name` to each (one entry per foreign key).
    pub fn children(&self, name: &FullName) -> Vec<(FullName, Edge)> {
        self.neighbors(name, Direction::Outgoing)
    }

    fn neighbors(&self, name: &FullName, dir: Direction) -> Vec<(FullName, Edge)> {
        let Some(&ix) = self.index.get(name) else {
            return Vec::new();
        };
        self.g
            .edges_directed(ix, dir)
            .map(|e| {
                let other = if dir == Direction::Incoming {
                    e.source()
                } else {
                    e.target()
                };
                (self.g[other].clone(), e.weight().clone())
            })
            .collect()
    }

    fn reach(&self, name: &FullName, dir: Direction) -> Vec<FullName> {
        let Some(&start) = self.index.get(name) else {
            return Vec::new();
        };
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start]);
        while let Some(ix) = queue.pop_front() {
            for n in self.g.neighbors_directed(ix, dir) {
                if seen.insert(self.g[n].clone()) {
                    queue.push_back(n);
                }
            }
        }
        self.sort(seen)
    }

    /// All ancestors of `name` (not including it), topologically sorted.
    pub fn ancestors(&self, name: &FullName) -> Vec<FullName> {
        self.reach(name, Direction::Incoming)
    }

    /// `name` and all its descendants, topologically sorted.
    pub fn descendants(&self, name: &FullName) -> Vec<FullName> {
        let mut out = self.reach(name, Direction::Outgoing);
        out.retain(|n| n != name);
        out.insert(0, name.clone());
        out
    }

    /// The part tables of a master.
    pub fn parts(&self, master: &FullName) -> Vec<FullName> {
        self.order
            .iter()
            .filter(|n| n.master().as_ref() == Some(master))
            .cloned()
            .collect()
    }

    /// The master of a part table, when it is in the graph.
    pub fn master(&self, part: &FullName) -> Option<FullName> {
        part.master().filter(|m| self.index.contains_key(m))
    }

    /// All edges as (parent, child, edge).
    pub fn edges(&self) -> Vec<(FullName, FullName, Edge)> {
        self.g
            .edge_references()
            .map(|e| {
                (
                    self.g[e.source()].clone(),
                    self.g[e.target()].clone(),
                    e.weight().clone(),
                )
            })
            .collect()
    }
}

fn edge_of(fk: &ForeignKey, child_pk: &[String]) -> Edge {
    Edge {
        attr_map: fk.attr_map.clone(),
        primary: fk.attr_map.iter().all(|(c, _)| child_pk.contains(c)),
        aliased: fk.is_aliased(),
        nullable: fk.nullable,
    }
}
