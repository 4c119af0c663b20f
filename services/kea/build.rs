//! With the `ner` feature (the entity model on libtorch), records the real libtorch folder as an
//! rpath of the `kea` binary and its tests, so they run without `LD_LIBRARY_PATH` (kea-ner's own
//! build script does the same for its binaries; cargo does not pass link arguments on).

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
