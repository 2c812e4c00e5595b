//! Finding the indicators that the blocking feeds are built on.
//!
//! A feed lists the observables of the valid judgements linked `element-of`
//! to its indicator. IPv4 and IPv6 have separate feeds and indicators. Each
//! indicator is either configured by id or looked up by its exact title,
//! and the lookup must find exactly one.

use super::bundle::FeedTargets;
use super::client::Client;
use super::config::{FeedSettings, IndicatorRef};
use super::error::{Error, Result};

/// Page size of the indicator search. A title matches few indicators, and
/// further pages follow `X-Next`.
const SEARCH_LIMIT: usize = 10;

/// Resolves the indicators of the families that the batch needs.
pub fn resolve(
    client: &mut Client,
    feed: &FeedSettings,
    need_ipv4: bool,
    need_ipv6: bool,
) -> Result<FeedTargets> {
    let mut targets = FeedTargets::default();
    if need_ipv4 {
        targets.ipv4 = Some(resolve_one(client, &feed.ipv4, "ipv4_indicator_id")?);
    }
    if need_ipv6 {
        targets.ipv6 = Some(resolve_one(client, &feed.ipv6, "ipv6_indicator_id")?);
    }
    Ok(targets)
}

/// Describes the indicators without contacting XDR, for `--dry-run`: a
/// configured id as is, a title as a placeholder that names it.
pub fn describe(feed: &FeedSettings) -> FeedTargets {
    let placeholder = |indicator: &IndicatorRef| match indicator {
        IndicatorRef::Id(id) => id.clone(),
        IndicatorRef::Title(title) => {
            format!("<id of the indicator titled {title}, looked up when sending>")
        }
    };
    FeedTargets {
        ipv4: Some(placeholder(&feed.ipv4)),
        ipv6: Some(placeholder(&feed.ipv6)),
    }
}

fn resolve_one(client: &mut Client, indicator: &IndicatorRef, key: &'static str) -> Result<String> {
    let title = match indicator {
        IndicatorRef::Id(id) => return Ok(id.clone()),
        IndicatorRef::Title(title) => title,
    };

    // The query is full text, so the results are filtered to exact titles.
    let query = if title.contains(char::is_whitespace) {
        format!("title:\"{title}\"")
    } else {
        format!("title:{title}")
    };
    let found = client.search_all("indicator", &[("query", &query)], SEARCH_LIMIT)?;
    let ids: Vec<String> = found
        .iter()
        .filter(|entity| entity["title"].as_str() == Some(title.as_str()))
        .filter_map(|entity| entity["id"].as_str().map(str::to_string))
        .collect();

    if ids.len() != 1 {
        return Err(Error::Indicator {
            title: title.clone(),
            found: ids.len(),
            key,
        });
    }

    let id = ids.into_iter().next().expect("exactly one id");
    if !client.ctia().owns(&id) {
        return Err(Error::ForeignHost {
            url: id,
            expected: client.ctia().as_string(),
        });
    }
    Ok(id)
}
