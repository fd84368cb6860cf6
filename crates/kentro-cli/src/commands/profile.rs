//! `kentro fit --profile PROFILE.csv`: each cluster's size, share and feature means in the
//! original units (computed by the core, [`kentro::profile`]), as a text table, a CSV file and a
//! heat map (`PROFILE.png` and `PROFILE.svg` beside the CSV).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use kentro::profile::ClusterProfiles;
use kentro::{Float, KMeans};
use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::{self, Outputs};
use crate::plot::{FAMILY, SIZE, encode_png, register_embedded_font};

/// Cells narrower than this (pixels) carry no number.
const MIN_LABELLED_CELL: f64 = 44.0;
/// Standardised means are coloured up to this many standard deviations.
const COLOUR_LIMIT: f64 = 2.0;

/// The profile's files: the CSV, then the heat map as PNG and SVG.
pub fn paths(csv: &Path) -> [PathBuf; 3] {
    [csv.to_path_buf(), csv.with_extension("png"), csv.with_extension("svg")]
}

/// The profile path must name a `.csv` file (the plots take its name with other extensions).
pub fn check_path(csv: &Path) -> anyhow::Result<()> {
    match csv.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => Ok(()),
        _ => bail!("--profile {}: the profile must be a .csv file (its plots go beside it)", csv.display()),
    }
}

/// What [`stage`] prepared: the files staged, and the table to print.
pub struct Staged {
    /// The CSV, PNG and SVG paths.
    pub paths: Vec<PathBuf>,
    /// The table as text.
    pub table: String,
}

/// Profiles the clusters of `model` over `x` (original units) and stages the three files.
pub fn stage<F: Float>(
    outputs: &mut Outputs,
    csv: &Path,
    x: ArrayView2<F>,
    model: &KMeans<F>,
    names: Option<&[String]>,
) -> anyhow::Result<Staged> {
    let profiles = ClusterProfiles::new(x, model.labels(), model.n_clusters())?;
    let names: Vec<String> = match names {
        Some(names) => names.to_vec(),
        None => (0..x.ncols()).map(|j| format!("x{j}")).collect(),
    };
    let [csv_path, png_path, svg_path] = paths(csv);
    outputs.stage(&csv_path, profile_csv(&profiles, &names).as_bytes())?;
    let heat = HeatMap { profiles: &profiles, names: &names };
    let png = heat.render_png().with_context(|| format!("cannot draw {}", png_path.display()))?;
    outputs.stage(&png_path, &png)?;
    let svg = heat.render_svg().with_context(|| format!("cannot draw {}", svg_path.display()))?;
    outputs.stage(&svg_path, svg.as_bytes())?;
    Ok(Staged { paths: vec![csv_path, png_path, svg_path], table: profile_table(&profiles, &names) })
}

/// `cluster,size,share,<feature>…`, one line per cluster; numbers read back exactly.
fn profile_csv(p: &ClusterProfiles, names: &[String]) -> String {
    let mut text = String::from("cluster,size,share");
    for name in names {
        text.push(',');
        text.push_str(&csv_cell(name));
    }
    text.push('\n');
    for (c, (size, share)) in p.sizes().iter().zip(p.shares()).enumerate() {
        write!(text, "{c},{size},{share:?}").expect("writing to a String");
        for v in p.means().row(c) {
            write!(text, ",{v:?}").expect("writing to a String");
        }
        text.push('\n');
    }
    text
}

/// A CSV cell, quoted when it must be.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The table printed after the fit summary: aligned columns, 6 significant digits.
fn profile_table(p: &ClusterProfiles, names: &[String]) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        ["cluster", "size", "share"].iter().map(|s| s.to_string()).chain(names.iter().cloned()).collect(),
    ];
    for (c, (size, share)) in p.sizes().iter().zip(p.shares()).enumerate() {
        let mut row = vec![c.to_string(), size.to_string(), format!("{:.1}%", 100.0 * share)];
        row.extend(p.means().row(c).iter().map(|&v| output::number(v)));
        rows.push(row);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::from("profile (mean of each feature, original units):\n");
    for row in rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, &w)| format!("{cell:>w$}")).collect();
        writeln!(text, "  {}", cells.join("  ").trim_end()).expect("writing to a String");
    }
    text
}

/// Clusters as rows, features as columns: colour the standardised mean, text the mean.
struct HeatMap<'a> {
    profiles: &'a ClusterProfiles,
    names: &'a [String],
}

