//! One module per subcommand.

pub mod call;
pub mod dev;
pub mod dev_board;
pub mod dev_inbox;
pub mod dev_page;
pub mod dev_pos;
pub mod migrate;
pub mod ner;
pub mod people;
pub mod replay;
pub mod serve;
pub mod simulate;
pub mod store_import;
pub mod token;
pub mod worker;
