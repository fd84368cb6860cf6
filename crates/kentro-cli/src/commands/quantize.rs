//! `kentro quantize`: image compression by clustering the colours of the pixels.
//!
//! The pixels' colours (RGB in [0, 1]) are clustered with kentro's default exact K-Means, each
//! pixel takes its cluster's centre, and the result is written as an indexed (palette) PNG at
//! the smallest bit depth that holds the palette, which is what makes the file small. A
//! grayscale image is clustered on its gray levels with the exact optimal 1-D k-means instead.
//!
//! The fit runs on the distinct colours weighted by their pixel counts: the same inertia, hence
//! the same clustering problem, as one row per pixel, in far fewer rows.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use image::{DynamicImage, ImageFormat};
use kentro::{Algorithm, KMeans};
use ndarray::{Array1, Array2};

use crate::cli::{parse_positive, parse_seed};
use crate::output;

/// The most colours an indexed PNG holds.
const MAX_COLORS: usize = 256;

/// `kentro quantize`.
#[derive(Debug, Args)]
#[command(after_help = "Output: the quantized image, an indexed (palette) PNG at the smallest bit \
    depth that holds the colours (1, 2, 4 or 8 bits per pixel), and a summary on stdout: the \
    sizes of the original and new files, the colours used, and the PSNR (peak signal-to-noise \
    ratio on the 8-bit values, 10·log10(255²/MSE); higher is closer to the original). \
    Transparency is flattened onto white (with a warning): the quantized image is opaque. A \
    grayscale image (a grayscale file, or every pixel with equal R, G and B) is clustered on its gray \
    levels with the exact optimal 1-D k-means, and --sample does not apply (a warning says so). \
    A 16-bit image is rounded to 8 bits per channel first. When the new file is larger than the \
    original (a JPEG, or a large palette), a note says so. The outputs must be named .png. The \
    files are written only once all of them are ready: an error or Ctrl-C leaves none.")]
pub struct QuantizeArgs {
    /// The image: a PNG or JPEG file.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,

    /// Colours in the quantized image, from 1 to 256.
    #[arg(long, value_name = "K", value_parser = parse_colors)]
    pub colors: usize,

    /// The quantized image (an indexed PNG) [default: IMAGE's name ending in `-Kcolors.png`, in
    /// IMAGE's folder].
    #[arg(long, short = 'o', value_name = "OUT.png")]
    pub out: Option<PathBuf>,

    /// Also write the original and the quantized image side by side, as a PNG.
    #[arg(long, value_name = "CMP.png")]
    pub side_by_side: Option<PathBuf>,

    /// Fit the colours on N pixels drawn at random (without replacement; faster on large
    /// images), then give every pixel its nearest colour [default: fit on all pixels].
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub sample: Option<NonZeroUsize>,

    /// Seed of the random choices (k-means++ and --sample); results depend on it, never on
    /// --threads.
    #[arg(long, value_name = "S", default_value_t = 0, value_parser = parse_seed)]
    pub seed: u64,

    /// Worker threads [default: rayon's, which honours RAYON_NUM_THREADS]. Never changes the
    /// result.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<NonZeroUsize>,
}

/// A colour count from 1 to 256.
fn parse_colors(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(k) if (1..=MAX_COLORS).contains(&k) => Ok(k),
        _ => Err(format!("expected a whole number from 1 to {MAX_COLORS}")),
    }
}

/// An image as 8-bit RGB pixels, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Rgb {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height` pixels, row-major.
    pub pixels: Vec<[u8; 3]>,
}

/// What was read from the image file.
struct Decoded {
    rgb: Rgb,
    /// The file's own colour type is grayscale (or every pixel has R = G = B).
    grayscale: bool,
    had_alpha: bool,
    /// The file's format (PNG or JPEG).
    format: ImageFormat,
    /// The file has more than 8 bits per channel (it was rounded to 8).
    sixteen_bit: bool,
}

