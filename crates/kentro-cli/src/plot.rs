//! Scatter plots of samples and cluster centres, as PNG or SVG (chosen by the file extension).
//!
//! The plots carry their own font (DejaVu Sans, embedded), so titles and legends render on a
//! machine without any system font. PNG images are encoded in memory and written atomically
//! like every other output.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow, bail};
use plotters::coord::Shift;
use plotters::element::ComposedElement;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the plots ask for; the embedded font is registered under it.
pub(crate) const FAMILY: &str = "sans-serif";
/// Image size in pixels (the SVG uses the same user units).
const SIZE: (u32, u32) = (800, 600);
/// matplotlib's default blue, for samples that have no cluster yet.
const PLAIN: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const CENTROID: RGBColor = RGBColor(0xe3, 0x1a, 0x1c);

/// The output format of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Portable Network Graphics (bitmap).
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl Format {
    /// The format named by `path`'s extension (`.png` or `.svg`, any case).
    pub fn from_path(path: &Path) -> anyhow::Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => bail!("{}: a plot must be a .png or .svg file", path.display()),
        }
    }
}

/// What the legend says about the samples.
#[derive(Debug, Clone)]
pub enum SampleLegend {
    /// Nothing.
    None,
    /// One entry for all samples.
    Single(String),
    /// One entry per cluster.
    PerCluster(Vec<String>),
}

/// A scatter plot of 2-D points, optionally coloured by cluster, with optional centres.
#[derive(Debug, Clone)]
pub struct Scatter {
    /// The caption.
    pub title: String,
    /// The horizontal axis' label.
    pub x_label: String,
    /// The vertical axis' label.
    pub y_label: String,
    /// The samples.
    pub points: Vec<(f64, f64)>,
    /// The cluster of each sample, and the number of clusters; `None` draws them all alike.
    pub clusters: Option<(Vec<usize>, usize)>,
    /// What the legend says about the samples.
    pub sample_legend: SampleLegend,
    /// Cluster centres, drawn as red crosses (legend: "Centroids").
    pub centers: Option<Vec<(f64, f64)>>,
}

