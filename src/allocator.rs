//! The allocator's policy for a command: keep freed memory for later allocations.
//!
//! glibc's malloc hands a block above its mmap threshold (128 KiB at first) its own fresh
//! mapping, returns it to the system when freed, and trims the heap's top as soon as 128 KiB
//! are free. A report builds and drops many such blocks (a year's rows, their lines, the
//! blocks of JSON), and every page of every new mapping is faulted in again: 59,000 page faults
//! and 0.14 – 0.23 s of system time for `report --year 2025` from a snapshot over a million
//! events. Serving blocks up to 256 MiB from the heap and trimming it only past 1 GiB free
//! took that to 46,000 faults and its median from 0.625 to 0.575 s, alternating (README,
//! *Benchmarks*). A command's peak is what it holds at once either way (measured: a few MB
//! more for some commands, 8 MB less for that report): a freed block is reused instead of being
//! returned and mapped again.

/// Sets the policy; call it first thing in a process (the binary's `main`, the benches).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    // SAFETY: mallopt only sets parameters of the allocator; any value is valid (glibc keeps
    // its defaults for one it refuses), and nothing else allocates concurrently this early.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Other allocators keep their own policy.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
