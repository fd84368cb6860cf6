//! `kentro quantize` end to end: a generated test image compressed to 16 colours (smaller than
//! the original PNG, PSNR against scikit-learn's KMeans from a fixture), grayscale images, JPEG
//! input, transparency, determinism, and the errors a user sees.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

const SIZE: u32 = 256;

/// `kentro` running in `dir`, so that paths (and error messages) are short and relative.
fn kentro(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("kentro");
    cmd.current_dir(dir).env_remove("RAYON_NUM_THREADS");
    cmd
}

/// The test image's colour at column `x`, row `y`: gradients, four shapes and a little
/// deterministic noise, in integers only. scripts/make_quantize_fixture.py has the same formula;
/// the fixture's checksum catches any drift between the two.
fn test_pixel(x: i64, y: i64) -> [u8; 3] {
    let base: [i64; 3] = if (x - 80).pow(2) + (y - 90).pow(2) < 50 * 50 {
        [220, 50, 40]
    } else if (150..230).contains(&x) && (30..110).contains(&y) {
        [30, 60 + 2 * (y - 30), 200]
    } else if (30 * 30..45 * 45).contains(&((x - 170).pow(2) + (y - 190).pow(2))) {
        [250, 220, 30]
    } else if (20..100).contains(&x) && (170..240).contains(&y) {
        if (x / 10 + y / 10) % 2 == 0 { [245, 245, 245] } else { [15, 15, 15] }
    } else {
        [x, y, (x + y) / 2]
    };
    let mut h = (x as u32).wrapping_mul(374761393).wrapping_add((y as u32).wrapping_mul(668265263));
    h = (h ^ (h >> 13)).wrapping_mul(1274126177);
    let mut out = [0u8; 3];
    for c in 0..3 {
        let noise = ((h >> (8 * (2 - c))) & 0xFF) as i64 % 9 - 4;
        out[c] = (base[c] + noise).clamp(0, 255) as u8;
    }
    out
}

/// The test image, 256 × 256 RGB, row-major.
fn test_image() -> Vec<[u8; 3]> {
    (0..SIZE as i64).flat_map(|y| (0..SIZE as i64).map(move |x| test_pixel(x, y))).collect()
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01B3))
}

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quantize_sklearn.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// A PNG of `color` type (8 bits per sample) with default settings: a normal PNG.
fn encode_png(data: &[u8], width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(data).unwrap();
    writer.finish().unwrap();
    out
}

/// A decoded PNG: its header, the palette (if any) and every pixel as RGB.
struct Decoded {
    width: u32,
    height: u32,
    color: png::ColorType,
    bit_depth: png::BitDepth,
    palette: Vec<[u8; 3]>,
    pixels: Vec<[u8; 3]>,
}

fn decode(path: &Path) -> Decoded {
    let bytes = fs::read(path).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let info = reader.info();
    let (color, bit_depth) = (info.color_type, info.bit_depth);
    let palette: Vec<[u8; 3]> = info
        .palette
        .as_ref()
        .map_or_else(Vec::new, |p| p.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect());
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let (width, height) = (frame.width, frame.height);
    let bits = bit_depth as usize;
    let mut pixels = Vec::new();
    for row in buf.chunks_exact(frame.line_size).take(height as usize) {
        for x in 0..width as usize {
            pixels.push(match color {
                png::ColorType::Indexed => {
                    let byte = row[x * bits / 8];
                    let index = (byte >> (8 - bits * (x % (8 / bits) + 1))) & ((1u16 << bits) - 1) as u8;
                    palette[index as usize]
                }
                png::ColorType::Rgb => [row[3 * x], row[3 * x + 1], row[3 * x + 2]],
                other => panic!("unexpected colour type {other:?}"),
            });
        }
    }
    Decoded { width, height, color, bit_depth, palette, pixels }
}

fn psnr(a: &[[u8; 3]], b: &[[u8; 3]]) -> f64 {
    let sum: f64 =
        a.iter().zip(b).flat_map(|(p, q)| (0..3).map(move |j| (p[j] as f64 - q[j] as f64).powi(2))).sum();
    10.0 * (255.0f64.powi(2) / (sum / (3 * a.len()) as f64)).log10()
}

/// The value printed after `label` in the summary.
fn field<'a>(stdout: &'a str, label: &str) -> &'a str {
    let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{label} in {stdout}"));
    line[label.len()..].trim()
}

