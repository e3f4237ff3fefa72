//! Xiaomi's credentials (API.md: `app_secret` secret, `package_name`,
//! `region` cn | global | eea | ru | in) and sending options (`channel_id`,
//! `template_id`): parsing, stored attributes, masked views, the account.

use offpush::domain::input::Obj;
use offpush::domain::{credential_text, Secret, VendorData};
use offpush::store::keys;
use offpush::ServiceError;
use serde_json::{json, Value};

pub const ATTR_APP_SECRET: &str = "xiaomi_app_secret";
pub const ATTR_PACKAGE: &str = "xiaomi_package_name";
pub const ATTR_REGION: &str = "xiaomi_region";
pub const OPT_CHANNEL: &str = "channel_id";
pub const OPT_TEMPLATE: &str = "template_id";
pub const OPT_PUBLIC_CHANNEL: &str = "public_channel_id";

/// The MiPush host of the devices' region (VENDORS_API.md 1.1 [C]: the
/// host must match the device's region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Cn,
    Global,
    Eea,
    Ru,
    In,
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::Cn,
        Region::Global,
        Region::Eea,
        Region::Ru,
        Region::In,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Cn => "cn",
            Region::Global => "global",
            Region::Eea => "eea",
            Region::Ru => "ru",
            Region::In => "in",
        }
    }

    /// VENDORS_API.md 1.1 [C]: mainland China, other countries (Singapore),
    /// EEA and UK (Frankfurt), Russia, India.
    pub fn host(self) -> &'static str {
        match self {
            Region::Cn => "https://api.xmpush.xiaomi.com",
            Region::Global => "https://sgp-api.xmpush.global.xiaomi.com",
            Region::Eea => "https://fr-api.xmpush.global.xiaomi.com",
            Region::Ru => "https://ru-api.xmpush.global.xiaomi.com",
            Region::In => "https://idmb-api.xmpush.global.xiaomi.com",
        }
    }

    fn parse(field: &str, s: &str) -> Result<Region, ServiceError> {
        Region::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| ServiceError::invalid(field, "must be one of cn, global, eea, ru, in"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XiaomiCredentials {
    pub app_secret: Secret,
    pub package_name: String,
    pub region: Region,
}

/// An Android package name: dot-separated Java identifiers (letters,
/// digits, `_`), at least two parts. Xiaomi answers 22022 for a wrong one;
/// a malformed one is refused here, naming the field.
fn parse_package(field: &str, s: String) -> Result<String, ServiceError> {
    let s = credential_text(field, s)?;
    let ok = s.split('.').count() >= 2
        && s.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if !ok {
        return Err(ServiceError::invalid(
            field,
            "must be an Android package name (com.example.app)",
        ));
    }
    Ok(s)
}

impl XiaomiCredentials {
    /// Parses `credentials`; `app_secret` may be omitted when `stored`
    /// holds one (an edit keeping it).
    pub fn parse(mut creds: Obj, stored: Option<&VendorData>) -> Result<Self, ServiceError> {
        creds.deny_unknown(&["app_secret", "package_name", "region"])?;
        let f_secret = creds.name("app_secret");
        let app_secret = match creds.opt_str("app_secret")? {
            Some(s) => Secret::new(credential_text(&f_secret, s)?),
            None => match stored.and_then(|d| d.s(ATTR_APP_SECRET)) {
                Some(s) => Secret::new(s),
                None => return Err(ServiceError::invalid(f_secret, "is required")),
            },
        };
        let f_package = creds.name("package_name");
        let package_name = parse_package(&f_package, creds.req_str("package_name")?)?;
        let f_region = creds.name("region");
        let region = match creds.opt_str("region")? {
            Some(r) => Region::parse(&f_region, &r)?,
            None => Region::Cn,
        };
        Ok(XiaomiCredentials {
            app_secret,
            package_name,
            region,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        d.set_s(ATTR_APP_SECRET, self.app_secret.expose());
        d.set_s(ATTR_PACKAGE, &self.package_name);
        d.set_s(ATTR_REGION, self.region.as_str());
        d
    }

    pub fn from_data(d: &VendorData) -> Option<Self> {
        Some(XiaomiCredentials {
            app_secret: Secret::new(d.s(ATTR_APP_SECRET)?),
            package_name: d.s(ATTR_PACKAGE)?.to_string(),
            region: Region::parse("region", d.s(ATTR_REGION)?).ok()?,
        })
    }

    pub fn view(&self) -> Value {
        json!({
            "app_secret": self.app_secret.masked(),
            "package_name": self.package_name,
            "region": self.region.as_str(),
        })
    }

    /// The table partition of one Xiaomi app on one regional service: the
    /// AppSecret identifies the app (VENDORS_API.md 1.2) and quotas are
    /// counted per app (1.6); each region is a service of its own. A
    /// changed secret starts clean.
    pub fn account_key(&self) -> String {
        let digest = keys::credential_digest(&[&self.package_name, self.app_secret.expose()]);
        keys::vendor_pk(
            "xiaomi",
            &format!("{}#{}#{digest}", self.region.as_str(), self.package_name),
        )
    }
}

/// `vendor_options` as Xiaomi takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XiaomiOptions {
    /// The channel applied for in the Xiaomi console (a private channel
    /// for IM; VENDORS_API.md 1.6, 11: required under the new rules).
    pub channel_id: Option<String>,
    /// A private-message template: the title and desc then go out as its
    /// parameters (VENDORS_API.md 1.6, pId=2314).
    pub template_id: Option<String>,
    /// Extension: the public channel for operational categories (NEWS,
    /// CONTENT, MARKETING, SOCIAL), which Xiaomi does not let through a
    /// private channel (1.6). Without it such pushes go with no channel
    /// (Xiaomi's default class: 1 a device a day, where it still exists).
    pub public_channel_id: Option<String>,
}

impl XiaomiOptions {
    pub fn parse(raw: Option<Obj>) -> Result<Self, ServiceError> {
        let Some(mut o) = raw else {
            return Ok(XiaomiOptions::default());
        };
        o.deny_unknown(&[OPT_CHANNEL, OPT_TEMPLATE, OPT_PUBLIC_CHANNEL])?;
        let f_channel = o.name(OPT_CHANNEL);
        let channel_id = o
            .opt_str(OPT_CHANNEL)?
            .map(|c| credential_text(&f_channel, c))
            .transpose()?;
        let f_template = o.name(OPT_TEMPLATE);
        let template_id = o
            .opt_str(OPT_TEMPLATE)?
            .map(|t| credential_text(&f_template, t))
            .transpose()?;
        let f_public = o.name(OPT_PUBLIC_CHANNEL);
        let public_channel_id = o
            .opt_str(OPT_PUBLIC_CHANNEL)?
            .map(|c| credential_text(&f_public, c))
            .transpose()?;
        if template_id.is_some() && channel_id.is_none() {
            return Err(ServiceError::invalid(
                f_channel,
                "is required with template_id: Xiaomi's private-message templates belong to a private channel",
            ));
        }
        Ok(XiaomiOptions {
            channel_id,
            template_id,
            public_channel_id,
        })
    }

    pub fn to_data(&self) -> VendorData {
        let mut d = VendorData::new();
        if let Some(c) = &self.channel_id {
            d.set_s(OPT_CHANNEL, c);
        }
        if let Some(t) = &self.template_id {
            d.set_s(OPT_TEMPLATE, t);
        }
        if let Some(c) = &self.public_channel_id {
            d.set_s(OPT_PUBLIC_CHANNEL, c);
        }
        d
    }

    pub fn from_data(d: &VendorData) -> Self {
        XiaomiOptions {
            channel_id: d.s(OPT_CHANNEL).map(str::to_string),
            template_id: d.s(OPT_TEMPLATE).map(str::to_string),
            public_channel_id: d.s(OPT_PUBLIC_CHANNEL).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offpush::domain::input::parse_body;

    fn creds(json: &str, stored: Option<&VendorData>) -> Result<XiaomiCredentials, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        XiaomiCredentials::parse(body.req_obj("credentials").unwrap(), stored)
    }

    fn options(json: &str) -> Result<XiaomiOptions, ServiceError> {
        let mut body = parse_body(json.as_bytes()).unwrap();
        XiaomiOptions::parse(body.opt_obj("vendor_options").unwrap())
    }

    #[test]
    fn every_bad_field_is_named() {
        for (json, field) in [
            (
                r#"{"credentials":{"package_name":"com.a.b"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_secret":"","package_name":"com.a.b"}}"#,
                "credentials.app_secret",
            ),
            (
                r#"{"credentials":{"app_secret":"s"}}"#,
                "credentials.package_name",
            ),
            (
                r#"{"credentials":{"app_secret":"s","package_name":"nodots"}}"#,
                "credentials.package_name",
            ),
            (
                r#"{"credentials":{"app_secret":"s","package_name":"com.1a"}}"#,
                "credentials.package_name",
            ),
            (
                r#"{"credentials":{"app_secret":"s","package_name":"com.a","region":"us"}}"#,
                "credentials.region",
            ),
            (
                r#"{"credentials":{"app_secret":"s","package_name":"com.a","app_id":"1"}}"#,
                "credentials.app_id",
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
                r#"{"vendor_options":{"channel":"x"}}"#,
                "vendor_options.channel",
            ),
            (
                r#"{"vendor_options":{"channel_id":""}}"#,
                "vendor_options.channel_id",
            ),
            (
                r#"{"vendor_options":{"template_id":"t1"}}"#,
                "vendor_options.channel_id",
            ),
            (
                r#"{"vendor_options":{"channel_id":7}}"#,
                "vendor_options.channel_id",
            ),
        ] {
            assert_eq!(options(json).unwrap_err().field(), Some(field), "{json}");
        }
    }

    #[test]
    fn defaults_round_trips_and_masking() {
        let c = creds(
            r#"{"credentials":{"app_secret":"abcdefgh-secret-x9Z","package_name":"com.example.im"}}"#,
            None,
        )
        .unwrap();
        assert_eq!(c.region, Region::Cn);
        let d = c.to_data();
        assert!(d.iter().all(|(k, _)| k.starts_with("xiaomi_")));
        assert_eq!(XiaomiCredentials::from_data(&d), Some(c.clone()));
        let v = c.view();
        assert_eq!(v["app_secret"], "****x9Z");
        assert!(!v.to_string().contains("abcdefgh"));
        // An edit keeps the stored secret.
        let kept = creds(
            r#"{"credentials":{"package_name":"com.example.im","region":"eea"}}"#,
            Some(&d),
        )
        .unwrap();
        assert_eq!(kept.app_secret, c.app_secret);
        assert_eq!(
            kept.region.host(),
            "https://fr-api.xmpush.global.xiaomi.com"
        );
        assert_ne!(
            kept.account_key(),
            c.account_key(),
            "each region its own account"
        );
        let o = options(r#"{"vendor_options":{"channel_id":"im_private","template_id":"t1","public_channel_id":"news"}}"#)
            .unwrap();
        assert_eq!(XiaomiOptions::from_data(&o.to_data()), o);
        assert_eq!(options("{}").unwrap(), XiaomiOptions::default());
    }

    #[test]
    fn every_region_has_its_documented_host() {
        let hosts: Vec<&str> = Region::ALL.iter().map(|r| r.host()).collect();
        assert_eq!(
            hosts,
            [
                "https://api.xmpush.xiaomi.com",
                "https://sgp-api.xmpush.global.xiaomi.com",
                "https://fr-api.xmpush.global.xiaomi.com",
                "https://ru-api.xmpush.global.xiaomi.com",
                "https://idmb-api.xmpush.global.xiaomi.com",
            ]
        );
    }
}
