//! The realistic corpus: `tests/corpus/app/` is the migration history of a
//! growing SaaS shop (accounts, users, orders, line items, payments,
//! invoices, webhooks, audit logs, feature flags, partitioned events...), with
//! the mistakes real teams make at a realistic rate, the safe recipes, and a
//! few reviewed `-- stepwise:ignore` exceptions.
//!
//! It is linted with the real binary (every statement must parse; the counts
//! per rule are printed for the closing note; precise facts catch noise), and
//! applied to a real PostgreSQL (it is valid SQL, in order).

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("corpus").join("app")
}

/// The corpus files, in name (= version) order.
fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("read corpus dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

/// The file whose name (after the version) is `name`, e.g. `add_index_on_orders_status`.
fn file_named(name: &str) -> String {
    let suffix = format!("_{name}.sql");
    let found: Vec<String> = corpus_files()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(&suffix) && n[..n.len() - suffix.len()].bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(found.len(), 1, "expected one corpus file named *{suffix}, found {found:?}");
    found.into_iter().next().unwrap()
}

struct Finding {
    rule: String,
    severity: String,
    file: String,
    line: usize,
    message: String,
}

/// `stepwise lint <corpus> --format json`, run from an empty directory (no stepwise.toml).
fn lint_corpus() -> (serde_json::Value, Vec<Finding>) {
    let p = Project::new();
    let dir = corpus_dir();
    let r = p.run("", &["lint", dir.to_str().expect("utf-8 path"), "--format", "json"]);
    // 1: the corpus has errors on purpose; 2 would mean unparseable input or bad usage.
    assert_eq!(r.code, 1, "expected exit 1 (findings, no parse errors):\n{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("lint json");
    let findings = v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| Finding {
            rule: f["rule"].as_str().unwrap().to_string(),
            severity: f["severity"].as_str().unwrap().to_string(),
            file: Path::new(f["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned(),
            line: f["line"].as_u64().unwrap() as usize,
            message: f["message"].as_str().unwrap().to_string(),
        })
        .collect();
    (v, findings)
}

/// The statement around line `line` (1-based) of an up section, as text:
/// from the line after the previous `;` (or section marker, or blank line)
/// to the line that ends with `;`.
fn statement_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut start = line - 1;
    while start > 0 {
        let prev = lines[start - 1].trim();
        if prev.ends_with(';') || prev.is_empty() || prev.starts_with("-- stepwise:up") {
            break;
        }
        start -= 1;
    }
    let mut end = line - 1;
    while end + 1 < lines.len() && !lines[end].trim_end().ends_with(';') {
        end += 1;
    }
    lines[start..=end].join("\n")
}

fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase()).collect()
}

