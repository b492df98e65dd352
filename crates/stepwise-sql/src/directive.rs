//! Comment directives. stepwise's own (`-- stepwise:...`) are read in every
//! layout; the markers of other tools (dbmate, goose, sqlx) are read in theirs,
//! so their files run unchanged.

use crate::Flavor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    Up {
        no_transaction: bool,
    },
    Down {
        no_transaction: bool,
    },
    NoTransaction,
    Phase(Phase),
    Ignore {
        rules: Vec<String>,
        reason: String,
    },
    /// `-- stepwise:online`: the next statement (an `ALTER TABLE`) runs
    /// through an online schema change instead of being executed.
    Online,
    /// `-- stepwise:backfill <table> SET ... [WHERE ...]`: a batched update,
    /// itself a step of its section. `args` are checked by the file parser
    /// (which knows the dialect); `args_at` is their offset in the comment body.
    Backfill {
        args: String,
        args_at: usize,
    },
    /// goose: `StatementBegin` / `StatementEnd` enclose one statement verbatim.
    StatementBegin,
    StatementEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    #[default]
    PreDeploy,
    PostDeploy,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreDeploy => "pre-deploy",
            Phase::PostDeploy => "post-deploy",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        match s {
            "pre-deploy" | "pre" => Some(Phase::PreDeploy),
            "post-deploy" | "post" => Some(Phase::PostDeploy),
            _ => None,
        }
    }
}

/// Read a line comment (the text after `--`). `Ok(None)`: an ordinary comment.
/// `Err((offset_in_body, message))`: a malformed directive.
pub fn parse_directive(body: &str, flavor: Flavor) -> Result<Option<Directive>, (usize, String)> {
    let lead = body.len() - body.trim_start().len();
    let trimmed = body.trim();
    if let Some(rest) = trimmed.strip_prefix("stepwise:") {
        return parse_stepwise(rest, lead + "stepwise:".len()).map(Some);
    }
    match flavor {
        Flavor::Dbmate => Ok(parse_dbmate(trimmed)),
        Flavor::Goose => Ok(parse_goose(trimmed)),
        Flavor::Sqlx if trimmed == "no-transaction" => Ok(Some(Directive::NoTransaction)),
        _ => Ok(None),
    }
}

fn parse_stepwise(rest: &str, base: usize) -> Result<Directive, (usize, String)> {
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name = &rest[..name_end];
    let args = rest[name_end..].trim();
    let args_at = base + name_end + (rest[name_end..].len() - rest[name_end..].trim_start().len());
    let no_args = |d: Directive| {
        if args.is_empty() {
            Ok(d)
        } else {
            Err((args_at, format!("`stepwise:{name}` takes no arguments, found `{args}`")))
        }
    };
    match name {
        "up" => no_args(Directive::Up { no_transaction: false }),
        "down" => no_args(Directive::Down { no_transaction: false }),
        "no-transaction" => no_args(Directive::NoTransaction),
        "online" => no_args(Directive::Online),
        "backfill" => Ok(Directive::Backfill { args: args.to_string(), args_at }),
        "phase" => Phase::parse(args)
            .map(Directive::Phase)
            .ok_or_else(|| (args_at, format!("`stepwise:phase` expects `pre-deploy` or `post-deploy`, found `{args}`"))),
        "ignore" => {
            let rules_end = args.find(char::is_whitespace).unwrap_or(args.len());
            let rules: Vec<String> = args[..rules_end].split(',').filter(|r| !r.is_empty()).map(str::to_string).collect();
            let reason = args[rules_end..].trim().to_string();
            if rules.is_empty() {
                return Err((
                    args_at,
                    "`stepwise:ignore` needs a rule name and a reason: `-- stepwise:ignore <rule>[,<rule>] <reason>`".into(),
                ));
            }
            if let Some(bad) = rules.iter().find(|r| !r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')) {
                return Err((args_at, format!("`{bad}` is not a rule name (rule names are kebab-case, like `require-concurrent-index`)")));
            }
            if reason.is_empty() {
                return Err((args_at, "`stepwise:ignore` needs a reason after the rule names: a reviewed exception says why".into()));
            }
            Ok(Directive::Ignore { rules, reason })
        }
        "" => Err((base, "empty `stepwise:` directive; known: up, down, no-transaction, phase, ignore, online, backfill".into())),
        other => {
            Err((base, format!("unknown directive `stepwise:{other}`; known: up, down, no-transaction, phase, ignore, online, backfill")))
        }
    }
}

