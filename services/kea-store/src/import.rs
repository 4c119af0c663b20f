//! Creating and updating stores from store files.
//!
//! A store is matched by its `id`. A re-import updates the store in place: items that left the menu
//! are marked unavailable rather than deleted, so orders that name them keep their lines, and items
//! that come back are made available again.

use std::collections::BTreeMap;
use std::fmt;

use kea_menu::{Item, PosConfig, Store};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::StoreError;

/// What an import did to one store, for the person who ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The store's id.
    pub store_id: String,
    /// True when the store did not exist before.
    pub created: bool,
    /// Menu items by what happened to them.
    pub items: ItemChanges,
    /// Whether anything outside the menu items changed (name, phone, hours, POS, groups…).
    pub settings_changed: bool,
}

/// Menu items sorted by what the import did to them (skus).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemChanges {
    /// New on the menu.
    pub added: Vec<String>,
    /// On the menu before and after, with a different name, price, sizes, modifiers or aliases.
    pub changed: Vec<String>,
    /// No longer in the file: now unavailable (kept for the orders that name them).
    pub removed: Vec<String>,
    /// On the menu before and after, the same.
    pub unchanged: usize,
}

impl ImportReport {
    /// True when the import changed nothing at all.
    pub fn is_noop(&self) -> bool {
        !self.created
            && !self.settings_changed
            && self.items.added.is_empty()
            && self.items.changed.is_empty()
            && self.items.removed.is_empty()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = &self.items;
        if self.created {
            return write!(
                f,
                "{}: created with {} menu items",
                self.store_id,
                items.added.len()
            );
        }
        if self.is_noop() {
            return write!(f, "{}: unchanged", self.store_id);
        }
        write!(f, "{}: updated", self.store_id)?;
        let mut parts = Vec::new();
        if self.settings_changed {
            parts.push("store settings changed".to_owned());
        }
        for (what, skus) in [
            ("added", &items.added),
            ("changed", &items.changed),
            ("removed (now unavailable)", &items.removed),
        ] {
            if !skus.is_empty() {
                parts.push(format!("{} {what}: {}", skus.len(), skus.join(", ")));
            }
        }
        write!(f, ": {}", parts.join("; "))
    }
}

/// Creates or updates `store` inside `tx`. The caller commits; on any error nothing is written.
pub async fn import_store(
    tx: &mut Transaction<'_, Postgres>,
    store: &Store,
) -> Result<ImportReport, StoreError> {
    let taken: Option<String> =
        sqlx::query_scalar("SELECT id FROM stores WHERE phone = $1 AND id <> $2")
            .bind(&store.phone)
            .bind(&store.id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(other_store) = taken {
        return Err(StoreError::PhoneTaken {
            phone: store.phone.clone(),
            other_store,
        });
    }

    // Lock the store's row (if any) so two concurrent imports of one store serialise.
    let previous_document: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT document FROM stores WHERE id = $1 FOR UPDATE")
            .bind(&store.id)
            .fetch_optional(&mut **tx)
            .await?;
    // A document this binary cannot read (written by an older or newer kea) counts as all-changed.
    let previous: Option<Store> = previous_document
        .clone()
        .and_then(|doc| serde_json::from_value(doc).ok());

    let merchant_id: Uuid = sqlx::query_scalar(
        "INSERT INTO merchants (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
         RETURNING id",
    )
    .bind(&store.merchant)
    .fetch_one(&mut **tx)
    .await?;

    upsert_store_row(tx, store, merchant_id)
        .await
        .map_err(|e| phone_conflict(e, store))?;
    upsert_menu(tx, store).await?;
    let document = store.to_json();
    if previous_document.as_ref() != Some(&document) {
        crate::store_sync::record_change(
            tx,
            &store.id,
            "kea store import",
            "import",
            previous_document.as_ref(),
            &document,
        )
        .await?;
    }

    let items = item_changes(previous.as_ref(), store);
    let settings_changed = match &previous {
        None => true,
        Some(old) => {
            let strip = |s: &Store| {
                let mut s = s.clone();
                s.menu.items.clear();
                s
            };
            strip(old) != strip(store)
        }
    };
    Ok(ImportReport {
        store_id: store.id.clone(),
        created: previous.is_none(),
        items,
        settings_changed,
    })
}

/// A unique violation on the phone here means another import took the number concurrently.
fn phone_conflict(err: sqlx::Error, store: &Store) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.constraint() == Some("stores_phone_key")
    {
        return StoreError::PhoneTaken {
            phone: store.phone.clone(),
            other_store: "another store".to_owned(),
        };
    }
    StoreError::Db(err)
}

