//! The `notification` fields of §2.4 and the classification rules of §2.5,
//! read from a unicast message's JSON object or from the flattened form
//! fields of `save_message_content` (the code table is in lib.rs).

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use sim_kit::Reply;

use crate::oppo::{invalid, missing, Callback, Checked};
use crate::{MessageClass, SimApp, TemplateRule};

/// Code 67: category / notify_level / private channel error (§2.5).
pub(crate) const CATEGORY_ERROR: i64 = 67;

const TITLE_MAX: usize = 50;
const SUB_TITLE_MAX: usize = 10;
/// `content` of style 1: both readings of the §2.4 CONFLICT (200 vs 50).
const CONTENT_MAX_STANDARD: usize = 200;
const CONTENT_MAX_LONG_TEXT: usize = 128;
const CONTENT_MAX_BIG_PICTURE: usize = 50;
const ACTIVITY_MAX: usize = 500;
/// Both readings of the §2.4 CONFLICT (2000 vs 500).
const CLICK_URL_MAX: usize = 2000;
const ACTION_PARAMETERS_MAX: usize = 4000;
/// 10 days: longer `off_line_ttl` values are clamped (§2.4).
pub(crate) const OFF_LINE_TTL_MAX: i64 = 864_000;
/// Both readings of the §2.4 CONFLICT (21600..=172800 vs 0..=12/24 h).
const SHOW_TTL_MAX: i64 = 172_800;
const CALL_BACK_URL_MAX: usize = 200;
/// Both readings of the §2.7 CONFLICT (100 vs 50).
const CALL_BACK_PARAMETER_MAX: usize = 100;
const FIX_SPEED_RATE: (i64, i64) = (1000, 10_000);

/// Service & communication categories (§2.5).
pub(crate) const SERVICE_CATEGORIES: [&str; 6] = [
    "IM",
    "ACCOUNT",
    "TODO",
    "DEVICE_REMINDER",
    "ORDER",
    "SUBSCRIPTION",
];
/// Content & marketing categories (§2.5).
pub(crate) const PUBLIC_CATEGORIES: [&str; 4] = ["NEWS", "CONTENT", "MARKETING", "SOCIAL"];

/// Where the fields come from.
pub(crate) enum Source<'a> {
    /// A unicast message's `notification` object: JSON types.
    Json(&'a Map<String, Value>),
    /// `save_message_content`'s form fields: every value is text.
    Form(&'a BTreeMap<String, String>),
}

/// One field's value as sent.
enum Raw<'a> {
    Json(&'a Value),
    Text(&'a str),
}

/// Reads fields by their snake_case names (and camelCase ones when asked).
pub(crate) struct Reader<'a> {
    source: Source<'a>,
    camel_case: bool,
    /// Where the fields are, for messages: `notification` or the form.
    place: String,
}

/// `click_action_type` -> `clickActionType`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Reader<'a> {
    pub(crate) fn new(source: Source<'a>, camel_case: bool, place: &str) -> Reader<'a> {
        Reader {
            source,
            camel_case,
            place: place.to_owned(),
        }
    }

    fn name(&self, field: &str) -> String {
        if self.place.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.place)
        }
    }

    /// A field's value; JSON null and empty text count as absent.
    fn raw(&self, field: &str) -> Option<Raw<'a>> {
        let look = |key: &str| -> Option<Raw<'a>> {
            match &self.source {
                Source::Json(map) => map
                    .get(key)
                    .filter(|v| !v.is_null() && v.as_str() != Some(""))
                    .map(Raw::Json),
                Source::Form(map) => map
                    .get(key)
                    .filter(|v| !v.is_empty())
                    .map(|v| Raw::Text(v.as_str())),
            }
        };
        look(field).or_else(|| {
            if self.camel_case {
                look(&camel(field))
            } else {
                None
            }
        })
    }

    /// A string field (a JSON string; any form text).
    pub(crate) fn string(&self, field: &str) -> Checked<Option<String>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Raw::Text(text)) => Ok(Some(text.to_owned())),
            Some(Raw::Json(Value::String(text))) => Ok(Some(text.clone())),
            Some(Raw::Json(_)) => Err(invalid(&self.name(field), "must be a string")),
        }
    }

    /// An integer field (a JSON integer; form text of an optional `-` and
    /// digits).
    pub(crate) fn int(&self, field: &str) -> Checked<Option<i64>> {
        let number = match self.raw(field) {
            None => return Ok(None),
            Some(Raw::Text(text)) => text.parse::<i64>().ok().filter(|_| !text.starts_with('+')),
            Some(Raw::Json(value)) => value.as_i64(),
        };
        number
            .map(Some)
            .ok_or_else(|| invalid(&self.name(field), "must be an integer"))
    }

    /// A boolean field (a JSON boolean; form text `true` / `false`).
    pub(crate) fn boolean(&self, field: &str) -> Checked<Option<bool>> {
        match self.raw(field) {
            None => Ok(None),
            Some(Raw::Text("true")) | Some(Raw::Json(Value::Bool(true))) => Ok(Some(true)),
            Some(Raw::Text("false")) | Some(Raw::Json(Value::Bool(false))) => Ok(Some(false)),
            Some(_) => Err(invalid(&self.name(field), "must be true or false")),
        }
    }
}

