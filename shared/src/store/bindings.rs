//! Bindings in the table: one item per user (all its devices in a map, with
//! a version for optimistic concurrency) plus one owner item per token, the
//! authority on which user a token belongs to.
//!
//! Every change is one TransactWriteItems whose conditions are the
//! invariants (see [`BindingWrite`]).

use super::item::{
    get_n, get_s, lost_race, n, opt_n, opt_s, s, sdk_err, transaction_lost_race, Item,
};
use super::keys::{self as k, D_CERT, D_DEVICE, D_EXPIRES, D_REPORTED, D_TOKEN};
use super::Store;
use super::StoreError;
use crate::domain::binding::{EndReason, Ended};
use crate::domain::{AppId, Binding, CertificateId, DeviceId, PushToken, UserBindings, UserId};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use std::collections::{BTreeMap, HashMap};

pub use super::batch::BATCH_GET_MAX;
/// DynamoDB's TransactWriteItems limit.
pub const TRANSACT_MAX: usize = 100;

/// Who owns a token, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenOwner {
    pub user: UserId,
    pub device_key: String,
    pub expires_at: i64,
    pub version: u64,
}

/// One write of a binding transaction.
pub enum BindingWrite {
    /// Replace a user's record. Condition: its version is still
    /// `state.version` (0: the record does not exist). Protects: no report,
    /// logout or kick-out of the same user interleaves unseen, so the
    /// device limit holds and a logout is never overwritten by a write that
    /// did not see it.
    PutUser { user: UserId, state: UserBindings },
    /// Make `user` the token's owner. Condition: the owner item is as read
    /// (`seen_version`, None: absent). Protects: a token is bound to at
    /// most one user; two users reporting one token cannot both win.
    PutOwner {
        cert: CertificateId,
        token: PushToken,
        user: UserId,
        device_key: String,
        expires_at: i64,
        seen_version: Option<u64>,
    },
    /// Remove the token's owner item if `user` still owns it. Condition:
    /// owner = user. Protects: ending one user's binding never deletes the
    /// ownership another user has since taken.
    DeleteOwner {
        cert: CertificateId,
        token: PushToken,
        user: UserId,
    },
}

fn device_to_av(b: &Binding) -> AttributeValue {
    let mut m = HashMap::from([
        (D_CERT.to_string(), n(b.certificate_id.get())),
        (D_TOKEN.to_string(), s(b.token.expose())),
        (D_REPORTED.to_string(), n(b.reported_at_ms)),
        (D_EXPIRES.to_string(), n(b.expires_at)),
    ]);
    if let Some(d) = &b.device_id {
        m.insert(D_DEVICE.to_string(), s(d.as_str()));
    }
    AttributeValue::M(m)
}

fn device_from_av(v: &AttributeValue) -> Result<Binding, StoreError> {
    let corrupt = || StoreError::Corrupt("binding entry".into());
    let m = v.as_m().map_err(|_| corrupt())?;
    Ok(Binding {
        certificate_id: CertificateId::new(get_n(m, D_CERT)?).ok_or_else(corrupt)?,
        token: PushToken::parse("token", get_s(m, D_TOKEN)?).map_err(|_| corrupt())?,
        device_id: opt_s(m, D_DEVICE)
            .map(|d| DeviceId::parse("device_id", d))
            .transpose()
            .map_err(|_| corrupt())?,
        reported_at_ms: get_n(m, D_REPORTED)?,
        expires_at: get_n(m, D_EXPIRES)?,
    })
}

fn ended_to_av(e: &Ended) -> AttributeValue {
    let why = match &e.why {
        EndReason::LoggedOutByDevice => "logout_device",
        EndReason::LoggedOutByAdmin => "logout_admin",
        EndReason::Kicked { .. } => "kicked",
        EndReason::TokenMoved => "token_moved",
        EndReason::TokenDead => "token_dead",
        EndReason::Expired => "expired",
    };
    let mut m = HashMap::from([
        (k::E_CERT.to_string(), n(e.certificate_id.get())),
        (k::E_WHY.to_string(), s(why)),
        (k::E_AT.to_string(), n(e.at_ms)),
    ]);
    if let Some(d) = &e.device_id {
        m.insert(k::E_DEVICE.to_string(), s(d.as_str()));
    }
    if let EndReason::Kicked { by_device: Some(d) } = &e.why {
        m.insert(k::E_BY_DEVICE.to_string(), s(d.as_str()));
    }
    AttributeValue::M(m)
}

