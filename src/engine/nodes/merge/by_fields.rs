//! Merge's "combine by matching fields" (v2 `mergeByFields`, v3 `combineByFields`): items of
//! input 1 and input 2 whose match fields are equal, joined as the join mode says (inner,
//! anti, outer, left or right join).

use serde_json::Value;

use super::combine::{add_suffix, field, merged_item, same_value, Clash};
use crate::engine::data::Item;
use crate::engine::node::NodeError;

/// A pair of fields that must be equal: `field1` of input 1, `field2` of input 2.
#[derive(Clone, Debug)]
pub struct FieldPair {
    pub field1: String,
    pub field2: String,
}

/// What the join reads from the node.
pub struct Join {
    pub pairs: Vec<FieldPair>,
    pub mode: String,
    pub output_from: String,
    pub clash: Clash,
    pub dots: bool,
    pub fuzzy: bool,
    pub first_match_only: bool,
    /// Before v2.1, every match field must appear in some item of each input.
    pub check_presence: bool,
}

/// n8n's check of the field pairs.
pub fn check_pairs(pairs: Vec<FieldPair>) -> Result<Vec<FieldPair>, NodeError> {
    if pairs.len() == 1 && pairs[0].field1.is_empty() && pairs[0].field2.is_empty() {
        return Err(NodeError::operation(
            "You need to define at least one pair of fields in \"Fields to Match\" to match on",
        ));
    }
    for (index, pair) in pairs.iter().enumerate() {
        if pair.field1.is_empty() || pair.field2.is_empty() {
            return Err(NodeError::operation(format!(
                "You need to define both fields in \"Fields to Match\" for pair {},\n\t\t\t\t field 1 = '{}'\n\t\t\t\t field 2 = '{}'",
                index + 1,
                pair.field1,
                pair.field2
            )));
        }
    }
    Ok(pairs)
}

fn check_presence(
    items: &[Item],
    fields: &[&str],
    dots: bool,
    label: &str,
) -> Result<(), NodeError> {
    for name in fields {
        let present = items
            .iter()
            .any(|item| field(&item.json, name, dots).is_some());
        if !present {
            return Err(NodeError::operation(format!(
                "Field '{name}' is not present in any of items in '{label}'"
            )));
        }
    }
    Ok(())
}

struct Matched<'a> {
    entry: &'a Item,
    matches: Vec<&'a Item>,
}

