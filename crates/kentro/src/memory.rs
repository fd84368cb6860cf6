//! Large working buffers: a fit's copies of the data (the centred rows, the products' layout,
//! k-means++'s screening copies) and its per-row state are written in full soon after they are
//! allocated, and freed at the end of the fit. On Linux they are advised to the kernel as
//! candidates for transparent huge pages, as numpy advises its arrays from 4 MiB on: the first
//! write of 2 MiB then costs one page fault instead of 512, and freeing them costs less too.
//! Buffers above the C allocator's mmap threshold (glibc: 128 KiB, raised up to 32 MiB as large
//! blocks are freed) come as fresh mappings, advised before they are first written; smaller
//! ones may reuse the allocator's heap, already written (the advice then stays on that part of
//! the heap after the buffer is freed, and memory later reused there may be backed by huge
//! pages too: a hint about backing, never about contents).
//!
//! Measured on blobs 100k × 128, k = 256, from the k-means++ start (`examples/tiny_fit.rs`, eight
//! fits per process, two threads, the 2-core VM of the bench, with timers added around the
//! phases of a fit for the measurement): the centring pass (which writes the 100 MB centred
//! copy and the 50 MB `f32` layout) took 21–29 ms instead of 37–41, and freeing them at the end
//! of a fit about nothing instead of 5–7 ms. The first fit of those processes paid 234–243 ms
//! for that pass instead (about +200 ms, a third of a default fit of that row): this VM's host
//! backs memory it has not backed yet slowly, 2 MiB at a time, and numpy's advised arrays pay
//! the same there (a first fill of 100 MB took 247, 140 and 19 ms in three fresh processes,
//! later ones 16.5 ms). The bench's medians over seeds, after a warm-up fit, do not show that first cost.
//! Where the kernel gives no huge pages (`never`), the advice changes nothing.

/// Buffers of at least this many bytes are advised (numpy's threshold).
const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// `len` copies of `zero`, a value of all zero bits (`0`, `0.0`: the allocation then comes
/// zeroed from the system, untouched where it is a fresh mapping), advised for huge pages where
/// large. Any other value is still correct, only filled before the advice: use [`filled`].
pub(crate) fn zeroed<T: Clone>(zero: T, len: usize) -> Vec<T> {
    let v = vec![zero; len];
    advise_huge_pages(v.as_ptr() as usize, std::mem::size_of_val(v.as_slice()));
    v
}

/// `len` copies of `value`, advised for huge pages (where large) before they are written.
pub(crate) fn filled<T: Clone>(value: T, len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    advise_huge_pages(v.as_ptr() as usize, len * std::mem::size_of::<T>());
    v.resize(len, value);
    v
}

/// Advises the whole pages of the `bytes` bytes from address `start` for transparent huge pages,
/// where they are [`HUGE_PAGE_MIN_BYTES`] or more (Linux; a hint only, whose failure changes
/// nothing).
fn advise_huge_pages(start: usize, bytes: usize) {
    if let Some((first, end)) = page_size().and_then(|page| advised_range(start, bytes, page)) {
        advise(first, end);
    }
}

/// The whole pages (of `page` bytes) of the `bytes` bytes from address `start` that are advised:
/// none below [`HUGE_PAGE_MIN_BYTES`], or where no whole page lies inside.
fn advised_range(start: usize, bytes: usize, page: usize) -> Option<(usize, usize)> {
    if bytes < HUGE_PAGE_MIN_BYTES || page == 0 {
        return None;
    }
    let first = start.checked_next_multiple_of(page)?;
    let end = start.checked_add(bytes)? / page * page;
    (end > first).then_some((first, end))
}

/// The system's page size.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn page_size() -> Option<usize> {
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).ok()
}

/// Elsewhere: no advice, so no page size wanted.
#[cfg(not(target_os = "linux"))]
fn page_size() -> Option<usize> {
    None
}

/// Advises the pages from `first` to `end` (page-aligned addresses inside one live allocation of
/// ours) for transparent huge pages.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise(first: usize, end: usize) {
    // SAFETY: the range lies in whole pages inside one live allocation of ours, and
    // MADV_HUGEPAGE changes only how the kernel backs it, never its contents (the flag outlives
    // the allocation where the allocator reuses that memory: see the module's doc).
    unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
}

/// Elsewhere: nothing to advise.
#[cfg(not(target_os = "linux"))]
fn advise(_first: usize, _end: usize) {}

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

    /// Whole pages inside the buffer, from the threshold on only.
    #[test]
    fn the_advised_range_is_the_whole_pages_inside() {
        let (min, page) = (HUGE_PAGE_MIN_BYTES, 4096);
        assert_eq!(advised_range(0, min - 1, page), None);
        assert_eq!(advised_range(page * 3, 0, page), None);
        assert_eq!(advised_range(page * 3, min, page), Some((page * 3, page * 3 + min)));
        // An unaligned start and end: the pages inside only.
        assert_eq!(advised_range(page * 3 + 8, min, page), Some((page * 4, page * 3 + min)));
        assert_eq!(advised_range(page * 3 + 8, min + page, page), Some((page * 4, page * 4 + min)));
        // Pages as large as the buffer: none lies whole inside an unaligned one.
        assert_eq!(advised_range(8, min, min), None);
        assert_eq!(advised_range(8, min, 0), None);
        // Past the top of the address space.
        assert_eq!(advised_range(usize::MAX - 10, min, page), None);
    }

    /// The `VmFlags` of the mapping of this process that holds `address` (Linux); none where
    /// the maps cannot be read.
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

    /// Large buffers carry the advice (the kernel's `hg` flag on their mapping; set whatever
    /// the system's mode, `never` included, where the kernel has transparent huge pages at
    /// all). (Small ones may share an advised heap, so nothing is asserted of them.)
    #[cfg(target_os = "linux")]
    #[test]
    fn large_buffers_are_advised_for_huge_pages() {
        let readable = std::fs::read_to_string("/proc/self/smaps").is_ok();
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() || !readable {
            return;
        }
        let large = zeroed(0.0f64, 8 << 20);
        let flags = flags_of(large.as_ptr() as usize + (4 << 20)).expect("the buffer's mapping");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
        let large_filled = filled(u32::MAX, 8 << 20);
        let flags = flags_of(large_filled.as_ptr() as usize + (4 << 20)).expect("the buffer's mapping");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "flags {flags}");
    }
}
