//! Lloyd's passes by matrix products behind Hamerly's filter (Hamerly, "Making k-means even
//! faster", SDM 2010). Each sample keeps an upper bound on the distance to its centre and a
//! lower bound on the distance to every other centre, both from the products' approximations
//! and their rounding window ([`Assigner::nearest_rows_and_pair`]); when the centres move, the
//! upper bound grows by its centre's drift and the lower bound shrinks by the largest drift. A
//! sample whose bounds still separate keeps its label without being measured; the others are
//! gathered and measured by products against every centre, which renews both bounds (where most
//! of a chunk of rows is in doubt, the whole chunk is measured in place instead).
//!
//! Unlike [`super::bounds::BoundsStep`], a sample in doubt is not first tightened by its
//! distance to its own centre (a read of its row in the data's own type for every sample in
//! doubt, which made such a filter slower than Lloyd's passes over the kept `f32` rows on
//! uniform data): it is measured again in full.
//!
//! Exactness: the bounds carry the products' window and the [`Allowance`] of the distances, the
//! drifts are upper bounds, the moved bounds are rounded outwards, a label is kept only where the
//! bounds are apart by more than the rounding of the direct distances (`1 + 2η`), and the
//! products' labels are the direct kernel's. So labels are exactly Lloyd's, iteration by
//! iteration. A pass asked for the inertia measures the kept rows' distances to their centres
//! directly (only those), as Lloyd's pass gives them.

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
    /// Per sample: lower bound on the distance to every other centre.
    lower: Vec<f64>,
    /// Upper bounds on how far each centre moved since the last pass, and the largest.
    drift: Vec<f64>,
    max_drift: f64,
    started: bool,
    /// Whether passes return the per-cluster sums (see [`AssignStep::sums_wanted`]).
    sums_wanted: bool,
    allow: Allowance,
    /// Rows measured by products so far, over all passes (the others kept their label).
    measured: usize,
}