/// Reads and decodes a PNG or JPEG file.
fn decode(path: &Path) -> anyhow::Result<Decoded> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = match image::guess_format(&bytes) {
        Ok(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Ok(other) => bail!("{}: a {other:?} image; expected a PNG or JPEG file", path.display()),
        Err(_) => bail!("{}: not a PNG or JPEG image", path.display()),
    };
    let image = image::load_from_memory_with_format(&bytes, format)
        .with_context(|| format!("{}: cannot decode the {format:?} image", path.display()))?;
    let had_alpha = image.color().has_alpha();
    let sixteen_bit = image.color().bytes_per_pixel() > image.color().channel_count();
    let gray_file = !image.color().has_color();
    let rgb = flatten(&image);
    let grayscale = gray_file || rgb.pixels.iter().all(|&[r, g, b]| r == g && g == b);
    Ok(Decoded { rgb, grayscale, had_alpha, format, sixteen_bit })
}

/// The image as 8-bit RGB, transparent pixels blended onto white.
fn flatten(image: &DynamicImage) -> Rgb {
    let rgba = image.to_rgba8();
    let pixels = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            let blend = |c: u8| ((c as u32 * a as u32 + 255 * (255 - a as u32) + 127) / 255) as u8;
            [blend(r), blend(g), blend(b)]
        })
        .collect();
    Rgb { width: rgba.width(), height: rgba.height(), pixels }
}

/// The quantized image: a palette and, per pixel, its index in the palette.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    /// The colours used, each once.
    pub palette: Vec<[u8; 3]>,
    /// The palette index of every pixel, row-major.
    pub indices: Vec<u8>,
    /// How the colours were chosen, for the summary.
    pub method: String,
}

/// The distinct colours of `pixels` in ascending order of `0xRRGGBB`, with their pixel counts.
fn distinct_colors(pixels: &[[u8; 3]]) -> (Vec<[u8; 3]>, Vec<f64>) {
    let mut codes: Vec<u32> = pixels.iter().map(|&c| code(c)).collect();
    codes.sort_unstable();
    let mut colors = Vec::new();
    let mut counts: Vec<f64> = Vec::new();
    for (i, &c) in codes.iter().enumerate() {
        if i > 0 && codes[i - 1] == c {
            *counts.last_mut().expect("a colour was pushed") += 1.0;
        } else {
            colors.push(decode_code(c));
            counts.push(1.0);
        }
    }
    (colors, counts)
}

fn code([r, g, b]: [u8; 3]) -> u32 {
    (r as u32) << 16 | (g as u32) << 8 | b as u32
}

fn decode_code(c: u32) -> [u8; 3] {
    [(c >> 16) as u8, (c >> 8) as u8, c as u8]
}

