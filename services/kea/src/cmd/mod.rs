//! One module per subcommand.

pub mod dev;
pub mod migrate;
pub mod serve;
pub mod store_import;
pub mod unavailable;