fn ended_from_av(v: &AttributeValue) -> Result<Ended, StoreError> {
    let corrupt = || StoreError::Corrupt("binding ending".into());
    let m = v.as_m().map_err(|_| corrupt())?;
    let device = |name: &str| {
        opt_s(m, name)
            .map(|d| DeviceId::parse("device_id", d))
            .transpose()
            .map_err(|_| corrupt())
    };
    let why = match get_s(m, k::E_WHY)? {
        "logout_device" => EndReason::LoggedOutByDevice,
        "logout_admin" => EndReason::LoggedOutByAdmin,
        "kicked" => EndReason::Kicked {
            by_device: device(k::E_BY_DEVICE)?,
        },
        "token_moved" => EndReason::TokenMoved,
        "token_dead" => EndReason::TokenDead,
        "expired" => EndReason::Expired,
        _ => return Err(corrupt()),
    };
    Ok(Ended {
        certificate_id: CertificateId::new(get_n(m, k::E_CERT)?).ok_or_else(corrupt)?,
        device_id: device(k::E_DEVICE)?,
        why,
        at_ms: get_n(m, k::E_AT)?,
    })
}

fn user_from_item(item: &Item) -> Result<UserBindings, StoreError> {
    let mut devices = BTreeMap::new();
    if let Some(AttributeValue::M(m)) = item.get(k::USER_DEVICES) {
        for (key, v) in m {
            devices.insert(key.clone(), device_from_av(v)?);
        }
    }
    let mut device_logouts = BTreeMap::new();
    if let Some(AttributeValue::M(m)) = item.get(k::USER_DEVICE_LOGOUTS) {
        for (key, v) in m {
            let at: i64 = v
                .as_n()
                .ok()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| StoreError::Corrupt("device logout mark".into()))?;
            device_logouts.insert(key.clone(), at);
        }
    }
    let ended = match item.get(k::USER_ENDED) {
        Some(AttributeValue::L(l)) => l.iter().map(ended_from_av).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(UserBindings {
        ended,
        version: get_n(item, k::USER_VERSION)?,
        devices,
        device_logouts,
        logged_out_at_ms: opt_n(item, k::USER_LOGGED_OUT_AT)?,
        logouts_floor_ms: opt_n(item, k::USER_LOGOUTS_FLOOR)?,
    })
}

