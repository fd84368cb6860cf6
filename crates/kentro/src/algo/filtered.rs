//! Lloyd's passes by matrix products behind Hamerly's filter (Hamerly, "Making k-means even
//! faster", SDM 2010). Each sample keeps an upper bound on the distance to its centre and a
//! lower bound on the distance to every other centre, both from the products' approximations
//! and their rounding window ([`Assigner::nearest_rows_and_pair`]); when the centres move, the
//! upper bound grows by its centre's drift and the lower bound shrinks by the largest drift. A
//! sample whose bounds still separate keeps its label without being measured; the others are
//! gathered and measured by products against every centre, which renews both bounds (where most
//! of a chunk of rows is in doubt, the whole chunk is measured in place instead).
//!
//! Where a few centres jump far (early passes on clustered data), the largest drift leaves every
//! row in doubt. A pass then measures those few centres ([`far_centers`]) for every row of the
//! chunks mostly in doubt (by products, over the kept `f32` layout of `f64` rows; a fraction of
//! a full pass), and moves the lower bounds by the largest drift of the others: a row's lower
//! bound is the smaller of that and its far centres' (other than its own), and most rows keep
//! their labels again. Rows in doubt of the other chunks are measured in full.
//! On blobs 100k × 128, k = 256 (`examples/tiny_fit.rs`, from the k-means++ start of seed 0 to
//! convergence in 15 iterations, two threads), the whole fit took 217–220 ms against 300–312
//! without the far centres.
//!
//! Unlike [`super::bounds::BoundsStep`], a sample in doubt is not first tightened by its
//! distance to its own centre (a read of its row in the data's own type for every sample in
//! doubt, which made such a filter slower than Lloyd's passes over the kept `f32` rows on
//! uniform data): it is measured again in full.
//!
//! Exactness: the bounds carry the products' window (the far centres' too: their lower bounds
//! and the width of twice the window above them, [`Assigner::bounds_around`]) and the
//! [`Allowance`] of the distances, the drifts are upper bounds, the moved bounds are rounded
//! outwards, a label is kept only where the bounds are apart by more than the rounding of the
//! direct distances (`1 + 2η`), and the products' labels are the direct kernel's. So labels are
//! exactly Lloyd's, iteration by iteration. A pass asked for the inertia measures every row's
//! distance to its centre directly, as Lloyd's pass gives it.

use multiversion::multiversion;
use ndarray::{ArrayView2, s};

use super::bounds::{Allowance, drifts};
use super::lloyd::{AssignStep, Data, LLOYD_CHUNK, Partial, accumulate, add_inertia, leaf_rows};
use crate::float::Float;
use crate::kernels::{Assigner, sq_dist};
use crate::parallel::{Rows, par_blocks_sized};

/// The filtered step with its per-sample bounds.
pub(crate) struct FilteredLloyd {
    /// Per sample: upper bound on the distance to its centre.
    upper: Vec<f64>,
    /// Per sample: lower bound on the distance to every other centre (for a sample in doubt,
    /// between [`filter`] and [`tighten`] or its measurement: to every centre not far).
    lower: Vec<f64>,
    /// Upper bounds on how far each centre moved since the last pass.
    drift: Vec<f64>,
    started: bool,
    /// Whether passes return the per-cluster sums (see [`AssignStep::sums_wanted`]).
    sums_wanted: bool,
    allow: Allowance,
    /// Over all passes so far: the rows measured by products (the others kept their label), the
    /// rows given the far centres' bounds ([`far_centers`]), and the rows in doubt those bounds
    /// kept.
    measured: [usize; 3],
}

impl FilteredLloyd {
    pub(crate) fn new<F: Float>(n: usize, k: usize, d: usize) -> Self {
        FilteredLloyd {
            upper: crate::memory::zeroed(0.0, n),
            lower: crate::memory::zeroed(0.0, n),
            drift: vec![0.0; k],
            started: false,
            sums_wanted: true,
            allow: Allowance::new::<F>(d),
            measured: [0; 3],
        }
    }
}

/// Rows filtered and measured at a time: Lloyd's chunks (a multiple of the kept layout's
/// sub-blocks), so that sums and inertia add in Lloyd's order.
const CHUNK: usize = LLOYD_CHUNK;

