//! The wangge (网格) service: [`serve`] builds the HTTP router over what it serves; the binary's
//! command line lives in `main.rs` and `cli/`.

pub mod archive;
pub mod notices;
pub mod placards;
pub mod serve;
pub mod snapshot;
