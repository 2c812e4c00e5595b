//! Entity search: field filters, a small `query` subset, sorting and CTIA-style paging.

use std::cmp::Ordering;

use serde_json::{json, Value};

use crate::http::Reply;

/// Query parameters that control paging or time windows rather than filter on a field.
const NON_FILTER_PARAMS: &[&str] = &[
    "limit",
    "offset",
    "search_after",
    "sort_by",
    "sort_order",
    "query",
    "simple_query",
    "from",
    "to",
    "fields",
    "wait_for",
    "REALLY_DELETE_ALL_THESE_ENTITIES",
];

/// Fields that the `query` parameter may name.
const QUERY_FIELDS: &[&str] = &[
    "title",
    "external_ids",
    "observable.value",
    "observables.value",
];

/// Default page size, as in CTIA.
pub(crate) const DEFAULT_LIMIT: usize = 100;

/// A parsed search request.
pub(crate) struct Search {
    filters: Vec<(String, String)>,
    /// Clauses from `query`, all of which must match: field, lower-cased value, prefix match.
    query: Vec<(String, String, bool)>,
    pub limit: usize,
    pub offset: usize,
    search_after: Vec<String>,
    sort: Vec<(String, bool)>,
}

impl Search {
    /// Parses search parameters. Returns a 400 reply for a bad number or an unsupported query.
    pub fn parse(pairs: &[(String, String)]) -> Result<Search, Reply> {
        let mut search = Search {
            filters: Vec::new(),
            query: Vec::new(),
            limit: DEFAULT_LIMIT,
            offset: 0,
            search_after: Vec::new(),
            sort: Vec::new(),
        };
        let mut sort_by = None;
        let mut descending_default = false;
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => search.limit = parse_count("limit", value)?,
                "offset" => search.offset = parse_count("offset", value)?,
                "search_after" => search.search_after.push(value.clone()),
                "sort_by" => sort_by = Some(value.clone()),
                "sort_order" => descending_default = value.eq_ignore_ascii_case("desc"),
                "query" => search.query.extend(parse_query(value)?),
                // NOTE: `simple_query`, `from`, `to` and `fields` are accepted and ignored.
                _ if NON_FILTER_PARAMS.contains(&key.as_str()) => {}
                _ => search.filters.push((key.clone(), value.to_lowercase())),
            }
        }
        if search.limit == 0 {
            return Err(Reply::error(
                400,
                "invalid request",
                "limit must be at least 1",
            ));
        }

        let sort_spec = sort_by.unwrap_or_else(|| "created".to_string());
        for part in sort_spec
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (field, descending) = match part.split_once(':') {
                Some((field, order)) => (field, order.eq_ignore_ascii_case("desc")),
                None => (part, descending_default),
            };
            search.sort.push((field.to_string(), descending));
        }
        // The id breaks ties, so `search_after` pages visit each hit once while the data is unchanged.
        search.sort.push(("id".to_string(), false));
        Ok(search)
    }

    /// True when the request names at least one field filter or query clause.
    pub fn has_filters(&self) -> bool {
        !self.filters.is_empty() || !self.query.is_empty()
    }

    pub fn matches(&self, entity: &Value) -> bool {
        let filters_match = self.filters.iter().all(|(field, wanted)| {
            field_values(entity, field).iter().any(|value| {
                let value = value.to_lowercase();
                if field == "id" || field.ends_with("_ref") {
                    // An id filter matches the full id or the short id alike.
                    value == *wanted
                        || crate::state::short_id(&value) == crate::state::short_id(wanted)
                } else {
                    value == *wanted
                }
            })
        });
        let query_matches = self.query.iter().all(|(field, wanted, prefix)| {
            // Judgements carry one `observable`, sightings a list of `observables`, so the
            // query matches either.
            let fields: Vec<&str> = match field.as_str() {
                "observable.value" | "observables.value" => {
                    vec!["observable.value", "observables.value"]
                }
                other => vec![other],
            };
            fields.iter().any(|field| {
                field_values(entity, field).iter().any(|value| {
                    let value = value.to_lowercase();
                    if *prefix {
                        value.starts_with(wanted.as_str())
                    } else {
                        value == *wanted
                    }
                })
            })
        });
        filters_match && query_matches
    }

    /// Sorts `hits` by the requested fields with the id as the final tie-breaker.
    pub fn sort(&self, hits: &mut [Value]) {
        hits.sort_by(|a, b| {
            for (field, descending) in &self.sort {
                let order = compare_values(&sort_value(a, field), &sort_value(b, field));
                let order = if *descending { order.reverse() } else { order };
                if order != Ordering::Equal {
                    return order;
                }
            }
            Ordering::Equal
        });
    }

    /// Sort values of one hit, as sent in `X-Sort` and taken back in `search_after`.
    pub fn sort_values(&self, entity: &Value) -> Vec<Value> {
        self.sort
            .iter()
            .map(|(field, _)| sort_value(entity, field))
            .collect()
    }

    /// Returns the page of `hits` (already filtered and sorted) with CTIA's paging headers,
    /// or a 400 reply when offset paging would pass `max_result_window`.
    pub fn page(&self, hits: Vec<Value>, max_result_window: usize) -> Result<Reply, Reply> {
        let total = hits.len();
        let page: Vec<Value> = if self.search_after.is_empty() {
            if self.offset + self.limit > max_result_window {
                return Err(Reply::json(
                    400,
                    &json!({
                        "error": "ES Invalid Request",
                        "message": format!(
                            "Result window is too large, offset + limit must be less than or equal to {max_result_window} but was {}. Page with search_after or X-Next instead.",
                            self.offset + self.limit
                        ),
                    }),
                ));
            }
            hits.into_iter()
                .skip(self.offset)
                .take(self.limit)
                .collect()
        } else {
            // As in Elasticsearch, the offset is ignored once search_after is given.
            hits.into_iter()
                .filter(|hit| self.is_after_cursor(hit))
                .take(self.limit)
                .collect()
        };

        let mut reply = Reply::json(200, &Value::Array(page.clone()))
            .with_header("X-Total-Hits", total.to_string());
        let last_sort = page.last().map(|hit| self.sort_values(hit));
        if let Some(sort) = &last_sort {
            reply = reply.with_header("X-Sort", Value::Array(sort.clone()).to_string());
        }
        // As in CTIA's paging helper, X-Next depends on offset + limit against the total, even
        // with search_after. So a client that deletes hits while it pages stops early.
        let next_offset = self.offset + self.limit;
        if total > next_offset {
            if let Some(sort) = &last_sort {
                let mut next = form_urlencoded::Serializer::new(String::new());
                next.append_pair("limit", &self.limit.to_string());
                next.append_pair("offset", &next_offset.to_string());
                for value in sort {
                    next.append_pair("search_after", &value_as_text(value));
                }
                reply = reply.with_header("X-Next", next.finish());
            }
        }
        if self.offset > 0 {
            let previous = form_urlencoded::Serializer::new(String::new())
                .append_pair("limit", &self.limit.to_string())
                .append_pair(
                    "offset",
                    &self.offset.saturating_sub(self.limit).to_string(),
                )
                .finish();
            reply = reply.with_header("X-Previous", previous);
        }
        Ok(reply)
    }

    fn is_after_cursor(&self, hit: &Value) -> bool {
        for ((field, descending), after) in self.sort.iter().zip(&self.search_after) {
            let value = sort_value(hit, field);
            let order = compare_to_text(&value, after);
            let order = if *descending { order.reverse() } else { order };
            match order {
                Ordering::Greater => return true,
                Ordering::Less => return false,
                Ordering::Equal => {}
            }
        }
        false
    }
}

