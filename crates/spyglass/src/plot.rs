//! Pictures as SVG, for the pipelines' `plot` commands: a figure of stacked panels,
//! each with its own axes and ticks, holding lines (NaN breaks a line), arrows,
//! shaded spans of x, points, bars, raster ticks and small multiples placed at data
//! coordinates (waveforms at a probe's contact positions), or a table of text. Only
//! what a person looking at a session needs, no styling.

use crate::error::{Error, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Width of a figure, pixels.
const WIDTH: f64 = 900.0;
/// Margins around a panel's plot area: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (70.0, 20.0, 28.0, 42.0);
/// Height of the figure's title line.
const TITLE_H: f64 = 30.0;

/// Colours for series told apart by colour (electrodes, track segments), cycled.
pub const PALETTE: [&str; 8] = [
    "#1f4e99", "#c0392b", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037", "#37474f",
];

/// Something drawn in a panel, in data coordinates.
#[derive(Debug, Clone)]
pub enum Item {
    /// A polyline through `(x, y)`; a non-finite value ends a segment.
    Line {
        /// The points.
        points: Vec<(f64, f64)>,
        /// SVG colour.
        color: &'static str,
    },
    /// Arrows from `(x, y)` by `(dx, dy)`.
    Arrows {
        /// Start and displacement of each arrow.
        arrows: Vec<(f64, f64, f64, f64)>,
        /// SVG colour.
        color: &'static str,
    },
    /// Shaded spans `[x0, x1]` over the panel's height.
    Spans {
        /// The spans.
        spans: Vec<(f64, f64)>,
        /// SVG colour (drawn translucent).
        color: &'static str,
    },
    /// Dots at `(x, y)` (non-finite points skipped).
    Points {
        /// The points.
        points: Vec<(f64, f64)>,
        /// SVG colour.
        color: &'static str,
    },
    /// Bars from 0 up to `heights[k]` over `[lefts[k], lefts[k] + width]`.
    Bars {
        /// Left edge of each bar.
        lefts: Vec<f64>,
        /// Width of every bar.
        width: f64,
        /// Height of each bar.
        heights: Vec<f64>,
        /// SVG colour.
        color: &'static str,
    },
    /// A raster row: a vertical tick at each `x`, centred on `y`, `height` tall (data
    /// units).
    Ticks {
        /// Tick positions.
        xs: Vec<f64>,
        /// Row centre.
        y: f64,
        /// Tick height, data units of y.
        height: f64,
        /// SVG colour.
        color: &'static str,
    },
    /// Small multiples: at each site `(x, y)` a trace drawn inside a `box_w × box_h`
    /// box (data units) centred there — a unit's waveform at each contact of a probe.
    /// The samples of a trace span the box's width; a value `v` sits `v / scale ·
    /// box_h / 2` above the centre. Drawn as one SVG group of class `multiples`
    /// carrying `group` as `data-group`; per site a faint box (a rect of class
    /// `site-box`) and the trace (a polyline of class `site`), both with the site's
    /// `data-site`, `data-x` and `data-y`.
    Multiples {
        /// Identifies the group (e.g. the unit id).
        group: String,
        /// Site names (e.g. electrode ids), one per site.
        names: Vec<String>,
        /// Site centres, data units.
        sites: Vec<(f64, f64)>,
        /// One trace per site.
        traces: Vec<Vec<f64>>,
        /// Box width, data units.
        box_w: f64,
        /// Box height, data units.
        box_h: f64,
        /// Trace value drawn at half the box height.
        scale: f64,
        /// SVG colour.
        color: &'static str,
    },
}

/// What a panel holds: items on axes, or a table.
#[derive(Debug, Clone)]
enum Body {
    Plot(Vec<Item>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// Height of a table row, pixels.
const ROW_H: f64 = 18.0;

/// One panel: axes, labels and items.
#[derive(Debug, Clone)]
pub struct Panel {
    title: String,
    x_label: String,
    y_label: String,
    height: f64,
    equal_aspect: bool,
    body: Body,
}

impl Panel {
    /// An empty panel with a title and axis labels.
    pub fn new(title: impl Into<String>, x_label: &str, y_label: &str) -> Panel {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            height: 260.0,
            equal_aspect: false,
            body: Body::Plot(vec![]),
        }
    }

    /// A table: a header row and rows of text (cells beyond the header are dropped),
    /// as tall as its rows need.
    pub fn table(title: impl Into<String>, header: Vec<String>, rows: Vec<Vec<String>>) -> Panel {
        let height = MARGIN.2 + ROW_H * (rows.len() + 1) as f64 + 12.0;
        Panel {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            height,
            equal_aspect: false,
            body: Body::Table { header, rows },
        }
    }

    /// Sets the panel's height, pixels (axes and labels included).
    pub fn height(mut self, pixels: f64) -> Panel {
        self.height = pixels.max(MARGIN.2 + MARGIN.3 + 20.0);
        self
    }

    /// The same units on both axes (a track seen from above); the panel is made
    /// as tall as that needs, within reason.
    pub fn equal_aspect(mut self) -> Panel {
        self.equal_aspect = true;
        self.height = 520.0;
        self
    }

    /// Adds an item (a table panel ignores it).
    pub fn with(mut self, item: Item) -> Panel {
        if let Body::Plot(items) = &mut self.body {
            items.push(item);
        }
        self
    }

    fn items(&self) -> &[Item] {
        match &self.body {
            Body::Plot(items) => items,
            Body::Table { .. } => &[],
        }
    }

    /// The finite extent of the items: `(x0, x1, y0, y1)`.
    fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        let mut b: Option<(f64, f64, f64, f64)> = None;
        let mut add = |x: f64, y: Option<f64>| {
            if !x.is_finite() || y.is_some_and(|y| !y.is_finite()) {
                return;
            }
            let e = b.get_or_insert((x, x, f64::INFINITY, f64::NEG_INFINITY));
            e.0 = e.0.min(x);
            e.1 = e.1.max(x);
            if let Some(y) = y {
                e.2 = e.2.min(y);
                e.3 = e.3.max(y);
            }
        };
        for item in self.items() {
            match item {
                Item::Line { points, .. } | Item::Points { points, .. } => {
                    points.iter().for_each(|&(x, y)| add(x, Some(y)))
                }
                Item::Bars {
                    lefts,
                    width,
                    heights,
                    ..
                } => lefts.iter().zip(heights).for_each(|(&x, &h)| {
                    add(x, Some(0.0));
                    add(x + width, Some(h));
                }),
                Item::Ticks { xs, y, height, .. } => xs.iter().for_each(|&x| {
                    add(x, Some(y - height / 2.0));
                    add(x, Some(y + height / 2.0));
                }),
                Item::Multiples {
                    sites,
                    box_w,
                    box_h,
                    ..
                } => sites.iter().for_each(|&(x, y)| {
                    add(x - box_w / 2.0, Some(y - box_h / 2.0));
                    add(x + box_w / 2.0, Some(y + box_h / 2.0));
                }),
                Item::Arrows { arrows, .. } => arrows.iter().for_each(|&(x, y, dx, dy)| {
                    add(x, Some(y));
                    add(x + dx, Some(y + dy));
                }),
                Item::Spans { spans, .. } => spans.iter().for_each(|&(a, z)| {
                    add(a, None);
                    add(z, None);
                }),
            }
        }
        let (x0, x1, mut y0, mut y1) = b?;
        if !y0.is_finite() {
            (y0, y1) = (0.0, 1.0);
        }
        Some((x0, x1, y0, y1))
    }
}

/// A figure: a title over stacked panels.
#[derive(Debug, Clone)]
pub struct Figure {
    title: String,
    panels: Vec<Panel>,
}

/// Round tick values covering `[lo, hi]`, about `n` of them (steps 1, 2 or 5 × 10^k).
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn tick_text(v: f64) -> String {
    let t = format!("{v:.6}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".into()
    } else {
        t.into()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The plot area of a panel and its mapping from data to pixels.
struct Frame {
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * self.w
    }
    fn py(&self, y: f64) -> f64 {
        self.top + self.h - (y - self.y.0) / (self.y.1 - self.y.0) * self.h
    }
}

/// A range widened by 3 % each side (and to a unit when it is a point).
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        let pad = 0.03 * (hi - lo);
        (lo - pad, hi + pad)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

impl Figure {
    /// An empty figure.
    pub fn new(title: impl Into<String>) -> Figure {
        Figure {
            title: title.into(),
            panels: vec![],
        }
    }

    /// Adds a panel below the others.
    pub fn with(mut self, panel: Panel) -> Figure {
        self.panels.push(panel);
        self
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> String {
        let (ml, mr, mt, mb) = MARGIN;
        let height = TITLE_H + self.panels.iter().map(|p| p.height).sum::<f64>();
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
        );
        s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        let _ = writeln!(
            s,
            r#"<text x="{ml}" y="20" font-size="15">{}</text>"#,
            escape(&self.title)
        );
        let mut top = TITLE_H;
        for p in &self.panels {
            let (w, h) = (WIDTH - ml - mr, p.height - mt - mb);
            if let Body::Table { header, rows } = &p.body {
                draw_table(&mut s, &p.title, header, rows, ml, top + mt, w);
                top += p.height;
                continue;
            }
            let Some((x0, x1, y0, y1)) = p.bounds() else {
                let _ = writeln!(
                    s,
                    r#"<text x="{ml}" y="{}">{}: nothing to draw</text>"#,
                    top + mt,
                    escape(&p.title)
                );
                top += p.height;
                continue;
            };
            let (mut x, mut y) = (padded(x0, x1), padded(y0, y1));
            if p.equal_aspect {
                // the larger units per pixel of the two axes, for both
                let upp = ((x.1 - x.0) / w).max((y.1 - y.0) / h);
                let (cx, cy) = ((x.0 + x.1) / 2.0, (y.0 + y.1) / 2.0);
                x = (cx - upp * w / 2.0, cx + upp * w / 2.0);
                y = (cy - upp * h / 2.0, cy + upp * h / 2.0);
            }
            let f = Frame {
                left: ml,
                top: top + mt,
                w,
                h,
                x,
                y,
            };
            draw_panel(&mut s, p, &f);
            top += p.height;
        }
        s.push_str("</svg>\n");
        s
    }

    /// Writes the SVG to `path` (a temporary name, then renamed).
    pub fn write(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension(format!("svg.tmp~{}", std::process::id()));
        let io = |e: std::io::Error| Error::bad(path.display().to_string(), e.to_string());
        let written = std::fs::write(&tmp, self.to_svg()).and_then(|_| std::fs::rename(&tmp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(io)
    }
}

/// A table: the header in bold, then the rows, columns spread over the width in
/// proportion to their longest text.
fn draw_table(
    s: &mut String,
    title: &str,
    header: &[String],
    rows: &[Vec<String>],
    left: f64,
    top: f64,
    width: f64,
) {
    let _ = writeln!(
        s,
        r#"<g class="table"><text x="{left}" y="{:.1}" font-size="13">{}</text>"#,
        top - 8.0,
        escape(title)
    );
    let n = header.len().max(1);
    let chars: Vec<f64> = (0..n)
        .map(|c| {
            std::iter::once(header.get(c))
                .chain(rows.iter().map(|r| r.get(c)))
                .flatten()
                .map(|t| t.chars().count())
                .max()
                .unwrap_or(1)
                .clamp(3, 40) as f64
        })
        .collect();
    let total: f64 = chars.iter().sum();
    let mut xs = vec![left];
    for c in &chars[..n - 1] {
        let last = xs[xs.len() - 1];
        xs.push(last + width * c / total);
    }
    let line = |s: &mut String, y: f64, cells: &[String], class: &str, weight: &str| {
        let _ = write!(s, r#"<g class="{class}">"#);
        for (c, x) in xs.iter().enumerate() {
            let text = cells.get(c).map(String::as_str).unwrap_or("");
            let _ = write!(
                s,
                r#"<text x="{x:.1}" y="{y:.1}" font-weight="{weight}">{}</text>"#,
                escape(text)
            );
        }
        s.push_str("</g>\n");
    };
    line(s, top + 12.0, header, "header", "bold");
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#444"/>"##,
        top + 16.0,
        left + width,
        top + 16.0
    );
    for (k, r) in rows.iter().enumerate() {
        line(s, top + 12.0 + ROW_H * (k + 1) as f64, r, "row", "normal");
    }
    s.push_str("</g>\n");
}

fn draw_panel(s: &mut String, p: &Panel, f: &Frame) {
    let (l, t, w, h) = (f.left, f.top, f.w, f.h);
    let _ = writeln!(
        s,
        r#"<g class="panel"><text x="{l}" y="{:.1}" font-size="13">{}</text>"#,
        t - 8.0,
        escape(&p.title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{l}" y="{t}" width="{w}" height="{h}" fill="none" stroke="#444"/>"##
    );
    for v in ticks(f.x.0, f.x.1, 8) {
        let x = f.px(v);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#444"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            t + h,
            t + h + 5.0,
            t + h + 18.0,
            tick_text(v)
        );
    }
    for v in ticks(f.y.0, f.y.1, 5) {
        let y = f.py(v);
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{l}" y2="{y:.1}" stroke="#444"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            l - 5.0,
            l - 8.0,
            y + 4.0,
            tick_text(v)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        l + w / 2.0,
        t + h + 34.0,
        escape(&p.x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        l - 52.0,
        t + h / 2.0,
        escape(&p.y_label)
    );
    let _ = writeln!(
        s,
        r#"<clipPath id="c{t:.0}"><rect x="{l}" y="{t}" width="{w}" height="{h}"/></clipPath><g clip-path="url(#c{t:.0})">"#
    );
    for item in p.items() {
        match item {
            Item::Points { points, color } => {
                let mut d = String::new();
                for &(x, y) in points
                    .iter()
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                {
                    let _ = write!(d, "M{:.1} {:.1}h0", f.px(x), f.py(y));
                }
                if !d.is_empty() {
                    let _ = writeln!(
                        s,
                        r#"<path class="points" d="{d}" stroke="{color}" stroke-width="2.5" stroke-linecap="round"/>"#
                    );
                }
            }
            Item::Bars {
                lefts,
                width,
                heights,
                color,
            } => {
                let mut d = String::new();
                for (&x, &hgt) in lefts.iter().zip(heights) {
                    if !(x.is_finite() && hgt.is_finite()) {
                        continue;
                    }
                    let (x0, x1) = (f.px(x), f.px(x + width));
                    let (y0, y1) = (f.py(0.0), f.py(hgt));
                    let _ = write!(d, "M{x0:.2} {y0:.2}H{x1:.2}V{y1:.2}H{x0:.2}Z",);
                }
                let _ = writeln!(s, r#"<path class="bars" d="{d}" fill="{color}"/>"#);
            }
            Item::Ticks {
                xs,
                y,
                height,
                color,
            } => {
                let (ya, yb) = (f.py(y - height / 2.0), f.py(y + height / 2.0));
                let mut d = String::new();
                for &x in xs.iter().filter(|x| x.is_finite()) {
                    let _ = write!(d, "M{:.1} {ya:.1}V{yb:.1}", f.px(x));
                }
                let _ = writeln!(
                    s,
                    r#"<path class="ticks" d="{d}" stroke="{color}" stroke-width="1"/>"#
                );
            }
            Item::Multiples {
                group,
                names,
                sites,
                traces,
                box_w,
                box_h,
                scale,
                color,
            } => {
                let _ = writeln!(s, r#"<g class="multiples" data-group="{}">"#, escape(group));
                for (k, (&(cx, cy), trace)) in sites.iter().zip(traces).enumerate() {
                    let n = trace.len();
                    if n == 0 || !(cx.is_finite() && cy.is_finite()) {
                        continue;
                    }
                    let mut d = String::new();
                    for (i, v) in trace.iter().enumerate() {
                        let x = cx - box_w / 2.0 + box_w * i as f64 / (n - 1).max(1) as f64;
                        let v = if v.is_finite() && *scale > 0.0 {
                            v / scale
                        } else {
                            0.0
                        };
                        let y = cy + v * box_h / 2.0;
                        let _ = write!(d, "{:.2},{:.2} ", f.px(x), f.py(y));
                    }
                    let name = names.get(k).map(String::as_str).unwrap_or("");
                    let (bx0, by0) = (f.px(cx - box_w / 2.0), f.py(cy + box_h / 2.0));
                    let (bx1, by1) = (f.px(cx + box_w / 2.0), f.py(cy - box_h / 2.0));
                    let _ = writeln!(
                        s,
                        r##"<rect class="site-box" data-site="{}" data-x="{cx}" data-y="{cy}" x="{bx0:.3}" y="{by0:.3}" width="{:.3}" height="{:.3}" fill="none" stroke="#ddd" stroke-width="0.5"/>"##,
                        escape(name),
                        bx1 - bx0,
                        by1 - by0
                    );
                    let _ = writeln!(
                        s,
                        r#"<polyline class="site" data-site="{}" data-x="{cx}" data-y="{cy}" points="{}" fill="none" stroke="{color}" stroke-width="1"/>"#,
                        escape(name),
                        d.trim_end()
                    );
                }
                s.push_str("</g>\n");
            }
            Item::Spans { spans, color } => {
                for &(a, z) in spans {
                    let (xa, xz) = (f.px(a), f.px(z));
                    let _ = writeln!(
                        s,
                        r#"<rect class="span" x="{xa:.2}" y="{t}" width="{:.2}" height="{h}" fill="{color}" fill-opacity="0.25"/>"#,
                        (xz - xa).max(0.5)
                    );
                }
            }
            Item::Line { points, color } => {
                for segment in points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
                    if segment.is_empty() {
                        continue;
                    }
                    let mut d = String::new();
                    for &(x, y) in segment {
                        let _ = write!(d, "{:.2},{:.2} ", f.px(x), f.py(y));
                    }
                    let _ = writeln!(
                        s,
                        r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1"/>"#,
                        d.trim_end()
                    );
                }
            }
            Item::Arrows { arrows, color } => {
                for &(x, y, dx, dy) in arrows {
                    if !(x.is_finite() && y.is_finite() && dx.is_finite() && dy.is_finite()) {
                        continue;
                    }
                    let (x0, y0, x1, y1) = (f.px(x), f.py(y), f.px(x + dx), f.py(y + dy));
                    let _ = writeln!(
                        s,
                        r#"<line class="arrow" x1="{x0:.2}" y1="{y0:.2}" x2="{x1:.2}" y2="{y1:.2}" stroke="{color}" stroke-width="1.5"/><circle cx="{x1:.2}" cy="{y1:.2}" r="2" fill="{color}"/>"#
                    );
                }
            }
        }
    }
    s.push_str("</g></g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(-0.3, 0.3, 3), vec![-0.2, 0.0, 0.2]);
        assert_eq!(ticks(3.0, 3.0, 5), vec![3.0]);
    }

    #[test]
    fn nan_breaks_lines_and_spans_are_drawn() {
        let line = Item::Line {
            points: vec![
                (0.0, 0.0),
                (1.0, 1.0),
                (2.0, f64::NAN),
                (3.0, 1.0),
                (4.0, 0.0),
            ],
            color: "black",
        };
        let spans = Item::Spans {
            spans: vec![(1.0, 2.0)],
            color: "red",
        };
        let svg = Figure::new("t <&>")
            .with(Panel::new("p", "x", "y").with(line).with(spans))
            .to_svg();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("class=\"span\"").count(), 1);
        assert!(svg.contains("t &lt;&amp;&gt;"));
    }

    #[test]
    fn tables_and_multiples_are_drawn() {
        let table = Panel::table(
            "units",
            vec!["unit".into(), "labels".into()],
            vec![vec!["0".into(), "a<b".into()], vec!["1".into(), "".into()]],
        );
        let multiples = Item::Multiples {
            group: "7".into(),
            names: vec!["10".into(), "11".into()],
            sites: vec![(0.0, 0.0), (0.0, 20.0)],
            traces: vec![vec![0.0, -1.0, 0.0], vec![0.0, 1.0, 0.0]],
            box_w: 36.0,
            box_h: 18.0,
            scale: 1.0,
            color: "black",
        };
        let svg = Figure::new("f")
            .with(table)
            .with(Panel::new("p", "x", "y").equal_aspect().with(multiples))
            .to_svg();
        assert_eq!(svg.matches(r#"<g class="row">"#).count(), 2);
        assert!(svg.contains("a&lt;b"));
        assert_eq!(
            svg.matches(r#"class="multiples" data-group="7""#).count(),
            1
        );
        assert_eq!(svg.matches(r#"class="site-box""#).count(), 2);
        assert!(svg.contains(r#"data-site="11" data-x="0" data-y="20""#));
        // equal aspect: both boxes as tall as they are half wide, the second above
        let boxes: Vec<(f64, f64, f64, f64)> = svg
            .lines()
            .filter(|l| l.contains("site-box"))
            .map(|l| {
                let attr = |k: &str| -> f64 {
                    let at = l.find(&format!(" {k}=\"")).unwrap() + k.len() + 3;
                    l[at..at + l[at..].find('"').unwrap()].parse().unwrap()
                };
                (attr("x"), attr("y"), attr("width"), attr("height"))
            })
            .collect();
        for b in &boxes {
            assert!((b.2 - 2.0 * b.3).abs() < 0.01, "{b:?}");
        }
        assert!(boxes[1].1 < boxes[0].1, "y grows upward");
    }
}
