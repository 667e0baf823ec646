//! The rules of accounts, keys and push credentials that every backend
//! applies the same way; the backends only read and write the rows.

use crate::{ApiKey, PushAuth, StoreError};

/// Which account a new key for these SdkAppIds joins, given each one's
/// owner: `None` for a new account (no SdkAppId is owned), the owner when
/// all of them belong to it, an error when they belong to different
/// accounts, only some have an owner, or there are none.
pub(crate) fn key_account(owners: &[(i64, Option<i64>)]) -> Result<Option<i64>, StoreError> {
    if owners.is_empty() {
        return Err(StoreError::Invalid(
            "a key needs at least one SdkAppId".into(),
        ));
    }
    let Some((app, owner)) = owners
        .iter()
        .find_map(|&(app, owner)| owner.map(|o| (app, o)))
    else {
        return Ok(None);
    };
    if owners.iter().any(|&(_, o)| o != Some(owner)) {
        return Err(StoreError::AppOwnedElsewhere {
            sdk_app_id: app,
            owner,
        });
    }
    Ok(Some(owner))
}

/// Copying an SdkAppId of `account` into a store where `owner` owns it (or
/// nobody): true when it must be inserted, an error when another account
/// owns it.
pub(crate) fn copy_app(app: i64, account: i64, owner: Option<i64>) -> Result<bool, StoreError> {
    match owner {
        Some(owner) if owner != account => Err(StoreError::AppOwnedElsewhere {
            sdk_app_id: app,
            owner,
        }),
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// Copying `key` into a store that holds `existing` (its SecretKey and
/// account) under the same SecretId, or nothing: true when it must be
/// inserted, false when only its enabled flag is to be copied, an error
/// when the SecretId means another key there.
pub(crate) fn copy_key(key: &ApiKey, existing: Option<(String, i64)>) -> Result<bool, StoreError> {
    match existing {
        Some((secret, account)) if secret != key.secret_key || account != key.account_id => {
            Err(StoreError::Invalid(format!(
                "SecretId {} already exists here with another key or account",
                key.secret_id
            )))
        }
        Some(_) => Ok(false),
        None => Ok(true),
    }
}

/// The push auth of an `app_setting` row's (kind, user, secret) columns.
pub(crate) fn push_auth_from(kind: &str, user: String, secret: String) -> Option<PushAuth> {
    match kind {
        "none" => Some(PushAuth::Open),
        "basic" => Some(PushAuth::Basic {
            user,
            password_hash: secret,
        }),
        "oauth2" => Some(PushAuth::OAuth2 {
            client_id: user,
            secret_hash: secret,
        }),
        _ => None,
    }
}

/// The (kind, user, secret) columns of a push auth; ("", "", "") for none.
pub(crate) fn push_auth_columns(auth: Option<&PushAuth>) -> (&'static str, String, String) {
    match auth {
        None => ("", String::new(), String::new()),
        Some(PushAuth::Open) => ("none", String::new(), String::new()),
        Some(PushAuth::Basic {
            user,
            password_hash,
        }) => ("basic", user.clone(), password_hash.clone()),
        Some(PushAuth::OAuth2 {
            client_id,
            secret_hash,
        }) => ("oauth2", client_id.clone(), secret_hash.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_joins_the_one_owner_or_a_new_account() {
        assert!(matches!(key_account(&[]), Err(StoreError::Invalid(_))));
        assert_eq!(key_account(&[(1, None), (2, None)]).unwrap(), None);
        assert_eq!(key_account(&[(1, Some(7)), (2, Some(7))]).unwrap(), Some(7));
        assert!(matches!(
            key_account(&[(1, Some(7)), (2, Some(8))]),
            Err(StoreError::AppOwnedElsewhere {
                sdk_app_id: 1,
                owner: 7
            })
        ));
        // Partly owned: refused, naming the owned one.
        assert!(matches!(
            key_account(&[(1, None), (2, Some(8))]),
            Err(StoreError::AppOwnedElsewhere {
                sdk_app_id: 2,
                owner: 8
            })
        ));
    }

    #[test]
    fn copies_never_take_over_another_accounts_rows() {
        assert!(copy_app(1, 7, None).unwrap());
        assert!(!copy_app(1, 7, Some(7)).unwrap());
        assert!(copy_app(1, 7, Some(8)).is_err());
        let key = ApiKey {
            secret_id: "AKID".into(),
            secret_key: "s".into(),
            account_id: 7,
            enabled: true,
            created_at: 0,
        };
        assert!(copy_key(&key, None).unwrap());
        assert!(!copy_key(&key, Some(("s".into(), 7))).unwrap());
        assert!(copy_key(&key, Some(("other".into(), 7))).is_err());
        assert!(copy_key(&key, Some(("s".into(), 8))).is_err());
    }
}
