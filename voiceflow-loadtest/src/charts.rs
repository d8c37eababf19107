//! PNG line charts for the load-test report.
//!
//! A [`LineChart`] is a title, two axis labels and a few named [`Series`];
//! [`LineChart::write_png`] draws it into a 960x540 PNG with plotters' bitmap
//! backend.
//!
//! Text is drawn with a TrueType font loaded at run time, once per process:
//! the file named by the `VOICEFLOW_FONT` environment variable when it is set
//! (and only that file), otherwise the first usable one of a few well-known
//! system paths (DejaVu Sans, Liberation Sans). When no font can be loaded the
//! charts are still drawn (frame, grid, lines, legend swatches) but carry no
//! text at all; [`font_found`] tells which case applies, so that a report can
//! say that its charts have no labels.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, Palette};
use voiceflow_core::{Error, Result};

/// Width of every chart, in pixels.
const WIDTH: u32 = 960;
/// Height of every chart, in pixels.
const HEIGHT: u32 = 540;

/// The family name the font is registered under (plotters' `SansSerif`).
const FONT_FAMILY: &str = "sans-serif";
/// The environment variable that names the font file to use.
const FONT_ENV: &str = "VOICEFLOW_FONT";
/// Where a font is looked for when `VOICEFLOW_FONT` is not set, in order.
const FONT_CANDIDATES: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];
/// Font files larger than this are not read (no real font is near it).
const MAX_FONT_BYTES: u64 = 64 * 1024 * 1024;

/// Text sizes, in pixels.
const TITLE_PX: f64 = 24.0;
const LABEL_PX: f64 = 16.0;
const TICK_PX: f64 = 14.0;
/// Vertical room the title takes when there is no font to draw it with, so
/// that the frame sits at the same place either way.
const TITLE_ROOM: i32 = 34;

/// Coordinates beyond this magnitude are ignored like non-finite ones: they
/// would overflow the axis arithmetic (and no load-test metric gets there).
const MAX_ABS: f64 = 1e300;
/// A series with more points than this is drawn as a line only: markers on
/// every point would merge into a thick smear.
const MAX_MARKED_POINTS: usize = 200;
/// Legend entries are cut to this many characters.
const MAX_LEGEND_CHARS: usize = 60;

/// Distinct, strong colors for the first series (the "Tableau 10" set);
/// further series take their colors from plotters' `Palette99`.
const SERIES_COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One named line of points (x, y).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// The line's name, shown in the legend.
    pub name: String,
    /// The points, drawn in this order; non-finite points are ignored.
    pub points: Vec<(f64, f64)>,
}

/// A chart to draw: title, axis labels, lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineChart {
    /// The title above the chart.
    pub title: String,
    /// The label under the x axis.
    pub x_label: String,
    /// The label left of the y axis.
    pub y_label: String,
    /// The lines, each in its own color.
    pub series: Vec<Series>,
}

/// Whether a font was found for the charts' text.
///
/// The first call loads and registers the font (see the [module
/// documentation](self)); later calls only return the answer. When this is
/// `false`, [`LineChart::write_png`] still draws charts, without any text.
pub fn font_found() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(load_font)
}

/// Registers the font named by `VOICEFLOW_FONT`, or else the first usable
/// system font; returns whether one was registered.
fn load_font() -> bool {
    match std::env::var_os(FONT_ENV).filter(|v| !v.is_empty()) {
        Some(path) => register_font_file(Path::new(&path)),
        None => FONT_CANDIDATES
            .iter()
            .map(Path::new)
            .filter(|p| p.is_file())
            .any(register_font_file),
    }
}

