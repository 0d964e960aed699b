//! Pictures of the dependency graph: Graphviz DOT, Mermaid, and a self-drawn SVG
//! (layered layout, DataJoint's tier colours: Manual green boxes, Lookup grey,
//! Imported blue and Computed red ellipses, parts as plain text; primary
//! dependencies solid, secondary dashed, renamed ones orange).

use crate::catalog::Catalog;
use crate::error::Result;
use crate::graph::Graph;
use crate::naming::{FullName, Tier};
use std::collections::HashMap;

/// Output format of a diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagramFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// SVG image.
    Svg,
}

impl DiagramFormat {
    /// The format implied by a file extension (`dot`, `gv`, `mmd`, `mermaid`, `svg`).
    pub fn from_extension(ext: &str) -> Option<DiagramFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "dot" | "gv" => Some(DiagramFormat::Dot),
            "mmd" | "mermaid" => Some(DiagramFormat::Mermaid),
            "svg" => Some(DiagramFormat::Svg),
            _ => None,
        }
    }
}

struct Node {
    name: FullName,
    label: String,
    tier: Tier,
}

struct Link {
    from: usize,
    to: usize,
    primary: bool,
    aliased: bool,
}

fn collect(
    graph: &Graph,
    multi_schema: bool,
    keep: impl Fn(&FullName) -> bool,
) -> (Vec<Node>, Vec<Link>) {
    let nodes: Vec<Node> = graph
        .topo_order()
        .iter()
        .filter(|n| keep(n))
        .map(|n| Node {
            name: n.clone(),
            label: if multi_schema {
                n.pretty()
            } else {
                n.class_name()
            },
            tier: n.tier().unwrap_or(Tier::Manual),
        })
        .collect();
    let pos: HashMap<&FullName, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (&n.name, i))
        .collect();
    let mut links = Vec::new();
    for (p, c, e) in graph.edges() {
        if let (Some(&a), Some(&b)) = (pos.get(&p), pos.get(&c)) {
            links.push(Link {
                from: a,
                to: b,
                primary: e.primary,
                aliased: e.aliased,
            });
        }
    }
    (nodes, links)
}

fn id(n: &FullName) -> String {
    format!("{}__{}", n.schema, n.table.replace('#', "L_"))
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
}

/// Draws the graph of one schema, or of the whole database when `schema` is None.
pub fn render(
    catalog: &Catalog,
    graph: &Graph,
    schema: Option<&str>,
    format: DiagramFormat,
) -> Result<String> {
    let multi_schema = schema.is_none() && catalog.schemas.len() > 1;
    let (nodes, links) = collect(graph, multi_schema, |n| {
        schema.is_none_or(|s| n.schema == s)
    });
    Ok(draw(&nodes, &links, format))
}

/// Draws the tables `tables` (stored names) and the dependencies among them, as
/// DataJoint's `Diagram(table) + n` does; labels carry the schema when the tables
/// span several.
pub fn render_tables(graph: &Graph, tables: &[FullName], format: DiagramFormat) -> String {
    let keep: std::collections::HashSet<&FullName> = tables.iter().collect();
    let multi_schema = tables.iter().any(|t| t.schema != tables[0].schema);
    let (nodes, links) = collect(graph, multi_schema, |n| keep.contains(n));
    draw(&nodes, &links, format)
}

fn draw(nodes: &[Node], links: &[Link], format: DiagramFormat) -> String {
    match format {
        DiagramFormat::Dot => dot(nodes, links),
        DiagramFormat::Mermaid => mermaid(nodes, links),
        DiagramFormat::Svg => svg(nodes, links),
    }
}

fn style(t: Tier) -> (&'static str, &'static str, &'static str) {
    // (shape, fill, stroke)
    match t {
        Tier::Manual => ("box", "#c8f7c5", "#008800"),
        Tier::Lookup => ("plaintext", "#dddddd", "#444444"),
        Tier::Imported => ("ellipse", "#c5cbf7", "#00007f"),
        Tier::Computed => ("ellipse", "#f7c5c5", "#aa0000"),
        Tier::Part => ("plaintext", "#ffffff", "#444444"),
    }
}

fn dot(nodes: &[Node], links: &[Link]) -> String {
    let mut s = String::from(
        "digraph spyglass {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    for n in nodes {
        let (shape, fill, stroke) = style(n.tier);
        s.push_str(&format!(
            "  {} [label=\"{}\", shape={shape}, style=\"filled\", fillcolor=\"{fill}\", color=\"{stroke}\", tooltip=\"{} ({})\"];\n",
            id(&n.name),
            n.label,
            n.name.pretty(),
            n.tier
        ));
    }
    for l in links {
        let mut attrs = vec![];
        if !l.primary {
            attrs.push("style=dashed".to_string());
        }
        if l.aliased {
            attrs.push("color=orange".to_string());
        }
        s.push_str(&format!(
            "  {} -> {}{};\n",
            id(&nodes[l.from].name),
            id(&nodes[l.to].name),
            if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            }
        ));
    }
    s.push_str("}\n");
    s
}

