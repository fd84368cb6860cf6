//! The plots of `kentro choose-k`, as PNG or SVG, in the style of [`crate::plot`] (its embedded
//! font and colours): the elbow curve with its knee, the classic silhouette diagram of one k, and
//! a panel of the criteria against k.

use std::ops::Range;

use anyhow::{Context, anyhow};
use kentro::Float;
use kentro::metrics::silhouette_samples;
use kentro::select_k::{Criterion, SelectKResult};
use ndarray::{ArrayView2, Axis};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plot::{FAMILY, Format, cluster_color, encode_png, register_embedded_font};

/// matplotlib's default blue, for curves.
const LINE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
/// The colour of a chosen k and of averages.
const MARK: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// Most samples in a silhouette diagram; larger data is thinned evenly (the title says so).
pub const MAX_DIAGRAM_SAMPLES: usize = 5_000;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A plot that can draw itself on any backend.
trait Figure {
    /// Image size in pixels (the SVG uses the same user units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;

    /// Draws the plot and returns the file's bytes.
    fn render(&self, format: Format) -> anyhow::Result<Vec<u8>>
    where
        Self: Sized,
    {
        register_embedded_font()?;
        let size = self.size();
        match format {
            Format::Svg => {
                let mut text = String::new();
                {
                    let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
                    self.draw(&root).map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
                    root.present().map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
                }
                Ok(text.into_bytes())
            }
            Format::Png => {
                let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
                {
                    let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                    self.draw(&root).map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
                    root.present().map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
                }
                encode_png(&rgb, size).context("encoding the PNG plot")
            }
        }
    }
}

/// The inertia against k, with the knee marked.
#[derive(Debug, Clone)]
pub struct ElbowPlot {
    points: Vec<(f64, f64)>,
    knee: Option<usize>,
}

impl ElbowPlot {
    /// The elbow curve of `result`.
    pub fn new(result: &SelectKResult) -> Self {
        ElbowPlot {
            points: result.scores().iter().map(|s| (s.k as f64, s.inertia)).collect(),
            knee: result.knee(),
        }
    }

    /// Draws the plot and returns the file's bytes.
    pub fn render(&self, format: Format) -> anyhow::Result<Vec<u8>> {
        Figure::render(self, format)
    }
}

impl Figure for ElbowPlot {
    fn size(&self) -> (u32, u32) {
        (800, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let title = match self.knee {
            Some(k) => format!("Elbow method: the knee is at k={k}"),
            None => "Elbow method: no knee found".to_string(),
        };
        let marked = self.knee.map(|k| k as f64);
        let mut chart =
            line_chart(root, &title, 22, "inertia (within-cluster sum of squares)", &self.points, None)?;
        draw_curve(&mut chart, &self.points, None)?;
        if let (Some(k), Some(&(x, y))) = (marked, self.points.iter().find(|p| Some(p.0) == marked)) {
            draw_mark(&mut chart, x)?;
            chart
                .draw_series(std::iter::once(Circle::new((x, y), 9, MARK.stroke_width(3))))?
                .label(format!("knee (Kneedle): k={k}"))
                .legend(|(x, y)| Circle::new((x + 10, y), 6, MARK.stroke_width(2)));
            legend(&mut chart)?;
        }
        Ok(())
    }
}

/// The silhouette diagram of one k: each cluster's silhouette values sorted, as horizontal bars
/// stacked cluster above cluster, with the average as a dashed line.
#[derive(Debug, Clone)]
pub struct SilhouetteDiagram {
    k: usize,
    /// Per cluster, its samples' silhouette values in increasing order.
    clusters: Vec<Vec<f64>>,
    average: f64,
    n_drawn: usize,
    n_samples: usize,
}

impl SilhouetteDiagram {
    /// The diagram of `labels` (k clusters) on `x`, from at most [`MAX_DIAGRAM_SAMPLES`] evenly
    /// spaced samples; `None` where the silhouette is undefined (fewer than 2 or more than n − 1
    /// distinct labels among them).
    pub fn new<F: Float>(x: ArrayView2<F>, labels: &[usize], k: usize) -> anyhow::Result<Option<Self>> {
        let n = labels.len();
        let stride = n.div_ceil(MAX_DIAGRAM_SAMPLES).max(1);
        let rows: Vec<usize> = (0..n).step_by(stride).collect();
        let sub_labels: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();
        let mut present = vec![false; k];
        sub_labels.iter().for_each(|&l| present[l] = true);
        let distinct = present.iter().filter(|&&p| p).count();
        if distinct < 2 || distinct >= rows.len() {
            return Ok(None);
        }
        let values = if stride == 1 {
            silhouette_samples(x, labels)
        } else {
            silhouette_samples(x.select(Axis(0), &rows).view(), &sub_labels)
        }
        .with_context(|| format!("cannot compute the silhouettes at k={k}"))?;
        let mut clusters = vec![Vec::new(); k];
        for (&l, &v) in sub_labels.iter().zip(values.iter()) {
            clusters[l].push(v);
        }
        clusters.iter_mut().for_each(|c| c.sort_by(f64::total_cmp));
        let average = values.iter().sum::<f64>() / values.len() as f64;
        Ok(Some(SilhouetteDiagram { k, clusters, average, n_drawn: rows.len(), n_samples: n }))
    }