/// A chunk measures all its rows in place (from the kept layout) when more than
/// `1 / OPEN_WHOLE` of them are in doubt: gathering them would cost more than the rows saved.
const OPEN_WHOLE: usize = 2;

impl<'a, F: Float> AssignStep<F, Data<'a, F>> for FilteredLloyd {
    fn assign(
        &mut self,
        data: &Data<'a, F>,
        centers: ArrayView2<F>,
        labels: &mut [usize],
        want_inertia: bool,
    ) -> Partial {
        let (k, d) = centers.dim();
        let assigner = Assigner::new(centers);
        let c = centers.as_slice().expect("standard layout");
        // Every row is measured on the first pass.
        let started = std::mem::replace(&mut self.started, true);
        let (allow, drift, sums) = (self.allow, &self.drift, self.sums_wanted);
        let margin = 1.0 + 2.0 * allow.eta;
        // The centres that moved farthest, measured for every row before the filter (where that
        // pays), and the largest drift of the others.
        let far = if started {
            far_centers(drift, labels, &self.upper, &self.lower, margin, d)
        } else {
            Vec::new()
        };
        let mut far_of = vec![u32::MAX; k];
        for (p, &j) in far.iter().enumerate() {
            far_of[j] = p as u32;
        }
        let max_drift = drift.iter().fold(0.0f64, |m, &v| m.max(v));
        let rest = drift.iter().zip(&far_of).filter(|&(_, &p)| p == u32::MAX);
        let rest_drift = rest.fold(0.0f64, |m, (&v, _)| m.max(v));
        let far_rows = centers.select(ndarray::Axis(0), &far);
        let far_assigner = (!far.is_empty()).then(|| Assigner::new(far_rows.view()));
        let far = far_assigner.as_ref().map(|a| Far { assigner: a, of: &far_of, count: far.len(), allow });
        let far = far.as_ref();
        let (part, measured) = par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            (Rows::new(labels, 1), (Rows::new(&mut self.upper, 1), Rows::new(&mut self.lower, 1))),
            &|s, e, (lab, (up, low)): (Rows<usize>, (Rows<f64>, Rows<f64>))| {
                let mut part = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                let mut measured = [0usize; 3];
                if data.stopping() {
                    return (part, measured);
                }
                let (lab, up, low) = (lab.data, up.data, low.data);
                let rows = e - s;
                let x = data.x.slice(s![s..e, ..]);
                let values = x.as_slice().expect("standard layout");
                let norms = &data.x_norms[s..e];
                let mut chunk_open = [0u32; CHUNK];
                // Rows in doubt of chunks not measured whole (leaf-relative), gathered and
                // measured together once there are a chunk's worth.
                let (mut pending, mut pending_len) = ([0u32; CHUNK], 0);
                let (mut far_lb, mut far_width) = (Vec::new(), [0.0f64; CHUNK]);
                let (mut gathered, mut gathered_norms) = (Vec::new(), Vec::new());
                let leaf = Leaf { x, norms, assigner: &assigner, allow };
                for first in (0..rows).step_by(CHUNK) {
                    let end = (first + CHUNK).min(rows);
                    let (x, norms) = (x.slice(s![first..end, ..]), &norms[first..end]);
                    let pre = data.columns_of(s + first, s + end);
                    let (c_lab, c_up, c_low) = (&lab[first..end], &mut up[first..end], &mut low[first..end]);
                    // The bounds moved by the drifts; the rows they leave in doubt, in order.
                    let mut len = match started {
                        false => end - first,
                        true => filter(
                            c_lab,
                            (c_up, c_low),
                            drift,
                            (max_drift, rest_drift),
                            margin,
                            &mut chunk_open,
                        ),
                    };
                    // Where most rows are in doubt, the far centres' bounds (measured for every row
                    // of the chunk, in place) leave fewer; else the rows in doubt are measured.
                    // (`far` is none on the first pass.)
                    if let (true, Some(far)) = (len * OPEN_WHOLE > end - first, far) {
                        measured[1] += end - first;
                        far_lb.resize((end - first) * far.count, 0.0);
                        let width = &mut far_width[..end - first];
                        far.assigner.bounds_around(x, norms, &mut far_lb, width, pre);
                        let bounds = (&far_lb[..], &far_width[..end - first]);
                        let open = &mut chunk_open[..len];
                        let still = tighten(c_lab, (c_up, c_low), margin, far, bounds, open);
                        measured[2] += len - still;
                        len = still;
                    }
                    // Where most of a chunk's rows are in doubt, all are measured in place (from
                    // the kept layout of `f64` rows) and take fresh bounds; else the rows in doubt
                    // wait to be gathered.
                    if len * OPEN_WHOLE > end - first {
                        let state = (&mut *lab, &mut *up, &mut *low);
                        let scratch = (&mut gathered, &mut gathered_norms);
                        measured[0] += leaf.measure(Which::Chunk(first, end, pre), state, scratch, &mut part);
                    } else {
                        if pending_len + len > CHUNK {
                            let state = (&mut *lab, &mut *up, &mut *low);
                            let scratch = (&mut gathered, &mut gathered_norms);
                            let which = Which::Gathered(&pending[..pending_len]);
                            measured[0] += leaf.measure(which, state, scratch, &mut part);
                            pending_len = 0;
                        }
                        let open = chunk_open[..len].iter().map(|&i| first as u32 + i);
                        pending[pending_len..pending_len + len]
                            .iter_mut()
                            .zip(open)
                            .for_each(|(p, i)| *p = i);
                        pending_len += len;
                    }
                }
                if pending_len > 0 {
                    let state = (&mut *lab, &mut *up, &mut *low);
                    let scratch = (&mut gathered, &mut gathered_norms);
                    let which = Which::Gathered(&pending[..pending_len]);
                    measured[0] += leaf.measure(which, state, scratch, &mut part);
                }
                for first in (0..rows).step_by(CHUNK) {
                    let end = (first + CHUNK).min(rows);
                    let values = &values[first * d..end * d];
                    if want_inertia {
                        // Row by row, as `accumulate` adds distances: the direct distance to the
                        // label (the function the kernel gives its distances by, so the same bits
                        // as Lloyd's passes).
                        let dist = |i: usize| {
                            let j = lab[first + i];
                            sq_dist(&values[i * d..(i + 1) * d], &c[j * d..(j + 1) * d])
                        };
                        add_inertia(&mut part, s + first, end - first, data.weights, dist);
                    }
                    if sums {
                        accumulate(values, d, s + first, &lab[first..end], None, data.weights, &mut part);
                    }
                }
                (part, measured)
            },
            &|a: &mut (Partial, [usize; 3]), b| {
                a.0.merge(b.0);
                a.1.iter_mut().zip(b.1).for_each(|(a, b)| *a += b);
            },
        );
        self.measured.iter_mut().zip(measured).for_each(|(a, b)| *a += b);
        part
    }

    fn sums_wanted(&mut self, wanted: bool) {
        self.sums_wanted = wanted;
    }

    fn centers_moved(&mut self, old: ArrayView2<F>, new: ArrayView2<F>) {
        drifts(old, new, &mut self.drift);
    }

    /// `f64` rows measured from their kept `f32` layout are read in their own type mostly for
    /// the sums (and for the rows in doubt that are gathered).
    fn defers_sums(&self, data: &Data<'a, F>) -> bool {
        !data.columns.is_empty()
    }

    fn fresh_sums(&self, data: &Data<'a, F>, labels: &[usize], k: usize, d: usize) -> Partial {
        let values = data.x.as_slice().expect("standard layout");
        // The leaves, chunks and additions of a pass's sums.
        par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            (),
            &|s, e, ()| {
                let mut part = Partial::zeros(k, d);
                for first in (s..e).step_by(CHUNK) {
                    let end = (first + CHUNK).min(e);
                    let rows = &values[first * d..end * d];
                    accumulate(rows, d, first, &labels[first..end], None, data.weights, &mut part);
                }
                part
            },
            &|a: &mut Partial, b| a.merge(b),
        )
    }
}