async fn upsert_store_row(
    tx: &mut Transaction<'_, Postgres>,
    store: &Store,
    merchant_id: Uuid,
) -> Result<(), sqlx::Error> {
    let (pos_url, pos_secret, pos_location_id, pos_access_token, pos_base_url) = match &store.pos {
        PosConfig::None => (None, None, None, None, None),
        PosConfig::Webhook { url, secret } => {
            (Some(url.as_str()), Some(secret.as_str()), None, None, None)
        }
        PosConfig::Square {
            location_id,
            access_token,
            base_url,
        } => (
            None,
            None,
            Some(location_id.as_str()),
            Some(access_token.as_str()),
            base_url.as_deref(),
        ),
    };
    let hours = serde_json::to_value(&store.hours).unwrap_or_else(|_| serde_json::json!({}));
    let f = &store.fulfillment;
    sqlx::query(
        "INSERT INTO stores (id, merchant_id, name, phone, timezone, languages, tax_rate_bps,
                             pickup, delivery, delivery_fee_cents, delivery_minimum_cents,
                             pickup_minutes, delivery_minutes, hours, pos_kind, pos_url, pos_secret,
                             pos_location_id, pos_access_token, pos_base_url, document, closures,
                             phone_orders_paused)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                 $22, $23)
         ON CONFLICT (id) DO UPDATE SET
             merchant_id = EXCLUDED.merchant_id, name = EXCLUDED.name, phone = EXCLUDED.phone,
             timezone = EXCLUDED.timezone, languages = EXCLUDED.languages,
             tax_rate_bps = EXCLUDED.tax_rate_bps, pickup = EXCLUDED.pickup,
             delivery = EXCLUDED.delivery, delivery_fee_cents = EXCLUDED.delivery_fee_cents,
             delivery_minimum_cents = EXCLUDED.delivery_minimum_cents,
             pickup_minutes = EXCLUDED.pickup_minutes, delivery_minutes = EXCLUDED.delivery_minutes,
             hours = EXCLUDED.hours, pos_kind = EXCLUDED.pos_kind, pos_url = EXCLUDED.pos_url,
             pos_secret = EXCLUDED.pos_secret, pos_location_id = EXCLUDED.pos_location_id,
             pos_access_token = EXCLUDED.pos_access_token, pos_base_url = EXCLUDED.pos_base_url,
             document = EXCLUDED.document, closures = EXCLUDED.closures,
             phone_orders_paused = EXCLUDED.phone_orders_paused",
    )
    .bind(&store.id)
    .bind(merchant_id)
    .bind(&store.name)
    .bind(&store.phone)
    .bind(&store.timezone)
    .bind(&store.languages)
    .bind(i32::try_from(store.tax_rate_bps).unwrap_or(i32::MAX))
    .bind(f.pickup)
    .bind(f.delivery)
    .bind(f.delivery_fee_cents)
    .bind(f.delivery_minimum_cents)
    .bind(i32::try_from(f.pickup_minutes).unwrap_or(i32::MAX))
    .bind(i32::try_from(f.delivery_minutes).unwrap_or(i32::MAX))
    .bind(hours)
    .bind(store.pos.kind())
    .bind(pos_url)
    .bind(pos_secret)
    .bind(pos_location_id)
    .bind(pos_access_token)
    .bind(pos_base_url)
    .bind(store.to_json())
    .bind(serde_json::to_value(&store.closures).unwrap_or_else(|_| serde_json::json!([])))
    .bind(store.phone_orders_paused)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A part of the model as the JSON the menu tables keep (`{}` when empty).
fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_else(|_| serde_json::json!({}))
}