impl Scatter {
    /// Draws the plot and returns the file's bytes.
    pub fn render(&self, format: Format) -> anyhow::Result<Vec<u8>> {
        register_embedded_font()?;
        match format {
            Format::Svg => {
                let mut text = String::new();
                {
                    let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
                    self.draw(&root).map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
                    root.present().map_err(|e| anyhow!("drawing the SVG plot: {e}"))?;
                }
                Ok(text.into_bytes())
            }
            Format::Png => {
                let mut rgb = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
                {
                    let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                    self.draw(&root).map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
                    root.present().map_err(|e| anyhow!("drawing the PNG plot: {e}"))?;
                }
                encode_png(&rgb, SIZE).context("encoding the PNG plot")
            }
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let centers = self.centers.as_deref().unwrap_or(&[]);
        let (x_range, y_range) = padded_bounds(self.points.iter().chain(centers));
        let legend_position = self.emptiest_corner(&x_range, &y_range);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FAMILY, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range, y_range)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .axis_desc_style((FAMILY, 16))
            .label_style((FAMILY, 13))
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(TRANSPARENT)
            .draw()?;

        // Smaller markers for crowded plots.
        let radius = match self.points.len() {
            0..=1000 => 4,
            1001..=5000 => 3,
            _ => 2,
        };
        let cross = match centers.len() {
            0..=10 => 9,
            11..=30 => 7,
            _ => 5,
        };
        let mut has_legend = false;
        match &self.clusters {
            None => {
                let series = chart.draw_series(self.points.iter().map(|&p| marker(p, radius, PLAIN)))?;
                if let SampleLegend::Single(label) = &self.sample_legend {
                    series.label(label).legend(|p| marker(p, 4, PLAIN));
                    has_legend = true;
                }
            }
            Some((labels, k)) => {
                let k = *k;
                for cluster in 0..k {
                    let color = cluster_color(cluster, k);
                    let members = self.points.iter().zip(labels).filter(|&(_, &l)| l == cluster);
                    let series = chart.draw_series(members.map(|(&p, _)| marker(p, radius, color)))?;
                    match &self.sample_legend {
                        SampleLegend::Single(label) if cluster == 0 => {
                            // One entry for the whole data, in the colour map's middle colour.
                            let mid = cluster_color(k / 2, k.max(2));
                            series.label(label).legend(move |p| marker(p, 4, mid));
                            has_legend = true;
                        }
                        SampleLegend::PerCluster(labels) => {
                            if let Some(label) = labels.get(cluster) {
                                series.label(label).legend(move |p| marker(p, 4, color));
                                has_legend = true;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(centers) = &self.centers {
            chart
                .draw_series(centers.iter().map(|&p| centroid_marker(p, cross)))?
                .label("Centroids")
                .legend(|p| centroid_marker(p, 6));
            has_legend = true;
        }
        if has_legend {
            chart
                .configure_series_labels()
                .position(legend_position)
                .label_font((FAMILY, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        Ok(())
    }
}

impl Scatter {
    /// The number of legend entries.
    fn legend_entries(&self) -> usize {
        let samples = match &self.sample_legend {
            SampleLegend::None => 0,
            SampleLegend::Single(_) => 1,
            SampleLegend::PerCluster(labels) => labels.len(),
        };
        samples + usize::from(self.centers.is_some())
    }

    /// Where the legend hides the fewest points, like matplotlib's `loc="best"` (upper right
    /// on a tie).
    fn emptiest_corner(&self, x: &std::ops::Range<f64>, y: &std::ops::Range<f64>) -> SeriesLabelPosition {
        // The legend's rough extent as a fraction of the plot: 30% wide, 20 px per entry.
        let width = 0.3 * (x.end - x.start);
        let height = (self.legend_entries() as f64 * 20.0 / 480.0).min(0.9) * (y.end - y.start);
        let corners = [
            (SeriesLabelPosition::UpperRight, x.end - width..x.end, y.end - height..y.end),
            (SeriesLabelPosition::UpperLeft, x.start..x.start + width, y.end - height..y.end),
            (SeriesLabelPosition::LowerRight, x.end - width..x.end, y.start..y.start + height),
            (SeriesLabelPosition::LowerLeft, x.start..x.start + width, y.start..y.start + height),
        ];
        let centers = self.centers.as_deref().unwrap_or(&[]);
        let covered = |xr: &std::ops::Range<f64>, yr: &std::ops::Range<f64>| {
            self.points.iter().chain(centers).filter(|(px, py)| xr.contains(px) && yr.contains(py)).count()
        };
        let (position, _, _) =
            corners.into_iter().min_by_key(|(_, xr, yr)| covered(xr, yr)).expect("four corners");
        position
    }
}

/// A marker drawn as two shapes, one over the other, centred on a data point.
type Marker<C, DB, S> = ComposedElement<C, DB, S, S>;

/// A filled circle with a thin dark edge, like matplotlib's `edgecolor='k'` scatter.
fn marker<C, DB: DrawingBackend>(
    at: C,
    radius: i32,
    color: RGBColor,
) -> Marker<C, DB, Circle<(i32, i32), i32>> {
    EmptyElement::at(at)
        + Circle::new((0, 0), radius, color.mix(0.85).filled())
        + Circle::new((0, 0), radius, BLACK.mix(0.6).stroke_width(1))
}

/// A bold red cross with a dark outline.
fn centroid_marker<C, DB: DrawingBackend>(at: C, size: i32) -> Marker<C, DB, Cross<(i32, i32), i32>> {
    EmptyElement::at(at)
        + Cross::new((0, 0), size, BLACK.stroke_width(7))
        + Cross::new((0, 0), size, CENTROID.stroke_width(4))
}

/// The data's bounding box with a 5% margin (a unit margin when it is flat).
fn padded_bounds<'a>(
    points: impl Iterator<Item = &'a (f64, f64)>,
) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let mut lo = (f64::INFINITY, f64::INFINITY);
    let mut hi = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    let pad = |lo: f64, hi: f64| {
        if !(lo.is_finite() && hi.is_finite()) {
            return -1.0..1.0;
        }
        let margin = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
        (lo - margin)..(hi + margin)
    };
    (pad(lo.0, hi.0), pad(lo.1, hi.1))
}

/// The colour of cluster `i` of `k`: evenly spaced along viridis, as matplotlib colours
/// `c=labels` with `cmap='viridis'`.
pub fn cluster_color(i: usize, k: usize) -> RGBColor {
    const VIRIDIS: [(u8, u8, u8); 11] = [
        (0x44, 0x01, 0x54),
        (0x48, 0x24, 0x75),
        (0x41, 0x44, 0x87),
        (0x35, 0x5f, 0x8d),
        (0x2a, 0x78, 0x8e),
        (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84),
        (0x44, 0xbf, 0x70),
        (0x7a, 0xd1, 0x51),
        (0xbd, 0xdf, 0x26),
        (0xfd, 0xe7, 0x25),
    ];
    let t = if k <= 1 { 0.5 } else { i as f64 / (k - 1) as f64 };
    let pos = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let (lo, frac) = (pos.floor() as usize, pos.fract());
    let hi = (lo + 1).min(VIRIDIS.len() - 1);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * frac).round() as u8;
    let (a, b) = (VIRIDIS[lo], VIRIDIS[hi]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

pub(crate) fn register_embedded_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // Bold text (if any) falls back to the regular face.
        register_font(FAMILY, FontStyle::Normal, FONT).is_ok()
    });
    if ok { Ok(()) } else { bail!("the embedded font could not be loaded") }
}

pub(crate) fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Scatter {
        Scatter {
            title: "Clustered Data with Centroids Overlayed".into(),
            x_label: "x0".into(),
            y_label: "x1".into(),
            points: vec![(0.0, 0.0), (1.0, 1.0), (5.0, 5.0), (6.0, 5.5)],
            clusters: Some((vec![0, 0, 1, 1], 2)),
            sample_legend: SampleLegend::Single("Original Data".into()),
            centers: Some(vec![(0.5, 0.5), (5.5, 5.25)]),
        }
    }

    #[test]
    fn svg_carries_the_title_and_legend() {
        let svg = String::from_utf8(sample().render(Format::Svg).unwrap()).unwrap();
        assert!(svg.contains("Clustered Data with Centroids Overlayed"));
        assert!(svg.contains("Original Data") && svg.contains("Centroids"));
    }

    #[test]
    fn png_is_a_png_with_text_drawn() {
        let png = sample().render(Format::Png).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // The title strip (above the plot area) holds dark text pixels only if a font rendered.
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let row_bytes = info.line_size;
        let title_rows = &buf[16 * row_bytes..40 * row_bytes];
        assert!(title_rows.iter().any(|&v| v < 100), "no text in the title strip");
    }

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(Format::from_path(Path::new("a/b.PNG")).unwrap(), Format::Png);
        assert_eq!(Format::from_path(Path::new("b.svg")).unwrap(), Format::Svg);
        let err = Format::from_path(Path::new("b.jpg")).unwrap_err().to_string();
        assert_eq!(err, "b.jpg: a plot must be a .png or .svg file");
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow() {
        assert_eq!(cluster_color(0, 3), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(cluster_color(1, 3), RGBColor(0x21, 0x91, 0x8c));
        assert_eq!(cluster_color(2, 3), RGBColor(0xfd, 0xe7, 0x25));
    }
}