    /// Draws the plot and returns the file's bytes.
    pub fn render(&self, format: Format) -> anyhow::Result<Vec<u8>> {
        Figure::render(self, format)
    }
}

impl Figure for SilhouetteDiagram {
    fn size(&self) -> (u32, u32) {
        (800, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let lowest = self.clusters.iter().flatten().copied().fold(0.0f64, f64::min);
        let x_range = (lowest - 0.1).min(-0.1)..1.0;
        // A gap between clusters, as in scikit-learn's silhouette analysis example.
        let gap = (self.n_drawn as f64 * 0.02).max(2.0);
        let height = self.n_drawn as f64 + gap * (self.k + 1) as f64;
        let top = height * 1.07;
        let mut title = format!("Silhouette analysis for k={}: average {:.3}", self.k, self.average);
        if self.n_drawn < self.n_samples {
            title.push_str(&format!(" ({} of {} samples)", self.n_drawn, self.n_samples));
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FAMILY, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(40)
            .build_cartesian_2d(x_range.clone(), 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("silhouette coefficient")
            .y_desc("cluster")
            .y_labels(0)
            .axis_desc_style((FAMILY, 16))
            .label_style((FAMILY, 13))
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .draw()?;
        let mut bottom = gap;
        for (c, values) in self.clusters.iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let color = cluster_color(c, self.k);
            // The sorted values as a step outline closed along x = 0: one shape per cluster.
            let mut outline = Vec::with_capacity(2 * values.len() + 2);
            outline.push((0.0, bottom));
            for (i, &v) in values.iter().enumerate() {
                outline.push((v, bottom + i as f64));
                outline.push((v, bottom + i as f64 + 1.0));
            }
            outline.push((0.0, bottom + values.len() as f64));
            chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.85).filled())))?;
            let middle = bottom + values.len() as f64 / 2.0;
            let label_x = x_range.start + 0.02 * (x_range.end - x_range.start);
            chart.draw_series(std::iter::once(Text::new(
                c.to_string(),
                (label_x, middle),
                TextStyle::from((FAMILY, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
            bottom += values.len() as f64 + gap;
        }
        // The axis at 0, and the average.
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, height)],
            BLACK.mix(0.5),
        )))?;
        // The average: a dashed line, labelled in the headroom above the bars.
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(self.average, 0.0), (self.average, top)],
            8,
            6,
            MARK.stroke_width(2),
        )))?;
        let (anchor, dx) = if self.average > 0.75 { (HPos::Right, -0.01) } else { (HPos::Left, 0.01) };
        chart.draw_series(std::iter::once(Text::new(
            format!("average {:.3}", self.average),
            (self.average + dx, (height + top) / 2.0),
            TextStyle::from((FAMILY, 14).into_font()).color(&MARK).pos(Pos::new(anchor, VPos::Center)),
        )))?;
        Ok(())
    }
}

/// Silhouette, Calinski-Harabasz, Davies-Bouldin and the gap (with its error bars) against k,
/// each with the k it recommends marked.
#[derive(Debug, Clone)]
pub struct CriteriaPanel {
    best_k: usize,
    panels: Vec<Panel>,
}

#[derive(Debug, Clone)]
struct Panel {
    title: String,
    y_desc: &'static str,
    points: Vec<(f64, f64)>,
    /// The standard error of each point (the gap's).
    errors: Option<Vec<f64>>,
    chosen: Option<usize>,
}