fn parse_count(name: &str, value: &str) -> Result<usize, Reply> {
    value.parse().map_err(|_| {
        Reply::error(
            400,
            "invalid request",
            format!("{name} must be a non-negative integer, got {value:?}"),
        )
    })
}

/// Parses the supported `query` subset: `field:value` clauses joined by ` AND `, where the
/// value may be double-quoted and may end in `*` for a prefix match. `*` alone matches all.
fn parse_query(query: &str) -> Result<Vec<(String, String, bool)>, Reply> {
    let query = query.trim();
    if query == "*" || query.is_empty() {
        return Ok(Vec::new());
    }
    let mut clauses = Vec::new();
    for clause in query.split(" AND ") {
        let Some((field, value)) = clause.trim().split_once(':') else {
            return Err(unsupported_query(query));
        };
        let field = field.trim();
        if !QUERY_FIELDS.contains(&field) {
            return Err(unsupported_query(query));
        }
        let mut value = value.trim();
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = &value[1..value.len() - 1];
        }
        let (value, prefix) = match value.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (value, false),
        };
        clauses.push((field.to_string(), value.to_lowercase(), prefix));
    }
    Ok(clauses)
}

fn unsupported_query(query: &str) -> Reply {
    Reply::json(
        400,
        &json!({
            "error": "ES Invalid Request",
            "message": format!(
                "the stand-in supports only `field:value` queries joined by AND on {}, with an optional trailing *; got {query:?}",
                QUERY_FIELDS.join(", ")
            ),
        }),
    )
}

/// Collects the string, number and boolean values at a dotted path. Lists on the way are
/// flattened, so `observables.value` yields every observable's value.
pub(crate) fn field_values(entity: &Value, path: &str) -> Vec<String> {
    let mut current = vec![entity];
    for part in path.split('.') {
        let mut next = Vec::new();
        for value in current {
            let Some(child) = value.get(part) else {
                continue;
            };
            match child {
                Value::Array(items) => next.extend(items.iter()),
                other => next.push(other),
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|value| match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        })
        .filter_map(|value| match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .collect()
}

fn sort_value(entity: &Value, field: &str) -> Value {
    let mut current = entity;
    for part in field.split('.') {
        match current.get(part) {
            Some(child) => current = child,
            None => return Value::Null,
        }
    }
    match current {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => current.clone(),
        _ => Value::Null,
    }
}

/// Orders null first, then numbers, then strings.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        _ => 3,
    }
}

fn compare_to_text(value: &Value, text: &str) -> Ordering {
    match value {
        Value::Number(n) => match text.parse::<f64>() {
            Ok(after) => n
                .as_f64()
                .unwrap_or(0.0)
                .partial_cmp(&after)
                .unwrap_or(Ordering::Equal),
            Err(_) => Ordering::Less,
        },
        Value::Null => {
            if text.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        }
        other => value_as_text(other).as_str().cmp(text),
    }
}

fn value_as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_flattens_lists() {
        let entity = json!({"observables": [{"value": "1.2.3.4"}, {"value": "5.6.7.8"}]});
        assert_eq!(
            field_values(&entity, "observables.value"),
            vec!["1.2.3.4", "5.6.7.8"]
        );
    }

    #[test]
    fn query_parses_prefix_wildcard() {
        let clauses = parse_query("external_ids:HP-*").unwrap();
        assert_eq!(
            clauses,
            vec![("external_ids".to_string(), "hp-".to_string(), true)]
        );
    }

    #[test]
    fn query_rejects_unknown_field() {
        assert!(parse_query("colour:red").is_err());
    }
}