/// What measuring rows of a leaf of a pass needs.
struct Leaf<'v, 'c, 'a, F: Float> {
    /// The leaf's rows, and their norms.
    x: ArrayView2<'v, F>,
    norms: &'v [f64],
    assigner: &'c Assigner<'a, F>,
    allow: Allowance,
}

/// Rows of a leaf to measure ([`Leaf::measure`]).
enum Which<'p> {
    /// A chunk's rows `first..end` (leaf-relative), in place: their `f32` products' layout
    /// where kept (`f64` rows), else transposed by the kernel.
    Chunk(usize, usize, Option<&'p [f32]>),
    /// These rows (leaf-relative, at most a chunk's), gathered.
    Gathered(&'p [u32]),
}

impl<F: Float> Leaf<'_, '_, '_, F> {
    /// Measures rows `which` of the leaf (gathered into `scratch` where so), which take their
    /// labels and fresh bounds (`state`: the leaf's labels, upper and lower bounds); returns
    /// their number.
    fn measure(
        &self,
        which: Which,
        (labels, upper, lower): (&mut [usize], &mut [f64], &mut [f64]),
        (gathered, gathered_norms): (&mut Vec<F>, &mut Vec<f64>),
        part: &mut Partial,
    ) -> usize {
        let d = self.x.ncols();
        let (first, m) = match which {
            Which::Chunk(first, end, _) => (first, end - first),
            Which::Gathered(open) => (0, open.len()),
        };
        let mut nearest = [(0usize, F::ZERO); CHUNK];
        let (mut up_sq, mut low_sq) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
        let (nearest, up_sq, low_sq) = (&mut nearest[..m], &mut up_sq[..m], &mut low_sq[..m]);
        match which {
            Which::Chunk(_, end, pre) => {
                let (x, norms) = (self.x.slice(s![first..end, ..]), &self.norms[first..end]);
                self.assigner.nearest_rows_and_pair(x, norms, nearest, false, up_sq, low_sq, pre);
            }
            Which::Gathered(open) => {
                let values = self.x.as_slice().expect("standard layout");
                gathered.resize(m * d, F::ZERO);
                gathered_norms.resize(m, 0.0);
                gather(values, d, self.norms, open, gathered, gathered_norms);
                let block = ArrayView2::from_shape((m, d), &gathered[..]).expect("whole rows");
                let norms = &gathered_norms[..];
                self.assigner.nearest_rows_and_pair(block, norms, nearest, false, up_sq, low_sq, None);
            }
        }
        let row = |slot: usize| match which {
            Which::Chunk(..) => first + slot,
            Which::Gathered(open) => open[slot] as usize,
        };
        for (slot, ((&(a, _), &u), &l)) in nearest.iter().zip(up_sq.iter()).zip(low_sq.iter()).enumerate() {
            let i = row(slot);
            part.changed += usize::from(labels[i] != a);
            labels[i] = a;
            upper[i] = self.allow.upper(u);
            lower[i] = self.allow.lower(l);
        }
        m
    }
}