#[test]
fn the_generated_image_matches_the_fixture_script() {
    let pixels = test_image();
    let fixture = fixture();
    assert_eq!(fixture["width"], SIZE);
    assert_eq!(format!("{:016x}", fnv1a64(&pixels.concat())), fixture["pixels_fnv1a64"].as_str().unwrap());
}

#[test]
fn sixteen_colours_shrink_the_file_and_match_scikit_learn_quality() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let original = test_image();
    fs::write(d.join("test.png"), encode_png(&original.concat(), SIZE, SIZE, png::ColorType::Rgb)).unwrap();
    let out = kentro(d)
        .args(["quantize", "test.png", "--colors", "16", "-o", "q.png", "--side-by-side", "cmp.png"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();

    let q = decode(&d.join("q.png"));
    assert_eq!((q.width, q.height), (SIZE, SIZE));
    assert_eq!(q.color, png::ColorType::Indexed);
    assert_eq!(q.bit_depth, png::BitDepth::Four);
    assert!(q.palette.len() <= 16 && q.palette.len() >= 12, "{} colours", q.palette.len());

    // Smaller than the original PNG, and the sizes printed are the files'.
    let (original_size, new_size) =
        (fs::metadata(d.join("test.png")).unwrap().len(), fs::metadata(d.join("q.png")).unwrap().len());
    assert!(new_size < original_size, "{new_size} >= {original_size}");
    assert_eq!(field(&stdout, "original size:"), format!("{original_size} bytes"));
    assert!(
        field(&stdout, "new size:").starts_with(&format!("{new_size} bytes (indexed PNG, 4 bits per pixel"))
    );
    assert_eq!(field(&stdout, "colours used:"), q.palette.len().to_string());

    // PSNR, measured here on the decoded file, against scikit-learn's median over 5 seeds.
    let measured = psnr(&original, &q.pixels);
    let fixture = fixture();
    let median = fixture["median_psnr"].as_f64().unwrap();
    assert!(measured >= median - 0.1, "PSNR {measured:.3} dB < scikit-learn's median {median:.3} dB - 0.1");
    assert_eq!(field(&stdout, "PSNR:"), format!("{measured:.2} dB"));

    // Side by side: the original on the left, the quantized image on the right.
    let cmp = decode(&d.join("cmp.png"));
    let gap = 4;
    assert_eq!((cmp.width, cmp.height), (2 * SIZE + gap, SIZE));
    let w = cmp.width as usize;
    for y in 0..SIZE as usize {
        let row = &cmp.pixels[y * w..(y + 1) * w];
        let n = SIZE as usize;
        assert_eq!(&row[..n], &original[y * n..(y + 1) * n]);
        assert!(row[n..n + gap as usize].iter().all(|&p| p == [255; 3]));
        assert_eq!(&row[n + gap as usize..], &q.pixels[y * n..(y + 1) * n]);
    }
}

#[test]
fn results_depend_on_the_seed_not_the_threads() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("test.png"), encode_png(&test_image().concat(), SIZE, SIZE, png::ColorType::Rgb))
        .unwrap();
    let run = |name: &str, args: &[&str]| {
        kentro(d).args(["quantize", "test.png", "--colors", "8", "-o", name]).args(args).assert().success();
        fs::read(d.join(name)).unwrap()
    };
    assert_eq!(run("a.png", &["--threads", "1"]), run("b.png", &["--threads", "3"]));
    let sampled = run("s1.png", &["--sample", "5000", "--seed", "2", "--threads", "1"]);
    assert_eq!(sampled, run("s2.png", &["--sample", "5000", "--seed", "2", "--threads", "2"]));
    // A sample fit is close to the full fit in quality.
    let original = test_image();
    let (full, part) = (
        psnr(&original, &decode(&d.join("a.png")).pixels),
        psnr(&original, &decode(&d.join("s1.png")).pixels),
    );
    assert!(part > full - 1.0, "sample {part:.2} dB vs all pixels {full:.2} dB");
}

