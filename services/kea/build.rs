//! With the `ner` feature (the entity model on libtorch), records the real libtorch folder as an
//! rpath of the `kea` binary and its tests, so `target/debug/kea` runs without `LD_LIBRARY_PATH`.
//! (Test runners put `$LIBTORCH/lib` on the library path themselves, which is all kea-ner's own
//! tests need.)

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if env::var_os("CARGO_FEATURE_NER").is_none() {
        return;
    }
    let Some(libtorch) = env::var_os("LIBTORCH") else {
        return;
    };
    let cpu = PathBuf::from(libtorch).join("lib").join("libtorch_cpu.so");
    if let Some(dir) = std::fs::canonicalize(&cpu)
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
    {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