/// A notification that passed every check.
#[derive(Clone, Debug)]
pub(crate) struct Notification {
    /// The known fields, snake_case, typed.
    pub(crate) fields: Map<String, Value>,
    pub(crate) title: String,
    pub(crate) content: String,
    pub(crate) class: MessageClass,
    pub(crate) category: Option<String>,
    pub(crate) channel_id: Option<String>,
    pub(crate) notify_level: Option<i64>,
    /// Clamped to [`OFF_LINE_TTL_MAX`].
    pub(crate) off_line_ttl: Option<i64>,
    pub(crate) app_message_id: Option<String>,
    pub(crate) callback: Option<Callback>,
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// An absolute `http://` or `https://` URL with a host.
pub(crate) fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host())
}

/// Collects the typed fields as they are read.
struct Collector<'r, 'a> {
    reader: &'r Reader<'a>,
    fields: Map<String, Value>,
}

impl Collector<'_, '_> {
    fn string(&mut self, field: &str) -> Checked<Option<String>> {
        let value = self.reader.string(field)?;
        if let Some(value) = &value {
            self.fields
                .insert(field.to_owned(), Value::String(value.clone()));
        }
        Ok(value)
    }

    /// A string of at most `max` characters.
    fn text(&mut self, field: &str, max: usize) -> Checked<Option<String>> {
        let value = self.string(field)?;
        if let Some(text) = &value {
            if chars(text) > max {
                return Err(self.invalid(field, format!("at most {max} characters")));
            }
        }
        Ok(value)
    }

    fn int(&mut self, field: &str) -> Checked<Option<i64>> {
        let value = self.reader.int(field)?;
        if let Some(value) = value {
            self.fields
                .insert(field.to_owned(), Value::Number(Number::from(value)));
        }
        Ok(value)
    }

    /// An integer in `min..=max`.
    fn range(&mut self, field: &str, min: i64, max: i64) -> Checked<Option<i64>> {
        let value = self.int(field)?;
        match value {
            Some(n) if !(min..=max).contains(&n) => {
                Err(self.invalid(field, format!("must be in {min}..={max}")))
            }
            _ => Ok(value),
        }
    }

    /// An integer that is one of `allowed`.
    fn one_of(&mut self, field: &str, allowed: &[i64]) -> Checked<Option<i64>> {
        let value = self.int(field)?;
        match value {
            Some(n) if !allowed.contains(&n) => {
                Err(self.invalid(field, format!("must be one of {allowed:?}")))
            }
            _ => Ok(value),
        }
    }

    fn boolean(&mut self, field: &str) -> Checked<Option<bool>> {
        let value = self.reader.boolean(field)?;
        if let Some(value) = value {
            self.fields.insert(field.to_owned(), Value::Bool(value));
        }
        Ok(value)
    }