/// `n` pixel indices out of `total`, drawn uniformly without replacement (Knuth's selection
/// sampling: one pass, in ascending order), from `seed`.
fn sample_indices(total: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed ^ 0x5851_F42D_4C95_7F2D;
    let mut uniform = || {
        // SplitMix64.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    };
    let mut chosen = Vec::with_capacity(n);
    for i in 0..total {
        let needed = n - chosen.len();
        if needed == 0 {
            break;
        }
        if ((total - i) as f64) * uniform() < needed as f64 {
            chosen.push(i);
        }
    }
    chosen
}

/// Quantizes `rgb` to at most `k` colours: K-Means on the colours (RGB in [0, 1]), fitted on the
/// distinct colours of all pixels or of `sample` random pixels; for a `grayscale` image, the exact
/// optimal 1-D k-means on the gray levels. An image with at most `k` colours keeps them all.
pub fn quantize(
    rgb: &Rgb,
    k: usize,
    grayscale: bool,
    sample: Option<usize>,
    seed: u64,
) -> anyhow::Result<Quantized> {
    if !(1..=MAX_COLORS).contains(&k) {
        bail!("--colors {k}: expected a whole number from 1 to {MAX_COLORS}");
    }
    let (colors, counts) = distinct_colors(&rgb.pixels);
    // The cluster of each distinct colour, and the clusters' centres in [0, 1].
    let (labels, centers, method): (Vec<usize>, Array2<f64>, String) = if colors.len() <= k {
        let centers = Array2::from_shape_fn((colors.len(), 3), |(i, j)| colors[i][j] as f64 / 255.0);
        ((0..colors.len()).collect(), centers, "every colour kept (no more than K in the image)".into())
    } else if grayscale {
        let x = Array2::from_shape_fn((colors.len(), 1), |(i, _)| colors[i][0] as f64 / 255.0);
        let model = KMeans::params(k)
            .algorithm(Algorithm::Exact1d)
            .check()?
            .fit_weighted(x.view(), Array1::from(counts).view())?;
        let centers = Array2::from_shape_fn((k, 3), |(i, _)| model.centers()[[i, 0]]);
        (model.labels().to_vec(), centers, "exact optimal 1-D k-means on the gray levels".into())
    } else {
        let as_rows = |colors: &[[u8; 3]]| {
            Array2::from_shape_fn((colors.len(), 3), |(i, j)| colors[i][j] as f64 / 255.0)
        };
        let all = as_rows(&colors);
        let n_pixels = rgb.pixels.len();
        let params = KMeans::params(k).seed(seed).check()?;
        match sample.filter(|&s| s < n_pixels) {
            None => {
                let model = params.fit_weighted(all.view(), Array1::from(counts).view())?;
                let method = format!("k-means on the colours of all {n_pixels} pixels, seed {seed}");
                (model.labels().to_vec(), model.centers().to_owned(), method)
            }
            Some(n) => {
                let picked: Vec<[u8; 3]> =
                    sample_indices(n_pixels, n, seed).into_iter().map(|i| rgb.pixels[i]).collect();
                let (sample_colors, sample_counts) = distinct_colors(&picked);
                let method = format!("k-means on the colours of {n} random pixels, seed {seed}");
                let centers = if sample_colors.len() <= k {
                    as_rows(&sample_colors)
                } else {
                    let x = as_rows(&sample_colors);
                    params.fit_weighted(x.view(), Array1::from(sample_counts).view())?.centers().to_owned()
                };
                let model = KMeans::from_parts(centers.clone(), Vec::new(), 0.0, 0)?;
                (model.predict(all.view())?, centers, method)
            }
        }
    };
    Ok(to_palette(rgb, &colors, &labels, centers.view(), method))
}

/// The palette (each cluster's centre as 8-bit RGB, clusters that hold no pixel and repeated
/// colours dropped) and every pixel's index in it.
fn to_palette(
    rgb: &Rgb,
    colors: &[[u8; 3]],
    labels: &[usize],
    centers: ndarray::ArrayView2<f64>,
    method: String,
) -> Quantized {
    let rounded = |v: f64| (v * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut entry_of_cluster = vec![None; centers.nrows()];
    let mut entry_of_color = Vec::with_capacity(colors.len());
    for &cluster in labels {
        let entry = *entry_of_cluster[cluster].get_or_insert_with(|| {
            let c = centers.row(cluster);
            let color = [rounded(c[0]), rounded(c[1]), rounded(c[2])];
            palette.iter().position(|&p| p == color).unwrap_or_else(|| {
                palette.push(color);
                palette.len() - 1
            })
        });
        entry_of_color.push(entry as u8);
    }
    let indices = rgb
        .pixels
        .iter()
        .map(|&p| {
            let i =
                colors.binary_search_by_key(&code(p), |&c| code(c)).expect("every pixel's colour is listed");
            entry_of_color[i]
        })
        .collect();
    Quantized { palette, indices, method }
}

/// The smallest PNG bit depth whose indices reach `n` palette entries.
fn bit_depth(n: usize) -> (png::BitDepth, usize) {
    match n {
        0..=2 => (png::BitDepth::One, 1),
        3..=4 => (png::BitDepth::Two, 2),
        5..=16 => (png::BitDepth::Four, 4),
        _ => (png::BitDepth::Eight, 8),
    }
}

/// The quantized image as an indexed PNG at the smallest bit depth; returns the bytes and the
/// bits per pixel.
pub fn indexed_png(q: &Quantized, width: u32, height: u32) -> anyhow::Result<(Vec<u8>, usize)> {
    let (depth, bits) = bit_depth(q.palette.len());
    let per_byte = 8 / bits;
    let row_bytes = (width as usize).div_ceil(per_byte);
    let mut data = vec![0u8; row_bytes * height as usize];
    for (row, out) in q.indices.chunks_exact(width as usize).zip(data.chunks_exact_mut(row_bytes)) {
        for (x, &index) in row.iter().enumerate() {
            // Pixels fill a byte from its most significant bits.
            let shift = 8 - bits * (x % per_byte + 1);
            out[x / per_byte] |= index << shift;
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(depth);
    encoder.set_palette(q.palette.concat());
    encoder.set_compression(png::Compression::High);
    // Indices are labels, not intensities: predicting them from their neighbours (PNG's
    // filters) rarely helps, and the PNG specification advises no filter for palette images.
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok((bytes, bits))
}

/// An RGB image as a PNG.
fn rgb_png(pixels: &[[u8; 3]], width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels.concat())?;
    writer.finish()?;
    Ok(bytes)
}

/// The original (left) and the quantized image (right), with a white gap between them.
fn side_by_side(rgb: &Rgb, q: &Quantized) -> anyhow::Result<Vec<u8>> {
    let (w, h) = (rgb.width as usize, rgb.height as usize);
    let gap = (w / 64).max(4);
    let width = 2 * w + gap;
    let mut pixels = vec![[255u8; 3]; width * h];
    for y in 0..h {
        let row = &mut pixels[y * width..(y + 1) * width];
        row[..w].copy_from_slice(&rgb.pixels[y * w..(y + 1) * w]);
        for (out, &index) in row[w + gap..].iter_mut().zip(&q.indices[y * w..(y + 1) * w]) {
            *out = q.palette[index as usize];
        }
    }
    let width = u32::try_from(width).map_err(|_| anyhow!("the side-by-side image would be too wide"))?;
    rgb_png(&pixels, width, rgb.height)
}

/// Peak signal-to-noise ratio of the quantized image against the original, on the 8-bit values
/// of the three channels: `10·log10(255² / MSE)`, infinite when they are equal.
pub fn psnr(rgb: &Rgb, q: &Quantized) -> f64 {
    let mut sum = 0.0f64;
    for (p, &i) in rgb.pixels.iter().zip(&q.indices) {
        let c = q.palette[i as usize];
        sum += (0..3).map(|j| (p[j] as f64 - c[j] as f64).powi(2)).sum::<f64>();
    }
    let mse = sum / (3 * rgb.pixels.len()) as f64;
    if mse == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 / mse).log10() }
}

/// Refuses an output name that does not end in `.png`: the files written are PNGs.
fn check_png_name(option: &str, path: &Path) -> anyhow::Result<()> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        return Ok(());
    }
    bail!("{option} {}: the image is written as a PNG; give a name ending in .png", path.display())
}