#[test]
fn grayscale_images_use_the_exact_1d_optimum() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Gray levels: a gradient with noise, as a grayscale PNG.
    let gray: Vec<u8> = test_image().iter().map(|p| p[1]).collect();
    fs::write(d.join("gray.png"), encode_png(&gray, SIZE, SIZE, png::ColorType::Grayscale)).unwrap();
    kentro(d).args(["quantize", "gray.png", "--colors", "4", "-o", "q.png"]).assert().success().stdout(
        predicate::str::contains("(grayscale)").and(predicate::str::contains("exact optimal 1-D k-means")),
    );
    let q = decode(&d.join("q.png"));
    assert_eq!(q.bit_depth, png::BitDepth::Two);
    assert!(q.palette.iter().all(|&[r, g, b]| r == g && g == b), "{:?}", q.palette);

    // No 4-level clustering of the gray levels does better: compare with Lloyd from many starts.
    let x = ndarray::Array2::from_shape_fn((gray.len(), 1), |(i, _)| gray[i] as f64 / 255.0);
    let mut best_lloyd = f64::INFINITY;
    for seed in 0..10 {
        best_lloyd = best_lloyd.min(kentro::KMeans::params(4).seed(seed).fit(x.view()).unwrap().inertia());
    }
    let exact = kentro::KMeans::params(4).algorithm(kentro::Algorithm::Exact1d).fit(x.view()).unwrap();
    assert!(exact.inertia() <= best_lloyd * (1.0 + 1e-12));
    let levels: Vec<u8> = exact.centers().iter().map(|&c| (c * 255.0).round() as u8).collect();
    let mut palette: Vec<u8> = q.palette.iter().map(|p| p[0]).collect();
    palette.sort();
    assert_eq!(palette, levels);

    // An RGB file whose pixels are all gray counts as grayscale too.
    let rgb: Vec<u8> = gray.iter().flat_map(|&g| [g, g, g]).collect();
    fs::write(d.join("gray-rgb.png"), encode_png(&rgb, SIZE, SIZE, png::ColorType::Rgb)).unwrap();
    kentro(d)
        .args(["quantize", "gray-rgb.png", "--colors", "4", "-o", "q2.png"])
        .assert()
        .success()
        .stdout(predicate::str::contains("exact optimal 1-D k-means"));
    assert_eq!(fs::read(d.join("q.png")).unwrap(), fs::read(d.join("q2.png")).unwrap());
}

#[test]
fn jpeg_input_and_the_default_output_name() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let image = image::RgbImage::from_raw(SIZE, SIZE, test_image().concat()).unwrap();
    image.save_with_format(d.join("photo.jpg"), image::ImageFormat::Jpeg).unwrap();
    kentro(d)
        .args(["quantize", "photo.jpg", "--colors", "2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote photo-2colors.png"));
    let q = decode(&d.join("photo-2colors.png"));
    assert_eq!((q.bit_depth, q.palette.len()), (png::BitDepth::One, 2));
}

#[test]
fn transparency_is_flattened_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Left half opaque red, right half fully transparent (blue underneath).
    let rgba: Vec<u8> =
        (0..16).flat_map(|i| if i % 4 < 2 { [255, 0, 0, 255] } else { [0, 0, 255, 0] }).collect();
    fs::write(d.join("a.png"), encode_png(&rgba, 4, 4, png::ColorType::Rgba)).unwrap();
    kentro(d)
        .args(["quantize", "a.png", "--colors", "2", "-o", "q.png"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: a.png has an alpha channel"));
    let q = decode(&d.join("q.png"));
    assert_eq!(q.pixels[..4], [[255, 0, 0], [255, 0, 0], [255, 255, 255], [255, 255, 255]]);
}

#[test]
fn a_file_that_is_not_an_image_is_refused_by_name() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("notes.png"), "x,y\n1,2\n").unwrap();
    kentro(d)
        .args(["quantize", "notes.png", "--colors", "4", "-o", "q.png"])
        .assert()
        .code(1)
        .stderr("error: notes.png: not a PNG or JPEG image\n");
    assert!(!d.join("q.png").exists());
}