impl HeatMap<'_> {
    fn render_png(&self) -> anyhow::Result<Vec<u8>> {
        register_embedded_font()?;
        let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
            root.present().map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
        }
        encode_png(&rgb, SIZE).context("encoding the PNG plot")
    }

    fn render_svg(&self) -> anyhow::Result<String> {
        register_embedded_font()?;
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            self.draw(&root).map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
            root.present().map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
        }
        Ok(text)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let (w, h) = (SIZE.0 as f64, SIZE.1 as f64);
        let (left, right, top, bottom) = (170.0, 110.0, 60.0, 80.0);
        let means = self.profiles.means();
        let z = self.profiles.standardized_means();
        let (k, d) = z.dim();
        let cell_w = (w - left - right) / d as f64;
        let cell_h = (h - top - bottom) / k as f64;
        let center = Pos::new(HPos::Center, VPos::Center);
        let title =
            TextStyle::from((FAMILY, 22).into_font()).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            format!("Cluster profiles: {k} clusters × {d} features"),
            ((w / 2.0) as i32, 16),
            title,
        ))?;
        let small = |size: f64| TextStyle::from((FAMILY, size).into_font());
        let cell_font = (cell_h * 0.3).clamp(9.0, 14.0);
        for c in 0..k {
            let y0 = top + c as f64 * cell_h;
            for j in 0..d {
                let x0 = left + j as f64 * cell_w;
                let colour = diverging(z[(c, j)]);
                root.draw(&Rectangle::new(
                    [(x0 as i32, y0 as i32), ((x0 + cell_w) as i32, (y0 + cell_h) as i32)],
                    colour.filled(),
                ))?;
                if cell_w >= MIN_LABELLED_CELL && cell_h >= 14.0 {
                    let ink = if z[(c, j)].abs() > 1.2 { WHITE } else { BLACK };
                    root.draw(&Text::new(
                        output::number(means[(c, j)]),
                        ((x0 + cell_w / 2.0) as i32, (y0 + cell_h / 2.0) as i32),
                        small(cell_font).color(&ink).pos(center),
                    ))?;
                }
            }
            // Every n-th row is named when the rows are too thin for their labels.
            if c % (16.0 / cell_h).ceil().max(1.0) as usize != 0 {
                continue;
            }
            let share = 100.0 * self.profiles.shares()[c];
            let label = format!("cluster {c} · {} ({share:.0}%)", self.profiles.sizes()[c]);
            root.draw(&Text::new(
                label,
                ((left - 8.0) as i32, (y0 + cell_h / 2.0) as i32),
                small(13.0).color(&BLACK).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        // Feature names under the columns (every n-th when crowded), cut to the cell's width.
        let every = (40.0 / cell_w).ceil().max(1.0) as usize;
        let max_chars = ((cell_w * every as f64) / 7.5).floor().max(3.0) as usize;
        for (j, name) in self.names.iter().enumerate().step_by(every) {
            let shown: String = if name.chars().count() > max_chars {
                name.chars().take(max_chars - 1).chain(['…']).collect()
            } else {
                name.clone()
            };
            root.draw(&Text::new(
                shown,
                ((left + (j as f64 + 0.5) * cell_w) as i32, (h - bottom + 8.0) as i32),
                small(13.0).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        root.draw(&Text::new(
            "numbers: the cluster's mean in the data's units; colour: that mean in standard deviations \
             from the overall mean",
            ((w / 2.0) as i32, (h - 24.0) as i32),
            small(12.0).color(&BLACK.mix(0.7)).pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
        // The colour scale.
        let (bx, by0, by1) = (w - right + 24.0, top, h - bottom);
        let steps = 60;
        for s in 0..steps {
            let t = 1.0 - (s as f64 + 0.5) / steps as f64;
            let y = by0 + s as f64 * (by1 - by0) / steps as f64;
            let y_next = by0 + (s + 1) as f64 * (by1 - by0) / steps as f64;
            let colour = diverging((2.0 * t - 1.0) * COLOUR_LIMIT);
            root.draw(&Rectangle::new(
                [(bx as i32, y as i32), ((bx + 16.0) as i32, y_next.ceil() as i32)],
                colour.filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(bx as i32, by0 as i32), ((bx + 16.0) as i32, by1 as i32)],
            BLACK.mix(0.4),
        ))?;
        for (value, label) in [(COLOUR_LIMIT, "+2 sd"), (0.0, "mean"), (-COLOUR_LIMIT, "−2 sd")] {
            let y = by0 + (1.0 - (value / COLOUR_LIMIT + 1.0) / 2.0) * (by1 - by0);
            root.draw(&Text::new(
                label,
                ((bx + 22.0) as i32, y as i32),
                small(12.0).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        Ok(())
    }
}

/// Blue below the mean, white at it, red above (ColorBrewer RdBu ends), clamped at ±2.
fn diverging(z: f64) -> RGBColor {
    let t = if z.is_finite() { (z / COLOUR_LIMIT).clamp(-1.0, 1.0) } else { 0.0 };
    let (end, t) = if t < 0.0 { ((33.0, 102.0, 172.0), -t) } else { ((178.0, 24.0, 43.0), t) };
    let mix = |a: f64| (255.0 + (a - 255.0) * t).round() as u8;
    RGBColor(mix(end.0), mix(end.1), mix(end.2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_csv_and_table_hold_sizes_shares_and_means() {
        let x = array![[1.0, 10.0], [3.0, 30.0], [8.0, 0.0], [8.0, 0.5]];
        let p = ClusterProfiles::new(x.view(), &[0, 0, 1, 1], 2).unwrap();
        let names = ["age".to_string(), "spend, total".to_string()];
        assert_eq!(
            profile_csv(&p, &names),
            "cluster,size,share,age,\"spend, total\"\n0,2,0.5,2.0,20.0\n1,2,0.5,8.0,0.25\n"
        );
        let table = profile_table(&p, &names);
        assert!(table.contains("cluster  size  share  age  spend, total"), "{table}");
        assert!(table.contains("1     2  50.0%    8          0.25"), "{table}");
    }

    #[test]
    fn the_heat_map_renders_in_both_formats() {
        let x = array![[1.0, 10.0], [3.0, 30.0], [8.0, 0.0]];
        let p = ClusterProfiles::new(x.view(), &[0, 0, 1], 2).unwrap();
        let names = ["a".to_string(), "b".to_string()];
        let heat = HeatMap { profiles: &p, names: &names };
        let svg = heat.render_svg().unwrap();
        assert!(
            svg.contains("Cluster profiles: 2 clusters × 2 features") && svg.contains("cluster 1 · 1 (33%)")
        );
        assert!(heat.render_png().unwrap().starts_with(b"\x89PNG"));
    }

    #[test]
    fn the_colours_run_blue_white_red() {
        assert_eq!(diverging(0.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(-5.0), RGBColor(33, 102, 172));
        assert_eq!(diverging(2.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(f64::NAN), RGBColor(255, 255, 255));
    }
}
