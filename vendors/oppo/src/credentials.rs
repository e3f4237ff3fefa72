//! OPPO's credentials (API.md: `app_key`, `master_secret` secret, `region`
//! cn | intl) and sending options (`channel_id`, `private_template_id`):
//! parsing, stored attributes, masked views, the account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_APP_KEY: &str = "oppo_app_key";
pub const ATTR_MASTER_SECRET: &str = "oppo_master_secret";
pub const ATTR_REGION: &str = "oppo_region";
pub const OPT_CHANNEL: &str = "channel_id";
pub const OPT_TEMPLATE: &str = "private_template_id";

/// OPPO's host for the devices' region (VENDORS_API.md 2.1 [C]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Cn,
    Intl,
}

impl Region {
    pub const ALL: [Region; 2] = [Region::Cn, Region::Intl];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Cn => "cn",
            Region::Intl => "intl",
        }
    }

    /// 2.1 [C]: China and overseas hosts.
    pub fn host(self) -> &'static str {
        match self {
            Region::Cn => "https://api.push.oppomobile.com",
            Region::Intl => "https://api-intl.push.oppomobile.com",
        }
    }

    fn parse(field: &str, s: &str) -> Result<Region, ServiceError> {
        Region::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ServiceError::invalid(field, "must be one of cn, intl"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OppoCredentials {
    /// The AppKey of the OPUSH console: it identifies the app (2.2), and is
    /// not a secret (it travels in every auth call's form).
    pub app_key: String,
    /// The MasterSecret the auth sign is made with (2.2: not the AppSecret).
    pub master_secret: Secret,
    pub region: Region,
}

impl OppoCredentials {
    /// Parses `credentials`; `master_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_key", "master_secret", "region"])?;
        let f_key = creds.name("app_key");
        let app_key = credential_text(&f_key, creds.req_str("app_key")?)?;
        let f_secret = creds.name("master_secret");
        let master_secret = match creds.opt_str("master_secret")? {
            Some(s) => Secret::new(credential_text(&f_secret, s)?),
            None => match stored.and_then(|d| d.s(ATTR_MASTER_SECRET)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_secret, "is required")),
            },
        };
        let f_region = creds.name("region");
        let region = match creds.opt_str("region")? {
            Some(r) => Region::parse(&f_region, &r)?,
            None => Region::Cn,
        };
        Ok(OppoCredentials {
            app_key,
            master_secret,
            region,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_APP_KEY, &self.app_key);
        d.set_s(ATTR_MASTER_SECRET, self.master_secret.expose());
        d.set_s(ATTR_REGION, self.region.as_str());
        d
    }

    /// None when the stored attributes are not an OPPO credential set.
    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(OppoCredentials {
            app_key: d.s(ATTR_APP_KEY)?.to_string(),
            master_secret: Secret::new(d.s(ATTR_MASTER_SECRET)?),
            region: Region::parse("region", d.s(ATTR_REGION)?).ok()?,
        })
    }

    pub fn view(&self) -> Value {
        json!({
            "app_key": self.app_key,
            "master_secret": self.master_secret.masked(),
            "region": self.region.as_str(),
        })
    }

    /// The table partition of one OPPO app on one regional service: the
    /// AppKey identifies the app, whose auth_token, call limits and daily
    /// totals OPPO counts (2.2, 2.5, 2.8); each region is a service of its
    /// own. A changed secret starts clean (no old token, no old pause).
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.app_key, self.master_secret.expose()]);
        keys::vendor_pk(
            "oppo",
            &format!("{}#{}#{digest}", self.region.as_str(), self.app_key),
        )
    }
}

/// `vendor_options` as OPPO takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OppoOptions {
    /// The IM private (service & communication) channel registered in the
    /// OPUSH console (2.4 `channel_id`, 2.5).
    pub channel_id: Option<String>,
    /// A private-message template of that channel (2.4
    /// `private_msg_template_id`; 11: required for IM private messages
    /// since 2025-2026 [U]).
    pub private_template_id: Option<String>,
}