/// Reads a TrueType/OpenType file and registers it as [`FONT_FAMILY`].
fn register_font_file(path: &Path) -> bool {
    let small_enough = std::fs::metadata(path)
        .map(|m| m.is_file() && m.len() <= MAX_FONT_BYTES)
        .unwrap_or(false);
    if !small_enough {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // Only leak what looks like a font (sfnt, OpenType/CFF or a collection).
    let magic_ok = matches!(
        bytes.get(..4),
        Some([0, 1, 0, 0] | b"true" | b"OTTO" | b"ttcf")
    );
    if !magic_ok {
        return false;
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    register_font(FONT_FAMILY, FontStyle::Normal, bytes).is_ok()
}

impl LineChart {
    /// Draws the chart into a PNG file of 960x540 pixels.
    ///
    /// The file is written under a temporary name next to `path` and then
    /// renamed, so `path` never holds a half-written chart and may have any
    /// extension. Axis ranges come from the data: x from its smallest to its
    /// largest value, y from 0 (or 10% below the smallest value when that is
    /// negative) to 10% above the largest. Non-finite points are ignored; a
    /// chart with no points gets an empty frame. When no font was found (see
    /// [`font_found`]) the chart is drawn without text.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written or plotters fails to
    /// draw.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let with_text = font_found();
        let temp = temp_sibling(path).map_err(|e| Error::io(path, e))?;
        let written = self
            .draw(&temp, with_text)
            .and_then(|()| std::fs::rename(&temp, path));
        if written.is_err() {
            // Also removes what the backend saves when it is dropped early.
            let _ = std::fs::remove_file(&temp);
        }
        written.map_err(|e| Error::io(path, e))
    }

    /// Draws the chart into `file` (whose name must end in `.png`), with or
    /// without text.
    fn draw(&self, file: &Path, with_text: bool) -> io::Result<()> {
        let root = BitMapBackend::new(file, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;

        let (x_range, y_range) = axis_ranges(&self.series);
        let mut builder = ChartBuilder::on(&root);
        builder.margin(16).margin_right(32);
        if with_text {
            builder
                .caption(&self.title, text_style(TITLE_PX))
                .x_label_area_size(52)
                .y_label_area_size(84);
        } else {
            builder
                .margin_top(16 + TITLE_ROOM)
                .x_label_area_size(16)
                .y_label_area_size(16);
        }
        let mut chart = builder
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(draw_error)?;

        let x_ticks = tick_format(&x_range);
        let y_ticks = tick_format(&y_range);
        let mut mesh = chart.configure_mesh();
        mesh.bold_line_style(BLACK.mix(0.12))
            .light_line_style(BLACK.mix(0.04))
            .max_light_lines(4)
            .x_labels(8)
            .y_labels(8);
        if with_text {
            mesh.label_style(text_style(TICK_PX))
                .x_label_formatter(&x_ticks)
                .y_label_formatter(&y_ticks)
                .axis_desc_style(text_style(LABEL_PX))
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str());
        } else {
            // Tick labels are text: without a font, draw the grid only.
            mesh.disable_axes();
        }
        mesh.draw().map_err(draw_error)?;

        for (index, series) in self.series.iter().enumerate() {
            let color = series_color(index);
            let points: Vec<(f64, f64)> = usable_points(series).collect();
            // One path per segment: plotters turns a thick multi-point path
            // into a single polygon whose joins spike far out of the frame
            // when the line turns back sharply (a sawtooth, noisy samples).
            chart
                .draw_series(
                    points
                        .windows(2)
                        .map(|w| PathElement::new(vec![w[0], w[1]], color.stroke_width(2))),
                )
                .map_err(draw_error)?;
            if points.len() <= MAX_MARKED_POINTS {
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(draw_error)?;
            }
        }

        let (px, py) = chart.plotting_area().get_pixel_range();
        root.draw(&Rectangle::new(
            [(px.start, py.start), (px.end - 1, py.end - 1)],
            BLACK.stroke_width(1),
        ))
        .map_err(draw_error)?;
        self.draw_legend(&root, (px, py), with_text)?;

        root.present().map_err(draw_error)
    }

    /// Draws the legend in the upper left corner of the plotting area `plot`
    /// (pixel ranges on `root`): a swatch per series, with its name when
    /// there is a font. Entries that do not fit are summed up as "+N more".
    fn draw_legend(
        &self,
        root: &DrawingArea<BitMapBackend<'_>, Shift>,
        plot: (Range<i32>, Range<i32>),
        with_text: bool,
    ) -> io::Result<()> {
        const PAD: i32 = 8;
        const ROW: i32 = 22;
        const SWATCH: i32 = 24;
        const GAP: i32 = 8;
        const INSET: i32 = 12;

        if self.series.is_empty() {
            return Ok(());
        }
        let (px, py) = plot;
        let fit = ((py.end - py.start - 2 * INSET - 2 * PAD) / ROW).max(1) as usize;
        let (shown, hidden) = if self.series.len() <= fit {
            (self.series.len(), 0)
        } else {
            let shown = fit.saturating_sub(1).max(1);
            (shown, self.series.len() - shown)
        };

        let style = text_style(LABEL_PX);
        let mut names: Vec<String> = self.series[..shown]
            .iter()
            .map(|s| legend_name(&s.name))
            .collect();
        if hidden > 0 {
            names.push(format!("+{hidden} more"));
        }
        let mut text_width = 0;
        if with_text {
            for name in &names {
                let (w, _) = root.estimate_text_size(name, &style).map_err(draw_error)?;
                text_width = text_width.max(i32::try_from(w).unwrap_or(i32::MAX));
            }
        }
        let width = if text_width > 0 {
            PAD + SWATCH + GAP + text_width + PAD
        } else {
            PAD + SWATCH + PAD
        };
        let rows = i32::try_from(names.len()).unwrap_or(i32::MAX);
        let height = 2 * PAD + rows.saturating_mul(ROW);
        let (x0, y0) = (px.start + INSET, py.start + INSET);
        let (x1, y1) = (x0.saturating_add(width), y0.saturating_add(height));

        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], WHITE.filled()))
            .map_err(draw_error)?;
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
            .map_err(draw_error)?;

        for (row, name) in names.iter().enumerate() {
            let cy = y0 + PAD + (row as i32) * ROW + ROW / 2;
            let sx = x0 + PAD;
            if row < shown {
                let color = series_color(row);
                root.draw(&PathElement::new(
                    vec![(sx, cy), (sx + SWATCH, cy)],
                    color.stroke_width(2),
                ))
                .map_err(draw_error)?;
                root.draw(&Circle::new((sx + SWATCH / 2, cy), 3, color.filled()))
                    .map_err(draw_error)?;
            }
            if with_text && !name.is_empty() {
                let style = style.pos(Pos::new(HPos::Left, VPos::Center));
                root.draw_text(name, &style, (sx + SWATCH + GAP, cy))
                    .map_err(draw_error)?;
            }
        }
        Ok(())
    }
}

