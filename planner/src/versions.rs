//! Publishing a draft and rolling back: the store's atomic writes, which check the layer first.

use crate::Result;
use store::{Store, StoreError, VersionInfo};

/// The current version; [`StoreError::NothingPublished`] when there is none.
pub async fn current(store: &Store) -> Result<VersionInfo> {
    Ok(store.current().await?.ok_or(StoreError::NothingPublished)?)
}

/// Publishes draft `draft` as the next version.
pub async fn publish(store: &Store, draft: i64, note: &str) -> Result<VersionInfo> {
    Ok(store.publish(draft, note).await?)
}

/// Serves version `to` again, published anew under the next number.
pub async fn rollback(store: &Store, to: i64, note: Option<&str>) -> Result<VersionInfo> {
    Ok(store.rollback(to, note).await?)
}