/// Writes the menu tables so they mirror the file, marking what left the menu unavailable.
async fn upsert_menu(tx: &mut Transaction<'_, Postgres>, store: &Store) -> Result<(), sqlx::Error> {
    let menu = &store.menu;
    let id = store.id.as_str();

    for (position, group) in (0_i32..).zip(&menu.modifier_groups) {
        sqlx::query(
            "INSERT INTO modifier_groups (store_id, id, name, min_choices, max_choices, available, position,
                                          names)
             VALUES ($1, $2, $3, $4, $5, true, $6, $7)
             ON CONFLICT (store_id, id) DO UPDATE SET name = EXCLUDED.name,
                 min_choices = EXCLUDED.min_choices, max_choices = EXCLUDED.max_choices,
                 available = true, position = EXCLUDED.position, names = EXCLUDED.names",
        )
        .bind(id)
        .bind(&group.id)
        .bind(&group.name)
        .bind(i32::try_from(group.min).unwrap_or(i32::MAX))
        .bind(i32::try_from(group.max).unwrap_or(i32::MAX))
        .bind(position)
        .bind(json(&group.names))
        .execute(&mut **tx)
        .await?;
        for (position, option) in (0_i32..).zip(&group.options) {
            sqlx::query(
                "INSERT INTO modifier_options (store_id, group_id, sku, name, price_cents, aliases, available,
                                               position, portions, names)
                 VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, $9)
                 ON CONFLICT (store_id, group_id, sku) DO UPDATE SET name = EXCLUDED.name,
                     price_cents = EXCLUDED.price_cents, aliases = EXCLUDED.aliases,
                     available = true, position = EXCLUDED.position,
                     portions = EXCLUDED.portions, names = EXCLUDED.names",
            )
            .bind(id)
            .bind(&group.id)
            .bind(&option.sku)
            .bind(&option.name)
            .bind(option.price_cents)
            .bind(&option.aliases)
            .bind(position)
            .bind(json(&option.portions))
            .bind(json(&option.names))
            .execute(&mut **tx)
            .await?;
        }
        let option_skus: Vec<&str> = group.options.iter().map(|o| o.sku.as_str()).collect();
        sqlx::query(
            "UPDATE modifier_options SET available = false
             WHERE store_id = $1 AND group_id = $2 AND sku <> ALL($3) AND available",
        )
        .bind(id)
        .bind(&group.id)
        .bind(&option_skus)
        .execute(&mut **tx)
        .await?;
    }
    let group_ids: Vec<&str> = menu.modifier_groups.iter().map(|g| g.id.as_str()).collect();
    sqlx::query("UPDATE modifier_groups SET available = false WHERE store_id = $1 AND id <> ALL($2) AND available")
        .bind(id)
        .bind(&group_ids)
        .execute(&mut **tx)
        .await?;

    for (position, item) in (0_i32..).zip(&menu.items) {
        sqlx::query(
            "INSERT INTO menu_items (store_id, sku, name, category, description, aliases, price_cents,
                                     default_size, available, position, includes, names)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (store_id, sku) DO UPDATE SET name = EXCLUDED.name,
                 category = EXCLUDED.category, description = EXCLUDED.description,
                 aliases = EXCLUDED.aliases, price_cents = EXCLUDED.price_cents,
                 default_size = EXCLUDED.default_size, available = EXCLUDED.available,
                 position = EXCLUDED.position, includes = EXCLUDED.includes,
                 names = EXCLUDED.names",
        )
        .bind(id)
        .bind(&item.sku)
        .bind(&item.name)
        .bind(&item.category)
        .bind(&item.description)
        .bind(&item.aliases)
        .bind(item.price_cents)
        .bind(&item.default_size)
        .bind(item.available)
        .bind(position)
        .bind(json(&item.includes))
        .bind(json(&item.names))
        .execute(&mut **tx)
        .await?;
    }
    let skus: Vec<&str> = menu.items.iter().map(|i| i.sku.as_str()).collect();
    sqlx::query("UPDATE menu_items SET available = false WHERE store_id = $1 AND sku <> ALL($2) AND available")
        .bind(id)
        .bind(&skus)
        .execute(&mut **tx)
        .await?;

    // Sizes and item↔group links are nothing an order refers to: rewrite them from the file.
    sqlx::query("DELETE FROM item_sizes WHERE store_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM item_modifier_groups WHERE store_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for item in &menu.items {
        for (position, size) in (0_i32..).zip(&item.sizes) {
            sqlx::query(
                "INSERT INTO item_sizes (store_id, item_sku, name, price_cents, aliases, position, names)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(&item.sku)
            .bind(&size.name)
            .bind(size.price_cents)
            .bind(&size.aliases)
            .bind(position)
            .bind(json(&size.names))
            .execute(&mut **tx)
            .await?;
        }
        for (position, group_id) in (0_i32..).zip(&item.modifier_groups) {
            sqlx::query(
                "INSERT INTO item_modifier_groups (store_id, item_sku, group_id, position)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(&item.sku)
            .bind(group_id)
            .bind(position)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Compares the menu items before and after, by sku.
fn item_changes(previous: Option<&Store>, store: &Store) -> ItemChanges {
    let old: BTreeMap<&str, &Item> = previous
        .map(|s| {
            s.menu
                .items
                .iter()
                .filter(|i| i.available)
                .map(|i| (i.sku.as_str(), i))
                .collect()
        })
        .unwrap_or_default();
    let mut changes = ItemChanges::default();
    for item in &store.menu.items {
        match old.get(item.sku.as_str()) {
            None => changes.added.push(item.sku.clone()),
            Some(before) if *before != item => changes.changed.push(item.sku.clone()),
            Some(_) => changes.unchanged += 1,
        }
    }
    let new: std::collections::BTreeSet<&str> =
        store.menu.items.iter().map(|i| i.sku.as_str()).collect();
    changes.removed = old
        .keys()
        .filter(|sku| !new.contains(*sku))
        .map(|s| (*s).to_owned())
        .collect();
    changes
}