impl CriteriaPanel {
    /// The criteria of `result`.
    pub fn new(result: &SelectKResult) -> Self {
        let chosen =
            |c: Criterion| result.recommendations().iter().find(|r| r.criterion == c).and_then(|r| r.k);
        let series = |value: fn(&kentro::select_k::KScores) -> Option<f64>| -> Vec<(f64, f64)> {
            result.scores().iter().filter_map(|s| Some((s.k as f64, value(s)?))).collect()
        };
        let title = |name: &str, better: &str, c: Criterion| match chosen(c) {
            Some(k) => format!("{name} ({better}): k={k}"),
            None => format!("{name} ({better})"),
        };
        let gap: Vec<_> =
            result.gap_curve().iter().filter_map(|p| Some((p.k as f64, p.gap?, p.gap_se?))).collect();
        let panels = vec![
            Panel {
                title: title("Silhouette", "higher is better", Criterion::Silhouette),
                y_desc: "mean silhouette",
                points: series(|s| s.silhouette),
                errors: None,
                chosen: chosen(Criterion::Silhouette),
            },
            Panel {
                title: title("Gap statistic", "first k within 1 s.e. of the next", Criterion::Gap),
                y_desc: "gap(k) ± s(k)",
                points: gap.iter().map(|&(k, g, _)| (k, g)).collect(),
                errors: Some(gap.iter().map(|&(_, _, s)| s).collect()),
                chosen: chosen(Criterion::Gap),
            },
            Panel {
                title: title("Calinski-Harabasz", "higher is better", Criterion::CalinskiHarabasz),
                y_desc: "score",
                points: series(|s| s.calinski_harabasz),
                errors: None,
                chosen: chosen(Criterion::CalinskiHarabasz),
            },
            Panel {
                title: title("Davies-Bouldin", "lower is better", Criterion::DaviesBouldin),
                y_desc: "index",
                points: series(|s| s.davies_bouldin),
                errors: None,
                chosen: chosen(Criterion::DaviesBouldin),
            },
        ];
        CriteriaPanel { best_k: result.best_k(), panels }
    }

    /// Draws the plot and returns the file's bytes.
    pub fn render(&self, format: Format) -> anyhow::Result<Vec<u8>> {
        Figure::render(self, format)
    }
}

impl Figure for CriteriaPanel {
    fn size(&self) -> (u32, u32) {
        (1100, 820)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body =
            root.titled(&format!("Choosing k: the criteria (recommended k={})", self.best_k), (FAMILY, 24))?;
        for (area, panel) in body.split_evenly((2, 2)).iter().zip(&self.panels) {
            if panel.points.is_empty() {
                area.draw(&Text::new(
                    format!("{}: undefined at every k", panel.title),
                    (20, 40),
                    (FAMILY, 16).into_font(),
                ))?;
                continue;
            }
            let bars: Option<Vec<(f64, f64, f64)>> = panel
                .errors
                .as_ref()
                .map(|e| panel.points.iter().zip(e).map(|(&(k, g), &s)| (k, g - s, g + s)).collect());
            let mut chart = line_chart(area, &panel.title, 17, panel.y_desc, &panel.points, bars.as_deref())?;
            draw_curve(&mut chart, &panel.points, bars.as_deref())?;
            if let Some(k) = panel.chosen {
                let x = k as f64;
                draw_mark(&mut chart, x)?;
                if let Some(&p) = panel.points.iter().find(|p| p.0 == x) {
                    chart.draw_series(std::iter::once(Circle::new(p, 8, MARK.stroke_width(3))))?;
                }
            }
        }
        Ok(())
    }
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// A chart of values against k with whole-number ticks on x, its y range fitting the points
/// (and the error bars).
fn line_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    title_size: u32,
    y_desc: &str,
    points: &[(f64, f64)],
    bars: Option<&[(f64, f64, f64)]>,
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let xs = points.iter().map(|p| p.0);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
    let ys = points.iter().map(|p| p.1).chain(bars.into_iter().flatten().flat_map(|b| [b.1, b.2]));
    let (y_lo, y_hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), y| (l.min(y), h.max(y)));
    let pad = if y_hi > y_lo { 0.08 * (y_hi - y_lo) } else { y_hi.abs().max(1.0) * 0.1 };
    let n_ticks = (x_hi - x_lo).round() as usize + 1;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, title_size))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_lo - 0.5)..(x_hi + 0.5), (y_lo - pad)..(y_hi + pad))?;
    let whole = |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { String::new() };
    let value = |v: &f64| crate::output::number(*v);
    chart
        .configure_mesh()
        .x_desc("k (number of clusters)")
        .y_desc(y_desc)
        .x_labels(n_ticks.min(25))
        .x_label_formatter(&whole)
        .y_label_formatter(&value)
        .axis_desc_style((FAMILY, 15))
        .label_style((FAMILY, 12))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