impl FilteredLloyd {
    pub(crate) fn new<F: Float>(n: usize, k: usize, d: usize) -> Self {
        FilteredLloyd {
            upper: vec![0.0; n],
            lower: vec![0.0; n],
            drift: vec![0.0; k],
            max_drift: 0.0,
            started: false,
            sums_wanted: true,
            allow: Allowance::new::<F>(d),
            measured: 0,
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
        let (allow, drift, max_drift, sums) = (self.allow, &self.drift, self.max_drift, self.sums_wanted);
        let margin = 1.0 + 2.0 * allow.eta;
        let (part, measured) = par_blocks_sized(
            leaf_rows(k, d),
            labels.len(),
            (Rows::new(labels, 1), (Rows::new(&mut self.upper, 1), Rows::new(&mut self.lower, 1))),
            &|s, e, (lab, (up, low)): (Rows<usize>, (Rows<f64>, Rows<f64>))| {
                let mut part = if sums { Partial::zeros(k, d) } else { Partial::zeros(0, 0) };
                let mut measured = 0;
                if data.stopping() {
                    return (part, measured);
                }
                let mut nearest = [(0usize, F::ZERO); CHUNK];
                let (mut up_sq, mut low_sq) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
                let mut open = [0u32; CHUNK];
                let (mut gathered, mut gathered_norms) = (Vec::new(), Vec::new());
                let chunks =
                    lab.data.chunks_mut(CHUNK).zip(up.data.chunks_mut(CHUNK).zip(low.data.chunks_mut(CHUNK)));
                for (first, (lab, (up, low))) in (s..e).step_by(CHUNK).zip(chunks) {
                    let rows = lab.len();
                    let end = first + rows;
                    let x = data.x.slice(s![first..end, ..]);
                    let values = x.as_slice().expect("standard layout");
                    let norms = &data.x_norms[first..end];
                    // The bounds moved by the drifts; the rows they leave in doubt, in order.
                    let len = if started {
                        filter(lab, (up, low), drift, max_drift, margin, &mut open)
                    } else {
                        rows
                    };
                    // Where most rows are in doubt, every row is measured in place (from the kept
                    // layout) and takes fresh bounds; else the rows in doubt are gathered.
                    let whole = len * OPEN_WHOLE > rows;
                    let m = if whole { rows } else { len };
                    if whole {
                        open[..rows].iter_mut().zip(0..).for_each(|(o, i)| *o = i);
                    }
                    let open = &open[..m];
                    let (nearest, up_sq, low_sq) = (&mut nearest[..m], &mut up_sq[..m], &mut low_sq[..m]);
                    if whole {
                        let pre = data.columns_of(first, end);
                        assigner.nearest_rows_and_pair(x, norms, nearest, want_inertia, up_sq, low_sq, pre);
                    } else if m > 0 {
                        gathered.resize(m * d, F::ZERO);
                        gathered_norms.resize(m, 0.0);
                        gather(values, d, norms, open, &mut gathered, &mut gathered_norms);
                        let block = ArrayView2::from_shape((m, d), &gathered[..]).expect("whole rows");
                        assigner.nearest_rows_and_pair(
                            block,
                            &gathered_norms,
                            nearest,
                            false,
                            up_sq,
                            low_sq,
                            None,
                        );
                    }
                    measured += m;
                    let mut changed = 0;
                    for (((&i, &(a, _)), &u), &l) in
                        open.iter().zip(nearest.iter()).zip(up_sq.iter()).zip(low_sq.iter())
                    {
                        let i = i as usize;
                        changed += usize::from(lab[i] != a);
                        lab[i] = a;
                        up[i] = allow.upper(u);
                        low[i] = allow.lower(l);
                    }
                    part.changed += changed;
                    if want_inertia {
                        // Row by row, as `accumulate` adds distances: the kernel's where every row
                        // was measured, else the direct distance to the label (the function the
                        // kernel gives its distances by, so the same bits).
                        let dist = |i: usize| match whole {
                            true => nearest[i].1,
                            false => sq_dist(&values[i * d..(i + 1) * d], &c[lab[i] * d..(lab[i] + 1) * d]),
                        };
                        add_inertia(&mut part, first, rows, data.weights, dist);
                    }
                    if sums {
                        accumulate(values, d, first, lab, None, data.weights, &mut part);
                    }
                }
                (part, measured)
            },
            &|a: &mut (Partial, usize), b| {
                a.0.merge(b.0);
                a.1 += b.1;
            },
        );
        self.measured += measured;
        part
    }

    fn sums_wanted(&mut self, wanted: bool) {
        self.sums_wanted = wanted;
    }

    fn centers_moved(&mut self, old: ArrayView2<F>, new: ArrayView2<F>) {
        drifts(old, new, &mut self.drift);
        self.max_drift = self.drift.iter().fold(0.0f64, |m, &v| m.max(v));
    }
}

/// Moves the bounds of a chunk's rows by the drifts (`bounds`: upper, lower), and writes the
/// rows they leave in doubt to `open`, in order; returns their number.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn filter(
    labels: &[usize],
    (upper, lower): (&mut [f64], &mut [f64]),
    drift: &[f64],
    max_drift: f64,
    margin: f64,
    open: &mut [u32; CHUNK],
) -> usize {
    let mut len = 0;
    for (((&a, u), l), i) in labels.iter().zip(upper.iter_mut()).zip(lower.iter_mut()).zip(0..) {
        // Rounded outwards: the bounds stay bounds however many passes they are carried.
        *u = (*u + drift[a]) * (1.0 + f64::EPSILON);
        *l = (*l - max_drift) * (1.0 - f64::EPSILON);
        // A NaN bound keeps nothing.
        let keeps = *l > *u * margin;
        open[len] = i;
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

    fn filter_keeps_lloyds_run<F: Float>() {
        // A last sub-block and chunk cut short, and a cluster count off the kernel's groups.
        let (n, d, k) = (4001, 16, 23);
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
                        let cfg = RunConfig { max_iter: 300, tol: 0.0, run: 0, scale: 1.0, observer };
                        if filtered {
                            let mut step = FilteredLloyd::new::<F>(n, k, d);
                            let out = run(&data, start, &mut step, &cfg).unwrap();
                            (out, step.measured)
                        } else {
                            (run(&data, start, &mut LloydStep::new(), &cfg).unwrap(), 0)
                        }
                    };
                    let (lloyd, _) = fit(observers[0], false);
                    let (filtered, measured) = fit(observers[1], true);
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
    }

    #[test]
    fn filtered_lloyd_keeps_lloyds_run() {
        filter_keeps_lloyds_run::<f64>();
        filter_keeps_lloyds_run::<f32>();
    }
}