/// Runs the join; `None` is n8n's "no output at all" (v3 returns no output list when there
/// is nothing to keep).
pub fn join(
    input1: &[Item],
    input2: &[Item],
    join: &Join,
    v3: bool,
) -> Result<Option<Vec<Item>>, NodeError> {
    if join.check_presence {
        let fields1: Vec<&str> = join.pairs.iter().map(|p| p.field1.as_str()).collect();
        let fields2: Vec<&str> = join.pairs.iter().map(|p| p.field2.as_str()).collect();
        check_presence(input1, &fields1, join.dots, "Input 1")?;
        check_presence(input2, &fields2, join.dots, "Input 2")?;
    }
    let mode = join.mode.as_str();
    let from = join.output_from.as_str();
    if input1.is_empty() || input2.is_empty() {
        if input1.is_empty() && mode == "keepNonMatches" && from == "input1" {
            return Ok(Some(Vec::new()));
        }
        if input2.is_empty() && mode == "keepNonMatches" && from == "input2" {
            return Ok(Some(Vec::new()));
        }
        let nothing = mode == "keepMatches"
            || (mode == "enrichInput1" && input1.is_empty())
            || (mode == "enrichInput2" && input2.is_empty());
        if nothing {
            return Ok(if v3 { None } else { Some(Vec::new()) });
        }
        return Ok(Some(input1.iter().chain(input2).cloned().collect()));
    }

    let both = from == "both" || mode == "enrichInput1" || mode == "enrichInput2";
    let mut matched: Vec<Matched<'_>> = Vec::new();
    let mut unmatched1: Vec<Item> = Vec::new();
    let mut used2 = vec![false; input2.len()];
    'entries: for entry in input1 {
        let mut lookup: Vec<(&str, &Value)> = Vec::new();
        for pair in &join.pairs {
            match field(&entry.json, &pair.field1, join.dots) {
                Some(value) => lookup.push((pair.field2.as_str(), value)),
                None => {
                    unmatched1.push(entry.clone());
                    continue 'entries;
                }
            }
        }
        let mut found: Vec<(usize, &Item)> = Vec::new();
        for (index, candidate) in input2.iter().enumerate() {
            let all_equal = lookup.iter().all(|(name, wanted)| {
                same_value(
                    Some(wanted),
                    field(&candidate.json, name, join.dots),
                    join.fuzzy,
                )
            });
            if all_equal {
                found.push((index, candidate));
                if join.first_match_only {
                    break;
                }
            }
        }
        if found.is_empty() {
            unmatched1.push(entry.clone());
            continue;
        }
        for (index, _) in &found {
            used2[*index] = true;
        }
        if both {
            matched.extend(found.iter().map(|(_, m)| Matched {
                entry,
                matches: vec![*m],
            }));
        } else {
            matched.push(Matched {
                entry,
                matches: found.iter().map(|(_, m)| *m).collect(),
            });
        }
    }
    let matched2: Vec<Item> = input2
        .iter()
        .zip(&used2)
        .filter(|(_, used)| **used)
        .map(|(i, _)| i.clone())
        .collect();
    let unmatched2: Vec<Item> = input2
        .iter()
        .zip(&used2)
        .filter(|(_, used)| !**used)
        .map(|(i, _)| i.clone())
        .collect();

    let suffix = join.clash.is("addSuffix");
    let out = match mode {
        "keepMatches" | "keepEverything" => {
            let mut output = match from {
                "input1" => matched.iter().map(|m| m.entry.clone()).collect(),
                "input2" => matched2,
                _ => merge_matched(&matched, &join.clash, mode),
            };
            if mode == "keepEverything" {
                if suffix {
                    output.extend(add_suffix(&unmatched1, "1"));
                    output.extend(add_suffix(&unmatched2, "2"));
                } else {
                    output.extend(unmatched1);
                    output.extend(unmatched2);
                }
            }
            output
        }
        "keepNonMatches" => match from {
            "input1" => unmatched1,
            "input2" => unmatched2,
            _ => with_source(unmatched1, "input1")
                .into_iter()
                .chain(with_source(unmatched2, "input2"))
                .collect(),
        },
        "enrichInput1" | "enrichInput2" => {
            let mut output = merge_matched(&matched, &join.clash, mode);
            let (rest, tag) = if mode == "enrichInput1" {
                (unmatched1, "1")
            } else {
                (unmatched2, "2")
            };
            if suffix {
                output.extend(add_suffix(&rest, tag));
            } else {
                output.extend(rest);
            }
            output
        }
        _ => Vec::new(),
    };
    Ok(Some(out))
}

/// `_source: "input1"` on each item (kept non-matches of both inputs).
fn with_source(items: Vec<Item>, source: &str) -> Vec<Item> {
    items
        .into_iter()
        .map(|mut item| {
            item.json
                .insert("_source".into(), Value::String(source.to_owned()));
            item
        })
        .collect()
}

/// One item per match, its fields merged by the clash rules (by default the later input
/// wins, except when enriching input 2, where input 1 wins).
fn merge_matched(matched: &[Matched<'_>], clash: &Clash, mode: &str) -> Vec<Item> {
    let mut out = Vec::new();
    for Matched { entry, matches } in matched {
        if clash.is("addSuffix") {
            let entry = add_suffix(std::slice::from_ref(*entry), "1").remove(0);
            let owned: Vec<Item> = matches.iter().map(|m| (*m).clone()).collect();
            let matches = add_suffix(&owned, "2");
            let sources: Vec<_> = matches.iter().map(|m| &m.json).collect();
            let json = clash.merge(&entry.json, &sources);
            let parts: Vec<&Item> = std::iter::once(&entry).chain(matches.iter()).collect();
            out.push(merged_item(json, &parts));
            continue;
        }
        let prefer_input1 = match clash.resolve.as_deref() {
            None => mode == "enrichInput2",
            Some(resolve) => resolve == "preferInput1",
        };
        if prefer_input1 {
            let Some((first, rest)) = matches.split_first() else {
                continue;
            };
            let sources: Vec<_> = rest
                .iter()
                .map(|m| &m.json)
                .chain(std::iter::once(&entry.json))
                .collect();
            let json = clash.merge(&first.json, &sources);
            let parts: Vec<&Item> = std::iter::once(*first)
                .chain(rest.iter().copied())
                .chain(std::iter::once(*entry))
                .collect();
            out.push(merged_item(json, &parts));
        } else {
            let sources: Vec<_> = matches.iter().map(|m| &m.json).collect();
            let json = clash.merge(&entry.json, &sources);
            let parts: Vec<&Item> = std::iter::once(*entry)
                .chain(matches.iter().copied())
                .collect();
            out.push(merged_item(json, &parts));
        }
    }
    out
}
