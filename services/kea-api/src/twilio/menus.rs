//! Parsed menus, cached per store and refreshed when the store is re-imported.
//!
//! A webhook turn must answer in milliseconds, so the store document is parsed and its matcher
//! built once per import, not once per turn. Freshness is checked against `stores.updated_at`,
//! which every turn reads anyway (it comes with the call's row).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;
use sqlx::PgPool;

/// One store, ready for the dialog engine.
#[derive(Debug)]
pub struct StoreBundle {
    /// The store file.
    pub store: Store,
    /// The menu matcher built from it.
    pub matcher: MenuMatcher,
    /// Words passed to Twilio's speech recogniser as `hints`, cleaned once per store.
    pub hints: kea_twilio::twiml::Hints,
    /// The import this bundle was built from.
    pub updated_at: DateTime<Utc>,
}

impl StoreBundle {
    fn build(store: Store, updated_at: DateTime<Utc>) -> Self {
        let matcher = MenuMatcher::new(&store.menu);
        let hints = {
            let ctx = kea_dialog::Context {
                store: &store,
                matcher: &matcher,
                now: None,
                enforce_hours: false,
            };
            kea_twilio::twiml::Hints::new(kea_dialog::hints(&ctx))
        };
        Self {
            store,
            matcher,
            hints,
            updated_at,
        }
    }

    /// The dialog engine's view of this store at `now`, turning calls away outside its hours
    /// when `enforce_hours`.
    pub fn context(&self, now: DateTime<Utc>, enforce_hours: bool) -> kea_dialog::Context<'_> {
        kea_dialog::Context {
            store: &self.store,
            matcher: &self.matcher,
            now: Some(now),
            enforce_hours,
        }
    }
}

/// Why a store could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] kea_store::StoreError),
    /// The stored document no longer parses (written by another version of kea).
    #[error("store `{store_id}` has a document this version cannot read: {reason}")]
    Unreadable {
        /// The store.
        store_id: String,
        /// What the parser said.
        reason: String,
    },
    /// The store was deleted between two reads.
    #[error("store `{0}` does not exist")]
    Missing(String),
}

/// The cache. Besides the per-turn check of `stores.updated_at`, every replica drops a store's
/// bundle as soon as PostgreSQL says its document changed (`NOTIFY kea_stores`), so no copy
/// outlives a change anywhere.
#[derive(Debug, Default)]
pub struct Menus {
    by_store: RwLock<HashMap<String, Arc<StoreBundle>>>,
    listening: std::sync::atomic::AtomicBool,
}

impl Menus {
    /// Forgets `store_id`'s bundle (all of them with `None`).
    pub fn invalidate(&self, store_id: Option<&str>) {
        if let Ok(mut map) = self.by_store.write() {
            match store_id {
                Some(id) => {
                    map.remove(id);
                }
                None => map.clear(),
            }
        }
    }

    /// Listens on `kea_stores` for the rest of the process (once per cache).
    fn listen(self: &Arc<Self>, pool: &PgPool) {
        if self
            .listening
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let menus = Arc::downgrade(self);
        let pool = pool.clone();
        tokio::spawn(async move {
            while !pool.is_closed() {
                let Ok(mut listener) = sqlx::postgres::PgListener::connect_with(&pool).await else {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                };
                if listener.listen("kea_stores").await.is_err() {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
                loop {
                    let Some(menus) = menus.upgrade() else { return };
                    match listener.try_recv().await {
                        Ok(Some(n)) => menus.invalidate(Some(n.payload())),
                        // Reconnecting: a notification may have been missed.
                        Ok(None) => menus.invalidate(None),
                        Err(_) => break,
                    }
                }
            }
        });
    }

    /// The bundle for `store_id` as of `updated_at`, loading it when the cache has none or an older one.
    pub async fn get(
        self: &Arc<Self>,
        pool: &PgPool,
        store_id: &str,
        updated_at: DateTime<Utc>,
    ) -> Result<Arc<StoreBundle>, MenuError> {
        self.listen(pool);
        if let Ok(map) = self.by_store.read()
            && let Some(bundle) = map.get(store_id)
            && bundle.updated_at >= updated_at
        {
            return Ok(bundle.clone());
        }
        let (document, updated_at) = kea_store::calls::store_document(pool, store_id)
            .await?
            .ok_or_else(|| MenuError::Missing(store_id.to_owned()))?;
        let store = Store::from_json(&document).map_err(|e| MenuError::Unreadable {
            store_id: store_id.to_owned(),
            reason: e.to_string(),
        })?;
        let bundle = Arc::new(StoreBundle::build(store, updated_at));
        if let Ok(mut map) = self.by_store.write() {
            map.insert(store_id.to_owned(), bundle.clone());
        }
        Ok(bundle)
    }
}
