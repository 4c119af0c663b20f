//! With the `torch` feature, records the real libtorch folder (where `LIBTORCH/lib`'s links point,
//! see scripts/lib.sh `ensure_libtorch`) as an rpath of this crate's tests, examples and benches,
//! so they run without `LD_LIBRARY_PATH`. Cargo applies such link arguments to this package's own
//! binaries only: a binary in another crate that enables `torch` needs the same line in its own
//! build script, or `LD_LIBRARY_PATH` at run time.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if env::var_os("CARGO_FEATURE_TORCH").is_none() {
        return;
    }
    let Some(libtorch) = env::var_os("LIBTORCH") else {
        return;
    };
    let cpu = PathBuf::from(libtorch).join("lib").join("libtorch_cpu.so");
    // Without the file there is nothing to point at; torch-sys reports the missing library itself.
    if let Some(dir) = std::fs::canonicalize(&cpu)
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