impl Store {
    fn user_key(app: &AppId, user: &UserId) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (k::PK.to_string(), s(k::user_pk(app, user))),
            (k::SK.to_string(), s(k::USER_SK)),
        ])
    }

    /// A user's record (strongly consistent), empty with version 0 if none.
    pub async fn get_user_bindings(
        &self,
        app: &AppId,
        user: &UserId,
    ) -> Result<UserBindings, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::user_key(app, user)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem user bindings"))?;
        match out.item {
            Some(item) => user_from_item(&item),
            None => Ok(UserBindings::default()),
        }
    }

    /// Many users' records: ceil(n / 100) BatchGetItem requests (plus
    /// retries of unprocessed keys). Users without a record are absent.
    pub async fn get_many_user_bindings(
        &self,
        app: &AppId,
        users: &[UserId],
    ) -> Result<(HashMap<UserId, UserBindings>, usize), StoreError> {
        let by_pk: HashMap<String, &UserId> =
            users.iter().map(|u| (k::user_pk(app, u), u)).collect();
        let keys = users.iter().map(|u| Self::user_key(app, u)).collect();
        let (items, requests) = self.batch_get_counted(keys, None).await?;
        let mut found = HashMap::new();
        for item in items {
            if let Some(user) = by_pk.get(get_s(&item, k::PK)?) {
                found.insert((*user).clone(), user_from_item(&item)?);
            }
        }
        Ok((found, requests))
    }

    pub async fn get_token_owner(
        &self,
        app: &AppId,
        cert: CertificateId,
        token: &PushToken,
    ) -> Result<Option<TokenOwner>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k::PK, s(k::token_pk(app, cert, token.expose())))
            .key(k::SK, s(k::OWNER_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err("GetItem token owner"))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        Ok(Some(TokenOwner {
            user: UserId::parse("owner", get_s(&item, k::OWNER_USER)?)
                .map_err(|_| StoreError::Corrupt("token owner".into()))?,
            device_key: get_s(&item, k::USER_DEVICES)?.to_string(),
            expires_at: get_n(&item, k::EXPIRES_AT)?,
            version: get_n(&item, k::USER_VERSION)?,
        }))
    }

    /// Applies the writes atomically. Ok(false): a condition failed (someone
    /// else changed a record since it was read): re-read and try again.
    pub async fn commit_bindings(
        &self,
        app: &AppId,
        writes: Vec<BindingWrite>,
    ) -> Result<bool, StoreError> {
        if writes.is_empty() {
            return Ok(true);
        }
        if writes.len() > TRANSACT_MAX {
            return Err(StoreError::Corrupt(format!(
                "{} writes exceed one transaction",
                writes.len()
            )));
        }
        if writes.len() == 1 {
            // One write needs no transaction: the same condition on a plain
            // request is as atomic and costs half the capacity.
            return self
                .commit_single(app, writes.into_iter().next().expect("one write"))
                .await;
        }
        let mut items = Vec::with_capacity(writes.len());
        for w in writes {
            items.push(self.transact_item(app, w)?);
        }
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            // A lost race is retried after a re-read; anything else is a real error.
            Err(e) if transaction_lost_race(&e) => Ok(false),
            Err(e) => Err(sdk_err("TransactWriteItems bindings")(e)),
        }
    }

    async fn commit_single(&self, app: &AppId, w: BindingWrite) -> Result<bool, StoreError> {
        let item = self.transact_item(app, w)?;
        let res = if let Some(p) = item.put {
            self.client
                .put_item()
                .table_name(p.table_name)
                .set_item(Some(p.item))
                .set_condition_expression(p.condition_expression)
                .set_expression_attribute_names(p.expression_attribute_names)
                .set_expression_attribute_values(p.expression_attribute_values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (lost_race(&e), sdk_err("PutItem bindings")(e)))
        } else if let Some(d) = item.delete {
            self.client
                .delete_item()
                .table_name(d.table_name)
                .set_key(Some(d.key))
                .set_condition_expression(d.condition_expression)
                .set_expression_attribute_names(d.expression_attribute_names)
                .set_expression_attribute_values(d.expression_attribute_values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| (lost_race(&e), sdk_err("DeleteItem bindings")(e)))
        } else {
            return Err(StoreError::Corrupt("empty binding write".into()));
        };
        match res {
            Ok(()) => Ok(true),
            Err((true, _)) => Ok(false),
            Err((false, e)) => Err(e),
        }
    }

    fn transact_item(&self, app: &AppId, w: BindingWrite) -> Result<TransactWriteItem, StoreError> {
        let build_err = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Corrupt(e.to_string());
        Ok(match w {
            BindingWrite::PutUser { user, state } => {
                let mut item = Self::user_key(app, &user);
                item.insert(k::USER_ID.into(), s(user.as_str()));
                item.insert(k::USER_VERSION.into(), n(state.version + 1));
                item.insert(
                    k::USER_DEVICES.into(),
                    AttributeValue::M(
                        state
                            .devices
                            .iter()
                            .map(|(key, b)| (key.clone(), device_to_av(b)))
                            .collect(),
                    ),
                );
                item.insert(
                    k::USER_DEVICE_LOGOUTS.into(),
                    AttributeValue::M(
                        state
                            .device_logouts
                            .iter()
                            .map(|(key, at)| (key.clone(), n(at)))
                            .collect(),
                    ),
                );
                if !state.ended.is_empty() {
                    item.insert(
                        k::USER_ENDED.into(),
                        AttributeValue::L(state.ended.iter().map(ended_to_av).collect()),
                    );
                }
                if let Some(at) = state.logged_out_at_ms {
                    item.insert(k::USER_LOGGED_OUT_AT.into(), n(at));
                }
                if let Some(at) = state.logouts_floor_ms {
                    item.insert(k::USER_LOGOUTS_FLOOR.into(), n(at));
                }
                item.insert(
                    k::EXPIRES_AT.into(),
                    n(state.item_expiry(crate::clock::now_ms())),
                );
                let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
                put = if state.version == 0 {
                    put.condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", k::PK)
                } else {
                    put.condition_expression("#v = :v")
                        .expression_attribute_names("#v", k::USER_VERSION)
                        .expression_attribute_values(":v", n(state.version))
                };
                TransactWriteItem::builder()
                    .put(put.build().map_err(build_err)?)
                    .build()
            }
            BindingWrite::PutOwner {
                cert,
                token,
                user,
                device_key,
                expires_at,
                seen_version,
            } => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .item(k::PK, s(k::token_pk(app, cert, token.expose())))
                    .item(k::SK, s(k::OWNER_SK))
                    .item(k::OWNER_USER, s(user.as_str()))
                    .item(k::USER_DEVICES, s(device_key))
                    .item(k::EXPIRES_AT, n(expires_at))
                    .item(k::USER_VERSION, n(seen_version.unwrap_or(0) + 1));
                let put = match seen_version {
                    None => put
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", k::PK),
                    Some(v) => put
                        .condition_expression("#v = :v")
                        .expression_attribute_names("#v", k::USER_VERSION)
                        .expression_attribute_values(":v", n(v)),
                };
                TransactWriteItem::builder()
                    .put(put.build().map_err(build_err)?)
                    .build()
            }
            BindingWrite::DeleteOwner { cert, token, user } => {
                let del = Delete::builder()
                    .table_name(&self.table)
                    .key(k::PK, s(k::token_pk(app, cert, token.expose())))
                    .key(k::SK, s(k::OWNER_SK))
                    .condition_expression("attribute_not_exists(#pk) OR #o = :me")
                    .expression_attribute_names("#pk", k::PK)
                    .expression_attribute_names("#o", k::OWNER_USER)
                    .expression_attribute_values(":me", s(user.as_str()))
                    .build()
                    .map_err(build_err)?;
                TransactWriteItem::builder().delete(del).build()
            }
        })
    }
}
