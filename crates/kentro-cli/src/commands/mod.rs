//! One module per subcommand; helpers they share live here.

pub mod blobs;
pub mod choose_k;
pub mod demo;
pub mod fit;
pub mod outliers;
pub mod predict;
pub mod profile;
pub mod quantize;
pub mod text;

use std::num::NonZeroUsize;

use anyhow::Context;

use crate::cli::DataArgs;
use crate::read::{Columns, HeaderMode, ReadOptions};

/// Runs `job` in a rayon pool of `threads` threads, or in rayon's global pool (whose size
/// honours `RAYON_NUM_THREADS`) without a count. The count never changes a result.
pub fn in_thread_pool<T: Send>(
    threads: Option<NonZeroUsize>,
    job: impl FnOnce() -> T + Send,
) -> anyhow::Result<T> {
    match threads {
        None => Ok(job()),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.get())
                .build()
                .context("cannot start the thread pool")?;
            Ok(pool.install(job))
        }
    }
}

/// The reading options that the data arguments ask for; `default_columns` applies when
/// `--columns` is not given.
pub fn read_options(args: &DataArgs, default_columns: Columns) -> ReadOptions {
    let header = match (args.header, args.no_header) {
        (true, _) => HeaderMode::Present,
        (_, true) => HeaderMode::Absent,
        _ => HeaderMode::Detect,
    };
    ReadOptions {
        header,
        columns: args.columns.clone().map_or(default_columns, Columns::Listed),
        exclude: args.exclude.clone(),
        delimiter: args.delimiter,
    }
}

/// `a, b, c`, or `a, b, c, d, e, f, …, z` for long lists.
pub fn short_list<T: std::fmt::Display>(items: &[T]) -> String {
    const MAX_SHOWN: usize = 10;
    const HEAD: usize = 6;
    let text = |items: &[T]| items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if items.len() <= MAX_SHOWN {
        text(items)
    } else {
        format!("{}, …, {}", text(&items[..HEAD]), items[items.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_shortened() {
        assert_eq!(short_list(&[1, 2, 3]), "1, 2, 3");
        let many: Vec<usize> = (0..20).collect();
        assert_eq!(short_list(&many), "0, 1, 2, 3, 4, 5, …, 19");
        assert_eq!(short_list(&many[..10]), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9");
    }

    #[test]
    fn a_thread_count_runs_in_its_own_pool() {
        let n = in_thread_pool(NonZeroUsize::new(3), rayon::current_num_threads).unwrap();
        assert_eq!(n, 3);
    }
}