/// Why the quantized PNG came out larger than the original file.
fn larger_note(format: ImageFormat, bits: usize) -> String {
    let why = if format == ImageFormat::Jpeg {
        "the original is a JPEG, already compressed (lossily), and a palette PNG of a photo often \
         does not beat it; fewer --colors make the PNG smaller"
            .to_string()
    } else {
        format!(
            "a palette this large ({bits} bits per pixel) compresses less well than the original; \
             fewer --colors make the PNG smaller"
        )
    };
    format!("note:          the new file is larger than the original: {why}")
}

/// `IMAGE`'s folder and name, ending in `-Kcolors.png`.
fn default_output(image: &Path, k: usize) -> PathBuf {
    let stem = image.file_stem().map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
    image.with_file_name(format!("{stem}-{k}colors.png"))
}

/// Reads the image, quantizes it and writes the files: all of them or, on an error, none.
pub fn run(args: QuantizeArgs) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| default_output(&args.image, args.colors));
    check_png_name("--out", &out)?;
    if let Some(path) = &args.side_by_side {
        check_png_name("--side-by-side", path)?;
    }
    let mut targets: Vec<(&str, &Path)> = vec![("--out", &out)];
    if let Some(path) = &args.side_by_side {
        targets.push(("--side-by-side", path));
    }
    output::check_targets(&[&args.image], &targets)?;

    let decoded = decode(&args.image)?;
    let rgb = &decoded.rgb;
    let sample = args.sample.map(NonZeroUsize::get);
    let q = super::in_thread_pool(args.threads, || {
        quantize(rgb, args.colors, decoded.grayscale, sample, args.seed)
    })?
    .with_context(|| format!("cannot quantize {}", args.image.display()))?;

    let (png, bits) = indexed_png(&q, rgb.width, rgb.height)?;
    let mut outputs = output::Outputs::new();
    outputs.stage(&out, &png)?;
    if let Some(path) = &args.side_by_side {
        outputs.stage(path, &side_by_side(rgb, &q)?)?;
    }
    outputs.commit()?;

    if decoded.grayscale && args.sample.is_some() {
        eprintln!(
            "warning: --sample is ignored: {} is grayscale, and its gray levels are clustered \
             exactly on all pixels",
            args.image.display()
        );
    }
    if decoded.had_alpha {
        eprintln!(
            "warning: {} has an alpha channel: transparency was flattened onto white, the quantized \
             image is opaque",
            args.image.display()
        );
    }
    let original = std::fs::metadata(&args.image).map(|m| m.len()).unwrap_or(0);
    let new = png.len() as u64;
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    line(format!(
        "quantized {}: {} × {} pixels{}, {} colours asked",
        args.image.display(),
        rgb.width,
        rgb.height,
        if decoded.grayscale { " (grayscale)" } else { "" },
        args.colors
    ));
    line(format!("method:        {}", q.method));
    line(format!("original size: {original} bytes"));
    let ratio = if original > 0 {
        format!(", {:.1}% of the original", 100.0 * new as f64 / original as f64)
    } else {
        String::new()
    };
    line(format!(
        "new size:      {new} bytes (indexed PNG, {bits} bit{} per pixel{ratio})",
        if bits == 1 { "" } else { "s" }
    ));
    if original > 0 && new > original {
        line(larger_note(decoded.format, bits));
    }
    line(format!("colours used:  {}", q.palette.len()));
    let psnr = psnr(rgb, &q);
    let psnr = match (psnr.is_finite(), decoded.sixteen_bit) {
        (true, false) => format!("{psnr:.2} dB"),
        (false, false) => "inf (identical to the original)".into(),
        (true, true) => format!("{psnr:.2} dB (on the original rounded to 8 bits per channel)"),
        (false, true) => "inf on the original rounded to 8 bits per channel (the 16-bit original \
            lost precision)"
            .into(),
    };
    line(format!("PSNR:          {psnr}"));
    line(format!("wrote {}", out.display()));
    if let Some(path) = &args.side_by_side {
        line(format!("wrote {}", path.display()));
    }
    output::write_stdout(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(pixels: Vec<[u8; 3]>, width: u32) -> Rgb {
        let height = (pixels.len() / width as usize) as u32;
        Rgb { width, height, pixels }
    }

    fn decode_png(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let palette = reader.info().palette.as_ref().map(|p| p.to_vec()).unwrap_or_default();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        (info, buf, palette)
    }

    #[test]
    fn colour_counts_are_parsed_from_1_to_256() {
        assert_eq!(parse_colors("16"), Ok(16));
        assert_eq!(parse_colors("256"), Ok(256));
        for bad in ["0", "257", "-1", "many"] {
            assert_eq!(parse_colors(bad), Err("expected a whole number from 1 to 256".into()), "{bad}");
        }
    }

    #[test]
    fn bit_depths_are_the_smallest_that_hold_the_palette() {
        let bits = |n| bit_depth(n).1;
        assert_eq!(
            [bits(1), bits(2), bits(3), bits(4), bits(5), bits(16), bits(17), bits(256)],
            [1, 1, 2, 2, 4, 4, 8, 8]
        );
    }

    #[test]
    fn indexed_pngs_decode_to_the_same_pixels_at_every_depth() {
        for n in [2usize, 3, 16, 200] {
            let width = 13;
            let palette: Vec<[u8; 3]> = (0..n).map(|i| [i as u8, 255 - i as u8, 7]).collect();
            let indices: Vec<u8> = (0..width * 5).map(|i| ((i * 7 + i / 3) % n) as u8).collect();
            let q = Quantized { palette: palette.clone(), indices: indices.clone(), method: String::new() };
            let (bytes, bits) = indexed_png(&q, width as u32, 5).unwrap();
            assert_eq!(bits, bit_depth(n).1);
            // Expand the packed rows back to one index per pixel.
            let (info, buf, file_palette) = decode_png(&bytes);
            assert_eq!(info.color_type, png::ColorType::Indexed);
            assert_eq!(file_palette, palette.concat());
            let mut got = Vec::new();
            for row in buf.chunks_exact(info.line_size).take(5) {
                for x in 0..width {
                    let byte = row[x * bits / 8];
                    let shift = 8 - bits * (x % (8 / bits) + 1);
                    got.push((byte >> shift) & ((1u16 << bits) - 1) as u8);
                }
            }
            assert_eq!(got, indices, "{n} colours");
        }
    }

    #[test]
    fn few_colours_are_kept_exactly() {
        let rgb = image(vec![[1, 2, 3], [200, 0, 0], [1, 2, 3], [0, 0, 0]], 2);
        let q = quantize(&rgb, 3, false, None, 0).unwrap();
        assert_eq!(q.palette.len(), 3);
        assert_eq!(psnr(&rgb, &q), f64::INFINITY);
    }

    #[test]
    fn two_colour_groups_become_their_means() {
        let rgb = image(vec![[10, 10, 10], [12, 12, 12], [200, 100, 0], [202, 102, 2]], 4);
        let q = quantize(&rgb, 2, false, None, 0).unwrap();
        let colours: Vec<[u8; 3]> = q.indices.iter().map(|&i| q.palette[i as usize]).collect();
        assert_eq!(colours, [[11, 11, 11], [11, 11, 11], [201, 101, 1], [201, 101, 1]]);
        let expected = 10.0 * (255.0f64 * 255.0 / 1.0).log10();
        assert!((psnr(&rgb, &q) - expected).abs() < 1e-12);
    }

    #[test]
    fn grayscale_uses_the_exact_optimum() {
        // Gray levels 0, 1, 2 (many) and 100, 102: the optimum for 2 colours splits at the gap.
        let mut pixels = vec![[0u8; 3]; 50];
        pixels.extend(vec![[1u8; 3]; 30]);
        pixels.extend(vec![[2u8; 3]; 20]);
        pixels.extend([[100u8; 3], [102u8; 3]]);
        let rgb = image(pixels, 2);
        let q = quantize(&rgb, 2, true, None, 0).unwrap();
        assert!(q.method.contains("exact optimal 1-D"), "{}", q.method);
        let mut palette = q.palette.clone();
        palette.sort();
        // (30 + 40) / 100 = 0.7 rounds to 1; (100 + 102) / 2 = 101.
        assert_eq!(palette, [[1, 1, 1], [101, 101, 101]]);
    }

    #[test]
    fn sampling_draws_distinct_sorted_indices_for_a_seed() {
        let a = sample_indices(1000, 100, 3);
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && *a.last().unwrap() < 1000);
        assert_eq!(a, sample_indices(1000, 100, 3));
        assert_ne!(a, sample_indices(1000, 100, 4));
        assert_eq!(sample_indices(5, 5, 0), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn transparency_is_flattened_onto_white() {
        let img = image::RgbaImage::from_raw(3, 1, vec![0, 0, 0, 0, 0, 0, 0, 255, 200, 100, 0, 128]).unwrap();
        let rgb = flatten(&DynamicImage::ImageRgba8(img));
        assert_eq!(rgb.pixels, [[255, 255, 255], [0, 0, 0], [227, 177, 127]]);
    }
}