/// The curve through `points`, with a dot at each, and vertical error bars when given.
fn draw_curve<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: &[(f64, f64)],
    bars: Option<&[(f64, f64, f64)]>,
) -> DrawResult<DB> {
    chart.draw_series(LineSeries::new(points.iter().copied(), LINE.stroke_width(2)))?;
    if let Some(bars) = bars {
        for &(x, lo, hi) in bars {
            let style = LINE.stroke_width(2);
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], style)))?;
            for y in [lo, hi] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x - 0.12, y), (x + 0.12, y)],
                    style,
                )))?;
            }
        }
    }
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, LINE.filled())))?;
    Ok(())
}

/// A dashed vertical line at `x` across the chart.
fn draw_mark<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, x: f64) -> DrawResult<DB> {
    let Range { start, end } = chart.y_range();
    chart.draw_series(std::iter::once(DashedPathElement::new(
        vec![(x, start), (x, end)],
        8,
        6,
        MARK.mix(0.7).stroke_width(2),
    )))?;
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kentro::select_k::SelectK;

    fn result() -> (ndarray::Array2<f64>, SelectKResult) {
        let centers = ndarray::array![[10.0, 0.0], [-10.0, 0.0], [0.0, 10.0], [0.0, -10.0]];
        let (x, _) = kentro::datasets::Blobs::new(200).given_centers(centers).seed(3).generate().unwrap();
        let result = SelectK::new(2..=6).n_refs(3).run(x.view()).unwrap();
        (x, result)
    }

    #[test]
    fn every_plot_renders_in_both_formats() {
        let (x, result) = result();
        let diagram = SilhouetteDiagram::new(x.view(), result.labels(4).unwrap(), 4).unwrap().unwrap();
        for bytes in [
            ElbowPlot::new(&result).render(Format::Png).unwrap(),
            CriteriaPanel::new(&result).render(Format::Png).unwrap(),
            diagram.render(Format::Png).unwrap(),
        ] {
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        }
        let svg = String::from_utf8(ElbowPlot::new(&result).render(Format::Svg).unwrap()).unwrap();
        assert!(
            svg.contains("Elbow method: the knee is at k=4") && svg.contains("knee (Kneedle): k=4"),
            "{svg}"
        );
        let svg = String::from_utf8(diagram.render(Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("Silhouette analysis for k=4") && svg.contains("average 0."));
        let svg = String::from_utf8(CriteriaPanel::new(&result).render(Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("recommended k=4") && svg.contains("Gap statistic"));
    }

    #[test]
    fn the_diagram_holds_every_sample_once_sorted_per_cluster() {
        let (x, result) = result();
        let labels = result.labels(3).unwrap();
        let d = SilhouetteDiagram::new(x.view(), labels, 3).unwrap().unwrap();
        assert_eq!(d.clusters.iter().map(Vec::len).sum::<usize>(), 200);
        for (c, values) in d.clusters.iter().enumerate() {
            assert_eq!(values.len(), labels.iter().filter(|&&l| l == c).count());
            assert!(values.windows(2).all(|w| w[0] <= w[1]));
        }
        let mean = d.clusters.iter().flatten().sum::<f64>() / 200.0;
        assert!((mean - result.scores()[1].silhouette.unwrap()).abs() < 1e-12);
        // One label: no diagram.
        assert!(SilhouetteDiagram::new(x.view(), &[0; 200], 1).unwrap().is_none());
    }

    #[test]
    fn large_data_is_thinned_for_the_diagram() {
        let n = 2 * MAX_DIAGRAM_SAMPLES + 10;
        let x =
            ndarray::Array2::from_shape_fn((n, 1), |(i, _)| (i % 2) as f64 * 10.0 + (i % 7) as f64 * 0.01);
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let d = SilhouetteDiagram::new(x.view(), &labels, 2).unwrap().unwrap();
        assert!(d.n_drawn <= MAX_DIAGRAM_SAMPLES && d.n_samples == n);
    }
}