impl OppoOptions {
    pub fn parse(raw: Option<Obj>) -> Result<Self, ServiceError> {
        let Some(mut o) = raw else {
            return Ok(OppoOptions::default());
        };
        o.deny_unknown(&[OPT_CHANNEL, OPT_TEMPLATE])?;
        let f_channel = o.name(OPT_CHANNEL);
        let channel_id = o
            .opt_str(OPT_CHANNEL)?
            .map(|c| credential_text(&f_channel, c))
            .transpose()?;
        let f_template = o.name(OPT_TEMPLATE);
        let private_template_id = o
            .opt_str(OPT_TEMPLATE)?
            .map(|t| credential_text(&f_template, t))
            .transpose()?;
        if private_template_id.is_some() && channel_id.is_none() {
            return Err(ServiceError::invalid(
                f_channel,
                "is required with private_template_id: OPPO's private templates belong to the IM private channel",
            ));
        }
        Ok(OppoOptions {
            channel_id,
            private_template_id,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        if let Some(c) = &self.channel_id {
            d.set_s(OPT_CHANNEL, c);
        }
        if let Some(t) = &self.private_template_id {
            d.set_s(OPT_TEMPLATE, t);
        }
        d
    }

    pub fn from_data(d: &VendorData) -> Self {
        OppoOptions {
            channel_id: d.s(OPT_CHANNEL).map(str::to_string),
            private_template_id: d.s(OPT_TEMPLATE).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<OppoCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        OppoCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    fn options(json: &str) -> Result<OppoOptions, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        OppoOptions::parse(body.opt_obj("vendor_options").unwrap())
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"master_secret":"s"}}"#,
                "credentials.app_key",
            ),
            (
                r#"{"credentials":{"app_key":"","master_secret":"s"}}"#,
                "credentials.app_key",
            ),
            (
                r#"{"credentials":{"app_key":"k"}}"#,
                "credentials.master_secret",
            ),
            (
                r#"{"credentials":{"app_key":"k","master_secret":" s"}}"#,
                "credentials.master_secret",
            ),
            (
                r#"{"credentials":{"app_key":"k","master_secret":"s","region":"eu"}}"#,
                "credentials.region",
            ),
            (
                r#"{"credentials":{"app_key":"k","master_secret":"s","app_secret":"x"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_key":7,"master_secret":"s"}}"#,
                "credentials.app_key",
            ),
        ] {
            assert_eq!(
                creds(json, None).unwrap_err().field(),
                Some(field),
                "{json}"
            );
        }
        for (json, field) in [
            (
                r#"{"vendor_options":{"template_id":"x"}}"#,
                "vendor_options.template_id",
            ),
            (
                r#"{"vendor_options":{"channel_id":""}}"#,
                "vendor_options.channel_id",
            ),
            (
                r#"{"vendor_options":{"private_template_id":"t1"}}"#,
                "vendor_options.channel_id",
            ),
            (
                r#"{"vendor_options":{"channel_id":"c","private_template_id":5}}"#,
                "vendor_options.private_template_id",
            ),
        ] {
            assert_eq!(options(json).unwrap_err().field(), Some(field), "{json}");
        }
    }

    #[test]
    fn defaults_round_trips_and_masking() {
        let c = creds(
            r#"{"credentials":{"app_key":"ak-123","master_secret":"abcdefgh-master-c21"}}"#,
            None,
        )
        .unwrap();
        assert_eq!(c.region, Region::Cn);
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("oppo_")));
        assert_eq!(OppoCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["master_secret"], "****c21");
        assert_eq!(v["app_key"], "ak-123");
        assert_eq!(v["region"], "cn");
        assert!(!v.to_string().contains("abcdefgh"));
        assert!(!format!("{c:?}").contains("abcdefgh"));
        // An edit keeps the stored secret.
        let kept = creds(
            r#"{"credentials":{"app_key":"ak-123","region":"intl"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(kept.master_secret, c.master_secret);
        assert_eq!(kept.region.host(), "https://api-intl.push.oppomobile.com");
        assert_ne!(
            kept.account_key(),
            c.account_key(),
            "each region its own account"
        );
        assert!(!c.account_key().contains("abcdefgh"));
        let o = options(r#"{"vendor_options":{"channel_id":"im","private_template_id":"t1"}}"#)
            .unwrap();
        assert_eq!(OppoOptions::from_data(&o.to_data()), o);
        assert_eq!(options("{}").unwrap(), OppoOptions::default());
        assert!(OppoOptions::default().to_data().is_empty());
    }

    #[test]
    fn every_region_has_its_documented_host() {
        let hosts: Vec<&str> = Region::ALL.iter().map(|r| r.host()).collect();
        assert_eq!(
            hosts,
            [
                "https://api.push.oppomobile.com",
                "https://api-intl.push.oppomobile.com"
            ]
        );
    }
}