/// A text style of the registered font, black, `size` pixels high.
fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size).into_font()).color(&BLACK)
}

/// The color of the `index`th series.
fn series_color(index: usize) -> RGBColor {
    match SERIES_COLORS.get(index) {
        Some(&color) => color,
        None => {
            let colors = Palette99::COLORS;
            let (r, g, b) = colors[(index - SERIES_COLORS.len()) % colors.len()];
            RGBColor(r, g, b)
        }
    }
}

/// A series' name for the legend: one line, at most [`MAX_LEGEND_CHARS`].
fn legend_name(name: &str) -> String {
    let one_line: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= MAX_LEGEND_CHARS {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(MAX_LEGEND_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// A formatter for the tick labels of an axis over `range`: plain numbers
/// with as many decimals as the tick spacing needs (trailing zeros dropped),
/// scientific notation from a million up and for tiny magnitudes.
fn tick_format(range: &Range<f64>) -> impl Fn(&f64) -> String {
    let span = (range.end - range.start).abs();
    let magnitude = range.start.abs().max(range.end.abs());
    let scientific = !(1e-3..1e6).contains(&magnitude);
    // Ticks are about a tenth of the span apart; one more digit than that.
    let digits = |ratio: f64| (ratio.log10().ceil() + 1.0).clamp(0.0, 8.0) as usize;
    let decimals = if scientific {
        digits(magnitude / span).max(1)
    } else {
        digits(10.0 / span)
    };
    move |&v: &f64| {
        if v == 0.0 || !v.is_finite() {
            return if v.is_nan() {
                String::new()
            } else {
                format!("{}", v.abs())
            };
        }
        if scientific {
            let text = format!("{v:.decimals$e}");
            match text.split_once('e') {
                Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
                None => text,
            }
        } else {
            let text = trim_zeros(&format!("{v:.decimals$}")).to_string();
            if text == "-0" {
                "0".to_string()
            } else {
                text
            }
        }
    }
}

/// `text` (a decimal number) without trailing fractional zeros or point.
fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// The points of `series` that can be drawn (finite, within [`MAX_ABS`]).
fn usable_points(series: &Series) -> impl Iterator<Item = (f64, f64)> + '_ {
    let usable = |v: f64| v.is_finite() && v.abs() <= MAX_ABS;
    series
        .points
        .iter()
        .copied()
        .filter(move |&(x, y)| usable(x) && usable(y))
}

/// The x and y ranges that hold every usable point of `series`.
fn axis_ranges(series: &[Series]) -> (Range<f64>, Range<f64>) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = (f64::INFINITY, f64::NEG_INFINITY);
    for (px, py) in series.iter().flat_map(usable_points) {
        x = (x.0.min(px), x.1.max(px));
        y = (y.0.min(py), y.1.max(py));
    }
    if x.0 > x.1 {
        // No usable point at all: an empty unit frame.
        return (0.0..1.0, 0.0..1.0);
    }
    let x_range = widen(x.0, x.1);
    let y_low = if y.0 < 0.0 { y.0 * 1.1 } else { 0.0 };
    let y_high = if y.1 > 0.0 { y.1 * 1.1 } else { 0.0 };
    let y_range = if y_low < y_high {
        widen(y_low, y_high)
    } else {
        0.0..1.0
    };
    (x_range, y_range)
}

/// `low..high`, widened around its middle when it is empty or too narrow for
/// plotters' tick computation (under about 1e-12 of its magnitude, or so
/// small that its tick spacing would underflow and the computation loop).
fn widen(low: f64, high: f64) -> Range<f64> {
    let magnitude = low.abs().max(high.abs());
    if high - low > magnitude * 1e-12 && high - low > 1e-200 {
        return low..high;
    }
    let middle = low / 2.0 + high / 2.0;
    let pad = 1f64.max(magnitude * 1e-9);
    (middle - pad)..(middle + pad)
}

/// A new path next to `path` for the backend to write: it picks the image
/// format from the extension, so the name ends in `.png`.
fn temp_sibling(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the chart path has no file name",
        )
    })?;
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp_name = format!(
        ".{}.{}-{unique}.tmp.png",
        name.to_string_lossy(),
        std::process::id()
    );
    Ok(path.with_file_name(temp_name))
}