/// The centres a pass measures for every row before its filter ([`far_centers`]).
struct Far<'c, 'a, F: Float> {
    assigner: &'c Assigner<'a, F>,
    /// Per centre: its place among them, or `u32::MAX`.
    of: &'c [u32],
    count: usize,
    allow: Allowance,
}

/// Numbers of far centres a pass may measure for every row ([`far_centers`]).
const FAR_COUNTS: [usize; 4] = [8, 16, 32, 64];

/// Rows [`far_centers`] looks at (about).
const FAR_SAMPLES: usize = 2048;

/// The cost of measuring the far centres for every row, in passes that measure every row
/// against every centre: a fixed part (reading the rows) and a part per centre (the products,
/// and the bounds written and read), against `k` centres. Measured (CPU ms of passes of blobs
/// 100k × 128, k = 256, two threads): a pass measuring every row in place 54, the far
/// products and the filter with 8 far centres 6.5, with 16 10.3.
const FAR_FIXED: f64 = 0.06;
/// See [`FAR_FIXED`].
const FAR_COST: f64 = 2.0;
/// The cost of measuring a row in doubt (gathered), against a row of a pass measuring every
/// row in place. Measured as [`FAR_FIXED`]: 0.72 against 0.54 µs of CPU per row.
const OPEN_COST: f64 = 1.33;

