//! Progress a person waiting on a big dataset can see: one line on stderr, redrawn in place, for
//! `load` and `serve`'s start-up. indicatif draws nothing when stderr is not a terminal, so logs
//! and tests see only the commands' own output.

use indicatif::{ProgressBar, ProgressStyle};
use planner::LoadStep;
use std::path::Path;
use std::time::Duration;

pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn new() -> Self {
        let bar = ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar }
    }

    fn spin(&self, message: String) {
        self.bar
            .set_style(ProgressStyle::with_template("{spinner} {msg}  {elapsed}").expect("a valid template"));
        self.bar.set_message(message);
    }

    /// A step of `wangge load` (or `serve --data`) of `dataset`.
    pub fn load_step(&self, dataset: &Path, step: LoadStep) {
        match step {
            LoadStep::StoringDataset => self.spin(format!("reading and checking {}", dataset.display())),
            LoadStep::Partitioning { done, total } => {
                if self.bar.length() != Some(total as u64) {
                    self.bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} communities partitioned  {elapsed} (eta {eta})",
                        )
                        .expect("a valid template"),
                    );
                    self.bar.set_length(total as u64);
                }
                self.bar.set_position(done as u64);
            }
            LoadStep::Repartitioning => self.spin("re-partitioning from the current version".into()),
            LoadStep::SavingDraft => self.spin("storing the grids, reading them back and checking them".into()),
            LoadStep::Publishing => self.spin("checking the draft and publishing it".into()),
        }
    }

    /// Serving's start-up: reading the published version back, checking and indexing it.
    pub fn reading_version(&self) {
        self.spin("reading the published version from the store, checking and indexing it".into());
    }

    pub fn done(&self) {
        self.bar.finish_and_clear();
    }
}