    fn invalid(&self, field: &str, why: impl AsRef<str>) -> Reply {
        invalid(&self.reader.name(field), why)
    }

    fn missing(&self, field: &str) -> Reply {
        missing(&self.reader.name(field))
    }
}

fn category_error(why: impl AsRef<str>) -> Reply {
    crate::oppo::error(CATEGORY_ERROR, why)
}

/// A JSON object of string values, given as a string.
fn string_map(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map.values().all(Value::is_string),
        _ => false,
    }
}

/// Every check of §2.4 and §2.5, in lib.rs's order. `broadcast`: the body
/// of `save_message_content` (style 3 and the broadcast-only fields).
pub(crate) fn check(reader: &Reader<'_>, app: &SimApp, broadcast: bool) -> Checked<Notification> {
    let mut c = Collector {
        reader,
        fields: Map::new(),
    };
    let Some(title) = c.text("title", TITLE_MAX)? else {
        return Err(c.missing("title"));
    };
    if title.trim().is_empty() {
        return Err(c.missing("title"));
    }
    c.text("sub_title", SUB_TITLE_MAX)?;
    let style = c.one_of("style", &[1, 2, 3])?.unwrap_or(1);
    if style == 3 && !broadcast {
        return Err(c.invalid("style", "3 (big picture) is for broadcasts only"));
    }
    let content_max = match style {
        2 => CONTENT_MAX_LONG_TEXT,
        3 => CONTENT_MAX_BIG_PICTURE,
        _ => CONTENT_MAX_STANDARD,
    };
    let Some(content) = c.text("content", content_max)? else {
        return Err(c.missing("content"));
    };
    if content.trim().is_empty() {
        return Err(c.missing("content"));
    }
    let app_message_id = c.string("app_message_id")?;

    let click = c
        .one_of("click_action_type", &[0, 1, 2, 4, 5])?
        .unwrap_or(0);
    let activity = c.text("click_action_activity", ACTIVITY_MAX)?;
    let url = c.text("click_action_url", CLICK_URL_MAX)?;
    match click {
        1 | 4 if activity.is_none() => return Err(c.missing("click_action_activity")),
        2 | 5 if url.is_none() => return Err(c.missing("click_action_url")),
        2 if !url.as_deref().is_some_and(is_http_url) => {
            return Err(c.invalid("click_action_url", "not an http(s) URL"))
        }
        _ => {}
    }
    if let Some(parameters) = c.text("action_parameters", ACTION_PARAMETERS_MAX)? {
        if !matches!(
            serde_json::from_str::<Value>(&parameters),
            Ok(Value::Object(_))
        ) {
            return Err(c.invalid("action_parameters", "not a JSON object in a string"));
        }
    }

    c.boolean("off_line")?;
    let off_line_ttl = c
        .range("off_line_ttl", 0, i64::MAX)?
        .map(|ttl| ttl.min(OFF_LINE_TTL_MAX));
    let channel_id = c.string("channel_id")?;

    let category = c.string("category")?;
    let class = match category.as_deref() {
        None => MessageClass::Public,
        Some(name) if SERVICE_CATEGORIES.contains(&name) => MessageClass::Service,
        Some(name) if PUBLIC_CATEGORIES.contains(&name) => MessageClass::Public,
        Some(name) => return Err(category_error(format!("unknown category {name}"))),
    };
    let notify_level = c.int("notify_level")?;
    if let Some(level) = notify_level {
        if category.is_none() {
            return Err(category_error("notify_level needs a category"));
        }
        if ![1, 2, 16].contains(&level) {
            return Err(category_error("notify_level must be 1, 2 or 16"));
        }
        if level == 16 && !app.strong_reminder {
            return Err(category_error(
                "notify_level 16 is not approved for the app",
            ));
        }
    }
    if class == MessageClass::Service && !app.service_channels.is_empty() {
        match channel_id.as_deref() {
            Some(id) if app.service_channels.iter().any(|c| c == id) => {}
            Some(id) => {
                return Err(category_error(format!(
                    "channel {id} is not an approved private channel"
                )))
            }
            None => {
                return Err(category_error(
                    "a service category needs an approved private channel_id",
                ))
            }
        }
    }
    check_template(&mut c, app, category.as_deref(), class)?;

    c.range("notify_id", 0, i64::from(i32::MAX))?;
    c.range("show_ttl", 0, SHOW_TTL_MAX)?;
    let show_time_type = c.one_of("show_time_type", &[0, 1])?;
    let start = c.range("show_start_time", 0, i64::MAX)?;
    let end = c.range("show_end_time", 0, i64::MAX)?;
    if show_time_type == Some(1) {
        match (start, end) {
            (None, _) => return Err(c.missing("show_start_time")),
            (_, None) => return Err(c.missing("show_end_time")),
            (Some(start), Some(end)) if end <= start => {
                return Err(c.invalid("show_end_time", "must be after show_start_time"))
            }
            _ => {}
        }
    }
    c.one_of("network_type", &[0, 1])?;

    let call_back_url = c.text("call_back_url", CALL_BACK_URL_MAX)?;
    if let Some(url) = &call_back_url {
        if !is_http_url(url) {
            return Err(c.invalid("call_back_url", "not an http(s) URL"));
        }
    }
    let call_back_parameter = c.text("call_back_parameter", CALL_BACK_PARAMETER_MAX)?;

    c.range("badge_message_count", 0, i64::from(i32::MAX))?;
    c.one_of("badge_operation_type", &[0, 1])?;
    c.string("small_picture_id")?;
    let big_picture = c.string("big_picture_id")?;
    if style == 3 && big_picture.is_none() {
        return Err(c.missing("big_picture_id"));
    }
    if broadcast {
        let push_time_type = c.one_of("push_time_type", &[0, 1])?;
        let push_start = c.range("push_start_time", 0, i64::MAX)?;
        if push_time_type == Some(1) && push_start.is_none() {
            return Err(c.missing("push_start_time"));
        }
        c.string("time_zone")?;
        let fix_speed = c.boolean("fix_speed")?;
        let rate = c.range("fix_speed_rate", FIX_SPEED_RATE.0, FIX_SPEED_RATE.1)?;
        if fix_speed == Some(true) && rate.is_none() {
            return Err(c.missing("fix_speed_rate"));
        }
    }

    Ok(Notification {
        fields: c.fields,
        title,
        content,
        class,
        category,
        channel_id,
        notify_level,
        off_line_ttl,
        app_message_id,
        callback: call_back_url.map(|url| Callback {
            url,
            param: call_back_parameter.unwrap_or_default(),
        }),
    })
}

/// `private_msg_template_id` and its parameters (§2.4, §11).
fn check_template(
    c: &mut Collector<'_, '_>,
    app: &SimApp,
    category: Option<&str>,
    class: MessageClass,
) -> Checked {
    let required = match app.template_rule {
        TemplateRule::Off => false,
        TemplateRule::Im => category == Some("IM"),
        TemplateRule::Service => class == MessageClass::Service,
    };
    let template = c.string("private_msg_template_id")?;
    for field in ["private_title_parameters", "private_content_parameters"] {
        if let Some(text) = c.string(field)? {
            if !string_map(&text) {
                return Err(c.invalid(field, "not a JSON object of strings in a string"));
            }
        }
    }
    match template {
        None if required => Err(category_error(
            "this category needs a private_msg_template_id",
        )),
        None => Ok(()),
        Some(id) if !app.templates.is_empty() && !app.templates.contains(&id) => {
            Err(c.invalid("private_msg_template_id", format!("unknown template {id}")))
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn snake_case_names_become_camel_case() {
        assert_eq!(camel("click_action_type"), "clickActionType");
        assert_eq!(camel("title"), "title");
        assert_eq!(camel("off_line_ttl"), "offLineTtl");
    }
}