/// The centres that moved farthest, for a pass to measure for every row before its filter,
/// ascending (none where that does not pay). Where a few centres jump far (as in early passes
/// on clustered data) every row's lower bound drops by their drift and every row is in doubt;
/// measuring those few for every row keeps the bounds of the others. The number is chosen by a
/// rough estimate of the cost: the share of sampled rows the bounds would leave in doubt
/// (their lower bounds moved by the largest drift of the others, their distances to the far
/// centres taken as large) plus the products. Only where most rows are in doubt by the plain
/// bounds, as only chunks mostly in doubt measure the far centres.
fn far_centers(
    drift: &[f64],
    labels: &[usize],
    upper: &[f64],
    lower: &[f64],
    margin: f64,
    d: usize,
) -> Vec<usize> {
    let (k, n) = (drift.len(), labels.len());
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| drift[b].total_cmp(&drift[a]).then(a.cmp(&b)));
    let step = (n / FAR_SAMPLES).max(1);
    let in_doubt = |count: usize| {
        let rest = order.get(count).map_or(0.0, |&j| drift[j]);
        let mut far = vec![false; k];
        order[..count].iter().for_each(|&j| far[j] = true);
        let open = (0..n).step_by(step).filter(|&i| {
            let a = labels[i];
            // A far label's distance is measured (taken as unchanged).
            let up = if far[a] { upper[i] } else { upper[i] + drift[a] };
            let keeps = lower[i] - rest > up * margin;
            !keeps
        });
        open.count() as f64 / n.div_ceil(step) as f64
    };
    let plain = in_doubt(0);
    let mut best = (OPEN_COST * plain, 0);
    // Chunks where fewer rows are in doubt skip the far centres ([`FilteredLloyd::assign`]).
    if plain * OPEN_WHOLE as f64 <= 1.0 {
        return Vec::new();
    }
    for count in FAR_COUNTS {
        if count * 2 > k || !crate::kernels::use_gemm(d, count) {
            continue;
        }
        let cost = OPEN_COST * in_doubt(count) + FAR_FIXED + FAR_COST * count as f64 / k as f64;
        if cost < best.0 {
            best = (cost, count);
        }
    }
    let mut far = order[..best.1].to_vec();
    far.sort_unstable();
    far
}

/// Moves the bounds of a chunk's rows by the drifts (`bounds`: upper, lower), and writes the
/// rows they leave in doubt to `open`, in order; returns their number. `drifts`: the largest
/// drift, and the largest of the centres not far ([`far_centers`]; the largest where none
/// are). A row in doubt keeps the lower bound moved by the second, a bound on its distance to
/// the centres not far only, which [`tighten`] completes.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn filter(
    labels: &[usize],
    (upper, lower): (&mut [f64], &mut [f64]),
    drift: &[f64],
    (max_drift, rest_drift): (f64, f64),
    margin: f64,
    open: &mut [u32; CHUNK],
) -> usize {
    let mut len = 0;
    for (((&a, u), l), i) in labels.iter().zip(upper.iter_mut()).zip(lower.iter_mut()).zip(0..) {
        // Rounded outwards: the bounds stay bounds however many passes they are carried.
        *u = (*u + drift[a]) * (1.0 + f64::EPSILON);
        let all = (*l - max_drift) * (1.0 - f64::EPSILON);
        // A NaN bound keeps nothing.
        let keeps = all > *u * margin;
        *l = if keeps { all } else { (*l - rest_drift) * (1.0 - f64::EPSILON) };
        open[len] = i;
        len += usize::from(!keeps);
    }
    len
}

/// The rows in doubt after [`filter`] (`open`, chunk-relative), their bounds completed by the
/// far centres' ([`far_centers`]): `bounds` holds lower bounds on the squared distances to them
/// (far centres per row, every row of the chunk) and the widths above those
/// ([`Assigner::bounds_around`]). The lower bound becomes the smaller of the one to the centres
/// not far and the far centres' other than the label's; a far label's upper bound its measured
/// one where tighter. Keeps in `open` the rows still in doubt, in order; returns their number.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn tighten<F: Float>(
    labels: &[usize],
    (upper, lower): (&mut [f64], &mut [f64]),
    margin: f64,
    far: &Far<F>,
    (far_lb, far_width): (&[f64], &[f64]),
    open: &mut [u32],
) -> usize {
    let mut len = 0;
    for slot in 0..open.len() {
        let i = open[slot] as usize;
        let (lb, width) = (&far_lb[i * far.count..(i + 1) * far.count], far_width[i]);
        let own = far.of[labels[i]] as usize;
        let nearest_other =
            lb.iter().enumerate().filter(|&(p, _)| p != own).fold(f64::MAX, |m, (_, &v)| m.min(v));
        let (u, l) = (&mut upper[i], &mut lower[i]);
        if let Some(&own_lb) = lb.get(own) {
            *u = u.min(far.allow.upper(own_lb + width));
        }
        *l = l.min(far.allow.lower(nearest_other));
        // A NaN bound keeps nothing.
        let keeps = *l > *u * margin;
        open[len] = i as u32;
        len += usize::from(!keeps);
    }
    len
}

