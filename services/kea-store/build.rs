//! `sqlx::migrate!` embeds `migrations/` when this crate compiles; without this, a new migration
//! file would not trigger a rebuild and the binary would carry the old set.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