/// Tables that `CREATE [UNLOGGED] TABLE [IF NOT EXISTS] name` creates in `sql`, in order.
fn created_tables(sql: &str) -> Vec<String> {
    let w = words(sql);
    let mut out = Vec::new();
    for i in 0..w.len() {
        if w[i] == "create" {
            let mut j = i + 1;
            if w.get(j).is_some_and(|x| x == "unlogged") {
                j += 1;
            }
            if w.get(j).is_some_and(|x| x == "table") {
                j += 1;
                if w.get(j).is_some_and(|x| x == "if") {
                    j += 3;
                }
                if let Some(name) = w.get(j) {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

/// Rules that look at new tables too (type advice, index names, the
/// directives themselves): not part of the "new tables are not flagged" check.
const ANYWHERE: &[&str] = &[
    "prefer-text",
    "prefer-bigint-keys",
    "prefer-timestamptz",
    "prefer-jsonb",
    "ban-char",
    "require-boolean-not-null",
    "require-index-name",
    "unused-ignore",
    "concurrent-index-on-partitioned-table",
    "ban-foreign-keys",
    "require-if-exists",
    "require-lock-timeout",
    "one-change-per-migration",
    "enum-add-value-in-transaction",
];

#[test]
fn corpus_lints_with_no_parse_errors_and_precise_findings() {
    let files = corpus_files();
    assert!((250..=350).contains(&files.len()), "corpus has {} files", files.len());
    let (v, findings) = lint_corpus();
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0), "parse errors: {:#}", v["errors"]);
    assert_eq!(v["summary"]["unparseable"], 0);
    assert_eq!(v["summary"]["files"].as_u64(), Some(files.len() as u64));

    // The table for the closing note: rule, count, severity.
    let mut per_rule: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for f in &findings {
        let e = per_rule.entry(&f.rule).or_default();
        e.0 += 1;
        e.1.insert(&f.severity);
    }
    let mut rows: Vec<_> = per_rule.iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    println!(
        "\ncorpus: {} files, {} bytes, {} statements; {} findings ({} errors, {} warnings)\n",
        files.len(),
        bytes,
        v["summary"]["statements"],
        findings.len(),
        v["summary"]["errors"],
        v["summary"]["warnings"]
    );
    println!("| rule | count | severity |\n| --- | ---: | --- |");
    for (rule, (n, sev)) in &rows {
        println!("| {rule} | {n} | {} |", sev.iter().copied().collect::<Vec<_>>().join(", "));
    }
    let files_with_findings: HashSet<&str> = findings.iter().map(|f| f.file.as_str()).collect();
    println!("\nfiles with at least one finding: {} of {}\n", files_with_findings.len(), files.len());

    let in_file = |name: &str| -> Vec<&Finding> {
        let file = file_named(name);
        findings.iter().filter(|f| f.file == file).collect()
    };
    let show =
        |fs: &[&Finding]| fs.iter().map(|f| format!("{}:{} {}: {}", f.file, f.line, f.rule, f.message)).collect::<Vec<_>>().join("\n");

    // Known-bad migrations are flagged by the rule made for them, on the right line.
    let bad: &[(&str, &str, usize)] = &[
        ("add_index_on_orders_status", "require-concurrent-index", 2),
        ("add_sku_to_products", "require-concurrent-index", 3),
        ("index_payments_created_at", "require-index-name", 2),
        ("add_invoice_id_to_payments", "foreign-key-not-valid", 3),
        ("add_order_items_price_check", "check-not-valid", 2),
        ("add_invoices_number_unique", "unique-without-index", 2),
        ("add_disputes_refund_fk", "validate-in-same-transaction", 4),
        ("make_orders_customer_id_not_null", "set-not-null", 2),
        ("make_products_active_not_null", "no-data-change-in-migration", 2),
        ("add_public_id_to_orders", "add-column-volatile-default", 3),
        ("add_due_date_to_invoices", "add-column-not-null-without-default", 3),
        ("change_users_id_to_bigint", "alter-column-type", 3),
        ("change_audit_logs_changes_to_jsonb", "alter-column-type", 2),
        ("rename_customers_phone_to_phone_number", "rename-column", 2),
        ("rename_password_resets", "rename-table", 2),
        ("drop_orders_notes", "drop-column", 3),
        ("add_email_domain_to_customers", "add-generated-stored-column", 2),
        ("add_id_to_feature_flag_overrides", "add-serial-or-identity-column", 2),
        ("add_position_to_carriers", "add-serial-or-identity-column", 2),
        ("reindex_orders_status", "require-concurrent-reindex", 2),
        ("drop_index_orders_status", "require-concurrent-drop-index", 3),
        ("vacuum_full_audit_logs", "no-vacuum-full", 3),
        ("cluster_audit_logs", "no-cluster", 2),
        ("truncate_password_reset_tokens", "no-truncate", 2),
        ("delete_expired_sessions", "no-data-change-in-migration", 2),
        ("add_price_lists_no_overlap", "exclude-constraint", 4),
        ("add_soft_delete_columns", "multiple-locks-in-transaction", 4),
    ];
    for (name, rule, line) in bad {
        let got = in_file(name);
        assert!(got.iter().any(|f| f.rule == *rule && f.line == *line), "{name}: expected {rule} at line {line}; found:\n{}", show(&got));
    }

    // Safe recipes and harmless changes: no finding at all.
    let clean = [
        // Everything after CREATE TABLE touches the table created in the same migration.
        "create_webhook_endpoints",
        "create_webhook_deliveries",
        "create_events",
        "create_audit_events",
        // CREATE INDEX CONCURRENTLY in a no-transaction migration, DROP and REINDEX too.
        "add_index_on_users_last_sign_in_at",
        "index_customers_search_vector",
        "replace_sessions_user_id_index",
        "reindex_line_items_order_id_concurrently",
        // FOREIGN KEY: NOT VALID, then VALIDATE in a later migration.
        "add_order_items_variant_fk",
        "validate_order_items_variant_fk",
        "validate_refunds_return_request_fk",
        // NOT NULL: CHECK NOT VALID, VALIDATE, SET NOT NULL with the check proving it, drop the check.
        "add_customers_public_id_not_null_check",
        "validate_customers_public_id_not_null_check",
        "set_customers_public_id_not_null",
        // UNIQUE: the index CONCURRENTLY, then the constraint USING INDEX.
        "create_customers_account_email_unique_index",
        "add_customers_account_email_unique_constraint",
        // Type changes that do not rewrite.
        "change_users_email_to_text",
        "widen_tax_rate_precision",
        "change_orders_timestamps_to_timestamptz_utc",
        // A volatile default set on a column (new rows only), and a nullable column with one.
        "create_invoice_numbering",
        "add_public_id_to_customers",
        // Partitioned table: parent index ON ONLY, each partition CONCURRENTLY, attach; detach CONCURRENTLY.
        "create_events_name_index_on_parent",
        "create_events_name_index_on_partitions",
        "attach_events_name_index_partitions",
        "detach_events_2022_partitions",
        // New enum value outside a transaction (PostgreSQL 12+: inside is fine too while unused).
        "add_partially_refunded_payment_status",
        // Drops in a post-deploy migration: the running code no longer uses them.
        "drop_users_encrypted_password",
        "drop_audit_logs_table",
        "drop_order_items_compat_view",
        // Reviewed exceptions: the ignores excuse the findings.
        "index_accounts_settings",
        "require_feature_flag_descriptions",
        "add_preferred_currency_to_customers",
        "deactivate_legacy_carriers",
    ];
    for name in clean {
        let got = in_file(name);
        assert!(got.is_empty(), "{name} follows a safe recipe but is flagged:\n{}", show(&got));
    }

    // An ignore excuses its rule on its statement, and nothing else.
    let stripe = in_file("add_stripe_customer_id_to_accounts");
    assert!(!stripe.iter().any(|f| f.rule == "require-concurrent-index"), "{}", show(&stripe));
    assert!(stripe.iter().any(|f| f.rule == "prefer-text"), "{}", show(&stripe));
    let drops = in_file("drop_events_2022_partitions");
    assert!(!drops.iter().any(|f| f.rule == "drop-table"), "{}", show(&drops));

    // Every ignore in the corpus names a rule that fires on its statement.
    let unused: Vec<&Finding> = findings.iter().filter(|f| f.rule == "unused-ignore").collect();
    assert!(unused.is_empty(), "ignores that excuse nothing:\n{}", show(&unused));

    // No finding of a rule that protects existing tables on a statement that
    // only touches tables created earlier in the same migration.
    let all_tables: HashSet<String> = files
        .iter()
        .flat_map(|f| created_tables(&std::fs::read_to_string(f).unwrap()))
        .chain(["line_items".to_string(), "password_reset_tokens".to_string()])
        .collect();
    let mut noise = Vec::new();
    for f in findings.iter().filter(|f| !ANYWHERE.contains(&f.rule.as_str())) {
        let text = std::fs::read_to_string(corpus_dir().join(&f.file)).unwrap();
        let before: String = text.lines().take(f.line - 1).collect::<Vec<_>>().join("\n");
        let new_here: HashSet<String> = created_tables(&before).into_iter().collect();
        let touched: HashSet<String> = words(&statement_at(&text, f.line)).into_iter().filter(|w| all_tables.contains(w)).collect();
        if !touched.is_empty() && touched.iter().all(|t| new_here.contains(t)) {
            noise.push(f);
        }
    }
    assert!(noise.is_empty(), "findings on tables created earlier in the same migration:\n{}", show(&noise));

    // Most migrations are fine: the corpus is realistic, not a bag of mistakes.
    assert!(files_with_findings.len() * 2 < files.len(), "{} of {} files flagged", files_with_findings.len(), files.len());
}

/// Documented recipes in the corpus are not flagged: RENAME TO with a view of
/// the old name in the same transaction.
#[test]

fn documented_recipes_in_the_corpus_are_not_flagged() {
    let (_, findings) = lint_corpus();
    let name = "rename_order_items_to_line_items";
    let file = file_named(name);
    let got: Vec<String> =
        findings.iter().filter(|f| f.file == file).map(|f| format!("{}:{} {}: {}", f.file, f.line, f.rule, f.message)).collect();
    assert!(got.is_empty(), "{name}:\n{}", got.join("\n"));
}

/// Every rule id, from `stepwise lint --list-rules`.
fn rule_ids(p: &Project) -> Vec<String> {
    let r = p.run("", &["lint", "--list-rules"]);
    r.ok();
    r.stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

#[test]
fn corpus_applies_to_a_fresh_postgres() {
    let db = PgDb::new();
    let p = Project::new();
    // The corpus carries mistakes on purpose: the lint gate is turned off
    // (every rule disabled) so that this test proves one thing, valid SQL in order.
    let disable: Vec<String> = rule_ids(&p).iter().map(|id| format!("\"{id}\"")).collect();
    assert!(disable.len() > 10, "rules: {disable:?}");
    let dir = corpus_dir();
    std::fs::write(
        p.root.join("stepwise.toml"),
        format!("migrations_dir = \"{}\"\n\n[lint]\ndisable = [{}]\n", dir.display(), disable.join(", ")),
    )
    .expect("write stepwise.toml");
    let r = bounded(&p, &db.url, &["migrate", "--phase", "all"]);
    r.ok();
    let files = corpus_files().len();
    let applied = db.sql("SELECT count(*) FROM stepwise.migrations WHERE status = 'applied'");
    assert_eq!(applied, files.to_string(), "{}", r.all());
    // The end state is the story's: renames, the partitioned tables, the drops.
    let tables = db.sql(
        "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') \
         AND relname IN ('line_items', 'order_items', 'password_reset_tokens', 'events', 'audit_events', 'audit_logs')",
    );
    assert_eq!(tables, "audit_events,events,line_items,password_reset_tokens");
    assert_eq!(db.sql("SELECT relkind FROM pg_class WHERE relname = 'events'"), "p");
    assert_eq!(db.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'events_name_occurred_at_idx'"), "1");
    assert_eq!(db.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_name_occurred_at_idx'::regclass"), "t");
}