fn parse_dbmate(t: &str) -> Option<Directive> {
    let rest = t.strip_prefix("migrate:")?;
    let mut words = rest.split_whitespace();
    let which = words.next()?;
    let no_transaction = words.any(|w| w == "transaction:false");
    match which {
        "up" => Some(Directive::Up { no_transaction }),
        "down" => Some(Directive::Down { no_transaction }),
        _ => None,
    }
}

fn parse_goose(t: &str) -> Option<Directive> {
    let rest = t.strip_prefix("+goose")?.trim();
    match rest.to_ascii_lowercase().as_str() {
        "up" => Some(Directive::Up { no_transaction: false }),
        "down" => Some(Directive::Down { no_transaction: false }),
        "no transaction" => Some(Directive::NoTransaction),
        "statementbegin" => Some(Directive::StatementBegin),
        "statementend" => Some(Directive::StatementEnd),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepwise_directives() {
        assert_eq!(parse_directive(" stepwise:up", Flavor::Native), Ok(Some(Directive::Up { no_transaction: false })));
        assert_eq!(parse_directive(" stepwise:phase post-deploy", Flavor::Native), Ok(Some(Directive::Phase(Phase::PostDeploy))));
        assert_eq!(
            parse_directive(" stepwise:ignore a-rule,b-rule reviewed by DBA", Flavor::Native),
            Ok(Some(Directive::Ignore { rules: vec!["a-rule".into(), "b-rule".into()], reason: "reviewed by DBA".into() }))
        );
        assert_eq!(parse_directive(" just a comment", Flavor::Native), Ok(None));
        assert_eq!(parse_directive(" stepwise:online", Flavor::Native), Ok(Some(Directive::Online)));
        assert_eq!(parse_directive(" stepwise:online ", Flavor::Goose), Ok(Some(Directive::Online)));
        assert_eq!(
            parse_directive("  stepwise:backfill  orders SET a = 1 ", Flavor::Native),
            Ok(Some(Directive::Backfill { args: "orders SET a = 1".into(), args_at: 21 }))
        );
        // Empty arguments are the file parser's to report (with the usage).
        assert_eq!(parse_directive(" stepwise:backfill", Flavor::Native), Ok(Some(Directive::Backfill { args: "".into(), args_at: 18 })));
    }

    #[test]
    fn malformed_directives_point_at_the_problem() {
        let (at, msg) = parse_directive(" stepwise:phase later", Flavor::Native).unwrap_err();
        assert_eq!(at, 16);
        assert!(msg.contains("post-deploy"), "{msg}");
        let (_, msg) = parse_directive(" stepwise:ignore some-rule", Flavor::Native).unwrap_err();
        assert!(msg.contains("reason"), "{msg}");
        let (at, msg) = parse_directive(" stepwise:upp", Flavor::Native).unwrap_err();
        assert_eq!(at, 10);
        assert!(msg.contains("unknown directive `stepwise:upp`"), "{msg}");
        assert!(msg.contains("online, backfill"), "the known directives are listed: {msg}");
        let (at, msg) = parse_directive(" stepwise:online now", Flavor::Native).unwrap_err();
        assert_eq!(at, 17);
        assert!(msg.contains("takes no arguments"), "{msg}");
    }

    #[test]
    fn other_tools_markers() {
        assert_eq!(parse_directive(" migrate:up transaction:false", Flavor::Dbmate), Ok(Some(Directive::Up { no_transaction: true })));
        assert_eq!(parse_directive(" +goose StatementBegin", Flavor::Goose), Ok(Some(Directive::StatementBegin)));
        assert_eq!(parse_directive(" +goose Up", Flavor::Native), Ok(None));
        assert_eq!(parse_directive(" no-transaction", Flavor::Sqlx), Ok(Some(Directive::NoTransaction)));
    }
}