#[test]
fn a_corrupt_png_is_refused_by_name() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let png = encode_png(&test_image().concat(), SIZE, SIZE, png::ColorType::Rgb);
    fs::write(d.join("cut.png"), &png[..png.len() / 2]).unwrap();
    kentro(d)
        .args(["quantize", "cut.png", "--colors", "4", "-o", "q.png"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: cut.png: cannot decode the Png image"));
    assert!(!d.join("q.png").exists());
}

#[test]
fn an_unreadable_file_is_refused_by_name() {
    let dir = TempDir::new().unwrap();
    kentro(dir.path())
        .args(["quantize", "missing.png", "--colors", "4", "-o", "q.png"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: cannot read missing.png: "));
}

#[test]
fn colour_counts_outside_1_to_256_are_refused() {
    let dir = TempDir::new().unwrap();
    for bad in ["0", "257", "lots"] {
        kentro(dir.path()).args(["quantize", "x.png", "--colors", bad]).assert().code(2).stderr(format!(
            "error: invalid value '{bad}' for '--colors <K>': expected a whole number from 1 to 256\n"
        ));
    }
}

#[test]
fn the_output_may_not_overwrite_the_image() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("test.png"), encode_png(&test_image().concat(), SIZE, SIZE, png::ColorType::Rgb))
        .unwrap();
    let before = fs::read(d.join("test.png")).unwrap();
    kentro(d)
        .args(["quantize", "test.png", "--colors", "4", "-o", "test.png"])
        .assert()
        .code(1)
        .stderr("error: --out test.png would overwrite the input test.png\n");
    assert_eq!(fs::read(d.join("test.png")).unwrap(), before);
}

#[test]
fn a_new_file_larger_than_a_jpeg_original_gets_a_note() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Noise, strongly compressed as a JPEG: 256 colours of it do not fit in fewer bytes as a PNG.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..SIZE * SIZE * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 20)
        .encode(&noise, SIZE, SIZE, image::ExtendedColorType::Rgb8)
        .unwrap();
    fs::write(d.join("noise.jpg"), &jpeg).unwrap();
    let out = kentro(d).args(["quantize", "noise.jpg", "--colors", "256", "-o", "q.png"]).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(fs::metadata(d.join("q.png")).unwrap().len() > jpeg.len() as u64, "the test needs a larger PNG");
    assert!(
        stdout.contains("note:          the new file is larger than the original: the original is a JPEG"),
        "{stdout}"
    );

    // No note when the file shrinks.
    fs::write(d.join("test.png"), encode_png(&test_image().concat(), SIZE, SIZE, png::ColorType::Rgb))
        .unwrap();
    kentro(d)
        .args(["quantize", "test.png", "--colors", "4", "-o", "q4.png"])
        .assert()
        .success()
        .stdout(predicate::str::contains("note:").not());
}

#[test]
fn outputs_not_named_png_are_refused() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    fs::write(d.join("test.png"), encode_png(&test_image().concat(), SIZE, SIZE, png::ColorType::Rgb))
        .unwrap();
    kentro(d)
        .args(["quantize", "test.png", "--colors", "4", "-o", "out.jpg"])
        .assert()
        .code(1)
        .stderr("error: --out out.jpg: the image is written as a PNG; give a name ending in .png\n");
    kentro(d)
        .args(["quantize", "test.png", "--colors", "4", "-o", "q.png", "--side-by-side", "cmp"])
        .assert()
        .code(1)
        .stderr("error: --side-by-side cmp: the image is written as a PNG; give a name ending in .png\n");
    assert_eq!(fs::read_dir(d).unwrap().count(), 1, "nothing written");
    // The extension's case does not matter.
    kentro(d).args(["quantize", "test.png", "--colors", "4", "-o", "Q.PNG"]).assert().success();
}

#[test]
fn sample_with_a_grayscale_image_is_ignored_with_a_warning() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let gray: Vec<u8> = test_image().iter().map(|p| p[1]).collect();
    fs::write(d.join("gray.png"), encode_png(&gray, SIZE, SIZE, png::ColorType::Grayscale)).unwrap();
    kentro(d)
        .args(["quantize", "gray.png", "--colors", "4", "-o", "s.png", "--sample", "100"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: --sample is ignored: gray.png is grayscale"));
    kentro(d).args(["quantize", "gray.png", "--colors", "4", "-o", "all.png"]).assert().success().stderr("");
    assert_eq!(fs::read(d.join("s.png")).unwrap(), fs::read(d.join("all.png")).unwrap());
}

#[test]
fn psnr_of_a_16_bit_image_says_it_is_on_8_bit_values() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Four 16-bit gray levels that are not multiples of 257: rounding to 8 bits loses them.
    let levels = [1000u16, 20000, 40000, 65000];
    let data: Vec<u8> = (0..16).flat_map(|i| levels[i % 4].to_be_bytes()).collect();
    let mut png16 = Vec::new();
    let mut encoder = png::Encoder::new(&mut png16, 4, 4);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Sixteen);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&data).unwrap();
    writer.finish().unwrap();
    fs::write(d.join("g16.png"), png16).unwrap();
    kentro(d).args(["quantize", "g16.png", "--colors", "4", "-o", "q.png"]).assert().success().stdout(
        predicate::str::contains("PSNR:          inf on the original rounded to 8 bits per channel")
            .and(predicate::str::contains("identical").not()),
    );
}