/// Turns a plotters error into an I/O error (it is one, most of the time).
fn draw_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot draw the chart: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

    fn two_series(title: &str) -> LineChart {
        LineChart {
            title: title.to_string(),
            x_label: "concurrent clients".to_string(),
            y_label: "latency (ms)".to_string(),
            series: vec![
                Series {
                    name: "p50".to_string(),
                    points: vec![(1.0, 12.0), (2.0, 14.5), (4.0, 19.0), (8.0, 31.0)],
                },
                Series {
                    name: "p99".to_string(),
                    points: vec![(1.0, 30.0), (2.0, 41.0), (4.0, 66.0), (8.0, 120.0)],
                },
            ],
        }
    }

    /// Writes `chart` into a new temporary folder; returns the folder (kept
    /// alive) and the file's bytes. With `VOICEFLOW_CHARTS_KEEP` set to a
    /// folder, the chart is also copied there, to be looked at.
    fn write(chart: &LineChart, name: &str) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join(name);
        chart.write_png(&path).expect("chart written");
        let bytes = std::fs::read(&path).expect("chart read back");
        if let Some(keep) = std::env::var_os("VOICEFLOW_CHARTS_KEEP") {
            let _ = std::fs::write(Path::new(&keep).join(name), &bytes);
        }
        (dir, bytes)
    }

    fn assert_png(bytes: &[u8]) {
        assert!(
            bytes.starts_with(&PNG_SIGNATURE),
            "not a PNG: {:02x?}",
            &bytes[..bytes.len().min(8)]
        );
        // IHDR: width and height, big-endian, right after the signature,
        // the chunk length and the chunk type.
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(&bytes[16..20], &WIDTH.to_be_bytes());
        assert_eq!(&bytes[20..24], &HEIGHT.to_be_bytes());
    }

    #[test]
    fn two_series_write_a_png() {
        let (dir, bytes) = write(&two_series("Latency by load"), "latency.png");
        assert_png(&bytes);
        // Only the chart is left: the temporary file was renamed.
        let entries = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn empty_charts_write_a_png() {
        let empty = LineChart {
            title: "Nothing measured".to_string(),
            ..LineChart::default()
        };
        assert_png(&write(&empty, "empty.png").1);

        let no_points = LineChart {
            title: "No points".to_string(),
            series: vec![Series {
                name: "p50".to_string(),
                points: Vec::new(),
            }],
            ..LineChart::default()
        };
        assert_png(&write(&no_points, "no-points.png").1);
    }

    #[test]
    fn non_finite_points_are_ignored() {
        let mut chart = two_series("With gaps");
        chart.series[0].points.push((f64::NAN, 3.0));
        chart.series[0].points.push((9.0, f64::INFINITY));
        chart.series[1]
            .points
            .insert(0, (f64::NEG_INFINITY, f64::NAN));
        chart.series.push(Series {
            name: "all NaN".to_string(),
            points: vec![(f64::NAN, f64::NAN); 3],
        });
        assert_png(&write(&chart, "nan.png").1);
        assert_eq!(axis_ranges(&chart.series).0, 1.0..8.0);
    }

    #[test]
    fn odd_data_does_not_fail() {
        let charts = [
            vec![(5.0, 5.0)],
            vec![(0.0, 0.0), (1.0, 0.0)],
            vec![(0.0, -3.0), (1.0, -1.0)],
            vec![(-1e300, -1e300), (1e300, 1e300), (1e308, 1e308)],
            vec![(1.0, 1.0), (1.0 + 1e-15, 1.0 + 2e-15)],
            vec![(1.7e12, 3.0), (1.7e12 + 1.0, 4.0)],
            vec![(0.0, 1e-310), (1e-310, 5e-324), (2e-310, -1e-300)],
            (0..20_000)
                .map(|i| (f64::from(i), f64::from(i % 97)))
                .collect(),
        ];
        for (i, points) in charts.into_iter().enumerate() {
            let chart = LineChart {
                title: "🚀 ".repeat(200),
                x_label: "x\n\tlabel".to_string(),
                y_label: String::new(),
                series: (0..40)
                    .map(|k| Series {
                        name: if k == 0 {
                            "n".repeat(500)
                        } else {
                            format!("s{k}")
                        },
                        points: points.clone(),
                    })
                    .collect(),
            };
            assert_png(&write(&chart, &format!("odd-{i}.png")).1);
        }
    }

    #[test]
    fn tick_labels_are_short() {
        let f = tick_format(&(0.0..132.0));
        assert_eq!(
            [0.0, 20.0, 120.0, -0.0].map(|v| f(&v)),
            ["0", "20", "120", "0"]
        );
        let f = tick_format(&(0.0..1.1));
        assert_eq!([0.2, 0.25, 1.0].map(|v| f(&v)), ["0.2", "0.25", "1"]);
        let f = tick_format(&(-1.1e300..1.1e300));
        assert_eq!([1e300, -5e299].map(|v| f(&v)), ["1e300", "-5e299"]);
        let f = tick_format(&(0.0..2.2e6));
        assert_eq!(f(&1.5e6), "1.5e6");
        let f = tick_format(&(0.0..0.00055));
        assert_eq!(f(&0.0002), "2e-4");
    }

    #[test]
    fn ranges_follow_the_data() {
        let series = |points: Vec<(f64, f64)>| {
            vec![Series {
                name: String::new(),
                points,
            }]
        };
        assert_eq!(axis_ranges(&[]), (0.0..1.0, 0.0..1.0));
        assert_eq!(
            axis_ranges(&series(vec![(2.0, 10.0), (4.0, 5.0)])),
            (2.0..4.0, 0.0..11.0)
        );
        assert_eq!(axis_ranges(&series(vec![(3.0, 0.0)])), (2.0..4.0, 0.0..1.0));
        let (_, y) = axis_ranges(&series(vec![(0.0, -10.0), (1.0, 5.0)]));
        assert_eq!(y, -11.0..5.5);
    }

    #[test]
    fn other_extensions_and_bad_paths() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("chart.bin");
        two_series("t").write_png(&path).expect("written");
        assert_png(&std::fs::read(&path).expect("read"));

        let missing = dir.path().join("no-such-folder").join("chart.png");
        let err = two_series("t").write_png(&missing).expect_err("no folder");
        assert!(matches!(err, Error::Io { ref path, .. } if *path == missing));
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn text_is_drawn_when_a_font_is_found() {
        let a = write(&two_series("Latency by load"), "a.png").1;
        let b = write(&two_series("Throughput by load"), "b.png").1;
        if font_found() {
            assert_ne!(a, b, "the title should change the picture");
        } else {
            assert_eq!(a, b, "without a font no text is drawn");
        }
    }

    /// Runs [`without_a_font_child`] in a child process whose font is a
    /// missing file, so that this process' registered font cannot hide text
    /// drawn without one.
    #[test]
    fn charts_are_drawn_without_a_font() {
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "charts::tests::without_a_font_child",
                "--include-ignored",
                "--test-threads=1",
            ])
            .env(FONT_ENV, "/nonexistent/voiceflow-no-such-font.ttf")
            .env("VOICEFLOW_CHARTS_CHILD", "1")
            .output()
            .expect("child test run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    #[ignore = "run by charts_are_drawn_without_a_font"]
    fn without_a_font_child() {
        if std::env::var_os("VOICEFLOW_CHARTS_CHILD").is_none() {
            return;
        }
        assert!(!font_found());
        let a = write(&two_series("Latency by load"), "no-font-a.png").1;
        let b = write(&two_series("Throughput by load"), "no-font-b.png").1;
        assert_png(&a);
        assert_eq!(a, b, "without a font no text is drawn");
        assert_png(&write(&LineChart::default(), "no-font-empty.png").1);
    }
}