/// Copies the `open` rows of `values` (rows of `d` values) and their norms into `out` and
/// `out_norms`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn gather<F: Float>(
    values: &[F],
    d: usize,
    norms: &[f64],
    open: &[u32],
    out: &mut [F],
    out_norms: &mut [f64],
) {
    for ((o, on), &i) in out.chunks_exact_mut(d).zip(out_norms.iter_mut()).zip(open) {
        let i = i as usize;
        // Element by element: a call to `memcpy` per row would cost more than the copy.
        o.iter_mut().zip(&values[i * d..(i + 1) * d]).for_each(|(o, &v)| *o = v);
        *on = norms[i];
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::algo::lloyd::{LloydStep, RunConfig, run};
    use crate::observer::{NoObserver, Observer};

    /// Records the inertia of every iteration (every pass is then asked for it).
    struct InertiaLog(Mutex<Vec<Option<u64>>>);

    impl Observer for InertiaLog {
        fn iteration(&self, _run: usize, _iteration: usize, inertia: Option<f64>) {
            self.0.lock().unwrap().push(inertia.map(f64::to_bits));
        }
        fn wants_iteration_inertia(&self) -> bool {
            true
        }
    }

    /// Runs of Lloyd and of the filter from the same start on varied data of `n × d`, `k`
    /// clusters, compared bit for bit; returns the rows given the far centres' bounds over the
    /// runs on blobs, and the rows in doubt those bounds kept.
    fn filter_keeps_lloyds_run<F: Float>(n: usize, d: usize, k: usize) -> [usize; 2] {
        let mut far_rows = [0; 2];
        let (uniform, blobs) = crate::algo::uniform_and_blobs::<F>(n, d);
        // Ties: a row repeated, and two starting centres equal.
        let mut ties = blobs.clone();
        for i in 0..200 {
            let row = ties.row(0).to_owned();
            ties.row_mut(i * 7).assign(&row);
        }
        let mut sets = vec![("uniform", uniform), ("blobs", blobs.clone()), ("ties", ties)];
        if F::DTYPE == "float64" {
            // Magnitudes whose products `f32` does not take: those chunks run in `f64`.
            sets.push(("blobs x 2^50", blobs.mapv(|v| v * F::from_f64(2f64.powi(50)))));
        }
        let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64).collect();
        for (name, x) in sets {
            for w in [None, Some(weights.as_slice())] {
                for log in [false, true] {
                    let (lloyd_log, filtered_log) =
                        (InertiaLog(Mutex::default()), InertiaLog(Mutex::default()));
                    let observers: [&dyn Observer; 2] =
                        if log { [&lloyd_log, &filtered_log] } else { [&NoObserver, &NoObserver] };
                    let fit = |observer: &dyn Observer, filtered: bool| {
                        let data = Data::new(x.view(), w, observer, true);
                        let data = if F::DTYPE == "float64" { data.with_columns() } else { data };
                        let mut start = x.slice(s![..k, ..]).to_owned();
                        if name == "ties" {
                            let first = start.row(0).to_owned();
                            start.row_mut(1).assign(&first);
                        }
                        let cfg =
                            RunConfig { max_iter: 300, tol: 0.0, run: 0, scale: 1.0, observer, origin: &[] };
                        if filtered {
                            let mut step = FilteredLloyd::new::<F>(n, k, d);
                            let out = run(&data, start, &mut step, &cfg).unwrap();
                            (out, step.measured)
                        } else {
                            (run(&data, start, &mut LloydStep::new(), &cfg).unwrap(), [0; 3])
                        }
                    };
                    let (lloyd, _) = fit(observers[0], false);
                    let (filtered, [measured, far, kept]) = fit(observers[1], true);
                    if name == "blobs" {
                        far_rows[0] += far;
                        far_rows[1] += kept;
                    }
                    let what = format!("{} {name}, weighted: {}, log: {log}", F::DTYPE, w.is_some());
                    assert!(lloyd.n_iter > 5, "{what}: {} iterations", lloyd.n_iter);
                    assert_eq!(filtered.labels, lloyd.labels, "{what}");
                    assert_eq!(filtered.centers, lloyd.centers, "{what}");
                    assert_eq!(filtered.inertia.to_bits(), lloyd.inertia.to_bits(), "{what}");
                    assert_eq!(filtered.n_iter, lloyd.n_iter, "{what}");
                    // Every iteration's inertia, bit for bit.
                    assert_eq!(*filtered_log.0.lock().unwrap(), *lloyd_log.0.lock().unwrap(), "{what}");
                    assert!(!log || lloyd_log.0.lock().unwrap().iter().all(Option::is_some), "{what}");
                    // The filter kept labels without measuring: at most 80% of the rows Lloyd's
                    // passes (one per iteration, and the last assignment) measure.
                    let lloyds = n * (lloyd.n_iter + 1);
                    assert!(measured * 5 <= lloyds * 4, "{what}: {measured} of {lloyds} rows measured");
                }
            }
        }
        far_rows
    }

    #[test]
    fn filtered_lloyd_keeps_lloyds_run() {
        // A last sub-block and chunk cut short, and a cluster count off the kernel's groups.
        filter_keeps_lloyds_run::<f64>(4001, 16, 23);
        filter_keeps_lloyds_run::<f32>(4001, 16, 23);
    }

    /// With enough clusters, early passes on blobs measure the centres that jumped far for
    /// every row, and their bounds keep rows in doubt (rows of 32 features: groups of four
    /// centres in the products; of 64: groups of eight).
    #[test]
    fn filtered_lloyd_with_far_centres_keeps_lloyds_run() {
        for (d, k) in [(32, 40), (64, 40)] {
            for [far, kept] in
                [filter_keeps_lloyds_run::<f64>(4001, d, k), filter_keeps_lloyds_run::<f32>(4001, d, k)]
            {
                assert!(far > 0 && kept > 0, "d={d}: {far} rows given far bounds, {kept} kept by them");
            }
        }
    }

    /// The sums a step gives after a pass ([`AssignStep::fresh_sums`]) are those its pass gives
    /// (and Lloyd's), bit for bit: leaves, chunks and merges alike, weighted or not, with a
    /// last leaf and chunk cut short.
    #[test]
    fn fresh_sums_are_the_pass_sums() {
        let (n, d, k) = (9001, 64, 40);
        let (_, x) = crate::algo::uniform_and_blobs::<f64>(n, d);
        let weights: Vec<f64> = (0..n).map(|i| 0.5 + (i % 7) as f64).collect();
        let centers = x.slice(s![..k, ..]);
        for w in [None, Some(weights.as_slice())] {
            let data = Data::new(x.view(), w, &NoObserver, true).with_columns();
            assert!(AssignStep::<f64, Data<f64>>::defers_sums(&FilteredLloyd::new::<f64>(n, k, d), &data));
            let mut labels = vec![usize::MAX; n];
            let mut step = FilteredLloyd::new::<f64>(n, k, d);
            let pass = step.assign(&data, centers, &mut labels, false);
            let fresh = AssignStep::<f64, Data<f64>>::fresh_sums(&step, &data, &labels, k, d);
            let mut lloyd_labels = vec![usize::MAX; n];
            let lloyd = LloydStep::new().assign(&data, centers, &mut lloyd_labels, false);
            assert_eq!(labels, lloyd_labels);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fresh.sums), bits(&pass.sums), "weighted: {}", w.is_some());
            assert_eq!(bits(&fresh.weights), bits(&pass.weights), "weighted: {}", w.is_some());
            assert_eq!(bits(&fresh.sums), bits(&lloyd.sums), "weighted: {}", w.is_some());
            assert_eq!(bits(&fresh.weights), bits(&lloyd.weights), "weighted: {}", w.is_some());
        }
    }
}