fn mermaid(nodes: &[Node], links: &[Link]) -> String {
    let mut s = String::from("flowchart TB\n");
    for n in nodes {
        let (open, close) = match n.tier {
            Tier::Manual => ("[", "]"),
            Tier::Lookup => ("[/", "/]"),
            Tier::Imported | Tier::Computed => ("([", "])"),
            Tier::Part => ("[", "]"),
        };
        s.push_str(&format!("  {}{open}\"{}\"{close}\n", id(&n.name), n.label));
    }
    for l in links {
        let arrow = if l.primary { "-->" } else { "-.->" };
        s.push_str(&format!(
            "  {} {arrow} {}\n",
            id(&nodes[l.from].name),
            id(&nodes[l.to].name)
        ));
    }
    for (tier, fill) in [
        ("manual", "#c8f7c5"),
        ("lookup", "#dddddd"),
        ("imported", "#c5cbf7"),
        ("computed", "#f7c5c5"),
        ("part", "#ffffff"),
    ] {
        s.push_str(&format!("  classDef {tier} fill:{fill}\n"));
    }
    for n in nodes {
        s.push_str(&format!("  class {} {}\n", id(&n.name), n.tier.as_str()));
    }
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn svg(nodes: &[Node], links: &[Link]) -> String {
    // rank = longest path from a root; nodes arrive in topological order
    let mut rank = vec![0usize; nodes.len()];
    for (i, _) in nodes.iter().enumerate() {
        for l in links.iter().filter(|l| l.to == i) {
            rank[i] = rank[i].max(rank[l.from] + 1);
        }
    }
    let layers = rank.iter().copied().max().map(|m| m + 1).unwrap_or(0);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, r) in rank.iter().enumerate() {
        rows[*r].push(i);
    }
    let width_of = |n: &Node| (n.label.chars().count() as f64) * 7.2 + 24.0;
    let (gap_x, row_h, node_h) = (24.0, 80.0, 30.0);
    let mut x = vec![0.0f64; nodes.len()];
    // order each row by the mean x of its parents (one barycentre sweep)
    for (r, row) in rows.iter_mut().enumerate() {
        if r > 0 {
            let mut keyed: Vec<(f64, usize)> = row
                .iter()
                .map(|&i| {
                    let ps: Vec<f64> = links
                        .iter()
                        .filter(|l| l.to == i)
                        .map(|l| x[l.from])
                        .collect();
                    (
                        if ps.is_empty() {
                            0.0
                        } else {
                            ps.iter().sum::<f64>() / ps.len() as f64
                        },
                        i,
                    )
                })
                .collect();
            keyed.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
            *row = keyed.into_iter().map(|(_, i)| i).collect();
        }
        let mut cursor = gap_x;
        for &i in row.iter() {
            let w = width_of(&nodes[i]);
            x[i] = cursor + w / 2.0;
            cursor += w + gap_x;
        }
    }
    let total_w = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|&i| width_of(&nodes[i]) + gap_x)
                .sum::<f64>()
                + gap_x
        })
        .fold(200.0, f64::max);
    let total_h = layers as f64 * row_h + 20.0;
    let y = |i: usize| 20.0 + rank[i] as f64 * row_h + node_h / 2.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" viewBox=\"0 0 {total_w:.0} {total_h:.0}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for l in links {
        let (x1, y1, x2, y2) = (
            x[l.from],
            y(l.from) + node_h / 2.0,
            x[l.to],
            y(l.to) - node_h / 2.0,
        );
        let my = (y1 + y2) / 2.0;
        s.push_str(&format!(
            "<path d=\"M{x1:.1},{y1:.1} C{x1:.1},{my:.1} {x2:.1},{my:.1} {x2:.1},{y2:.1}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
            if l.aliased { "#e08000" } else { "#555" },
            if l.primary { 1.6 } else { 1.0 },
            if l.primary { "" } else { " stroke-dasharray=\"5,4\"" }
        ));
    }
    for (i, n) in nodes.iter().enumerate() {
        let (shape, fill, stroke) = style(n.tier);
        let w = width_of(n);
        let (cx, cy) = (x[i], y(i));
        let opacity = 1.0;
        match shape {
            "ellipse" => s.push_str(&format!(
                "<ellipse cx=\"{cx:.1}\" cy=\"{cy:.1}\" rx=\"{:.1}\" ry=\"{:.1}\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"{stroke}\"/>\n",
                w / 2.0,
                node_h / 2.0
            )),
            _ => s.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{node_h}\" rx=\"3\" fill=\"{fill}\" fill-opacity=\"{opacity}\" stroke=\"{}\"/>\n",
                cx - w / 2.0,
                cy - node_h / 2.0,
                if n.tier == Tier::Part { "none" } else { stroke }
            )),
        }
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#111\"{}><title>{} ({})</title>{}</text>\n",
            cy + 4.0,
            if n.tier == Tier::Part { " font-size=\"10\"" } else { "" },
            xml(&n.name.pretty()),
            n.tier,
            xml(&n.label)
        ));
    }
    s.push_str("</svg>\n");
    s
}
