//! Large working buffers: a fit's copies of the data (the centred rows, the products' layout,
//! k-means++'s screening copies) and its per-row state are written in full soon after they are
//! allocated, and freed at the end of the fit. On Linux they are advised to the kernel as
//! candidates for transparent huge pages before they are first written, as numpy advises its
//! arrays from 4 MiB on: the first write of 2 MiB then costs one page fault instead of 512, and
//! freeing them costs less too.
//!
//! Measured on blobs 100k × 128, k = 256, from the k-means++ start (`examples/tiny_fit.rs`, eight
//! fits per process, two threads, the 2-core VM of the bench): the centring pass (which writes
//! the 100 MB centred copy and the 50 MB `f32` layout) took 21–29 ms instead of 37–41, and
//! freeing them at the end of a fit about nothing instead of 5–7 ms. The first fit of a process
//! paid 234–243 ms for that pass instead: this VM's host backs fresh huge pages slowly, and
//! numpy's arrays pay the same there (a first fill of 100 MB took 140–250 ms, later ones
//! 16.5 ms). Where the kernel gives no huge pages (`never`), the advice changes nothing.

/// Buffers of at least this many bytes are advised (numpy's threshold).
const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// `len` copies of `zero`, a value of all zero bits (`0`, `0.0`), which the system gives
/// untouched; advised for huge pages where large (before they are first written). Use
/// [`filled`] for other values.
pub(crate) fn zeroed<T: Clone>(zero: T, len: usize) -> Vec<T> {
    let v = vec![zero; len];
    advise_huge_pages(v.as_ptr(), std::mem::size_of_val(v.as_slice()));
    v
}

/// `len` copies of `value`, advised for huge pages (where large) before they are written.
pub(crate) fn filled<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    advise_huge_pages(v.as_ptr(), len * std::mem::size_of::<T>());
    v.resize(len, value);
    v
}

/// Advises the whole pages of `bytes` bytes from `start` for transparent huge pages (Linux; a
/// hint only, whose failure changes nothing).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge_pages<T>(start: *const T, bytes: usize) {
    if bytes < HUGE_PAGE_MIN_BYTES {
        return;
    }
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Ok(page) = usize::try_from(page) else { return };
    if page == 0 {
        return;
    }
    let first = (start as usize).next_multiple_of(page);
    let end = (start as usize + bytes) / page * page;
    if end > first {
        // SAFETY: the range lies in whole pages inside one live allocation of ours, and
        // MADV_HUGEPAGE changes only how the kernel backs it, never its contents.
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
    }
}

/// Elsewhere: nothing to advise.
#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_start: *const T, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_hold_what_was_asked() {
        for len in [0, 1, 1000, (HUGE_PAGE_MIN_BYTES / 8) + 3] {
            let z = zeroed(0.0f64, len);
            assert_eq!(z.len(), len);
            assert!(z.iter().all(|&v| v.to_bits() == 0));
            let f = filled(f64::MAX, len);
            assert_eq!(f.len(), len);
            assert!(f.iter().all(|&v| v == f64::MAX));
            let u = filled(usize::MAX, len);
            assert!(u.iter().all(|&v| v == usize::MAX));
        }
    }

    /// The `VmFlags` of the mapping of this process that holds `address` (Linux).
    #[cfg(target_os = "linux")]
    fn flags_of(address: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().and_then(|r| r.split_once('-'));
            if let Some((a, b)) = range
                && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                inside = (a..b).contains(&address);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.to_string());
            }
        }
        None
    }

    /// Large buffers carry the advice (the kernel's `hg` flag on their mapping), small ones
    /// not; where the kernel has no transparent huge pages there is nothing to check.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_are_advised_for_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            return;
        }
        let large = zeroed(0.0f64, 8 << 20);
        let flags = flags_of(large.as_ptr() as usize + (4 << 20)).expect("the buffer's mapping");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
        let filled = filled(u32::MAX, 8 << 20);
        let flags = flags_of(filled.as_ptr() as usize + (4 << 20)).expect("the buffer's mapping");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
        let small = zeroed(0.0f64, 1000);
        let flags = flags_of(small.as_ptr() as usize).expect("the buffer's mapping");
        assert!(!flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
    }
}
