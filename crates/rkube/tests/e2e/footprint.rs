//! The server's process footprint.

use crate::{Backend, server};

/// rkube opts out of transparent huge pages: with them, mimalloc's arenas
/// kept whole 2 MiB pages resident for a few live bytes (an idle empty
/// server took 54 MB instead of 38).
#[test]
fn the_server_takes_no_transparent_huge_pages() {
    let s = server(Backend::Sqlite);
    let pid = s.pid().expect("the server runs");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let thp = status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(str::trim);
    assert_eq!(thp, Some("0"), "{status}");
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let huge = smaps
        .lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_owned());
    assert_eq!(huge.as_deref(), Some("0"), "{smaps}");
}
