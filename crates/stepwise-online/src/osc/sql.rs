//! The SQL text of an online schema change, built from the table's facts.
//! Nothing here talks to the database.

use super::table::TableInfo;
use stepwise_db::pg::{quote_ident, quote_literal};

/// The names one job uses: they carry the job id so that leftovers of any
/// job can be found and cleaned up by `cancel`.
#[derive(Debug, Clone)]
pub struct Names {
    pub schema: String,
    pub table: String,
    pub shadow: String,
    pub old: String,
    /// Schema of stepwise's own objects (the trigger functions, the jobs table).
    pub state_schema: String,
    pub job: i64,
}

impl Names {
    pub fn new(schema: &str, table: &str, state_schema: &str, job: i64) -> Names {
        // NAMEDATALEN - 1 bytes.
        let short = |suffix: &str| super::states::job_name(table, job, suffix, 63, str::len);
        Names {
            schema: schema.into(),
            table: table.into(),
            shadow: short("_new"),
            old: short("_old"),
            state_schema: state_schema.into(),
            job,
        }
    }

    pub fn qualified(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(name))
    }

    pub fn original(&self) -> String {
        self.qualified(&self.table)
    }

    pub fn shadow_q(&self) -> String {
        self.qualified(&self.shadow)
    }

    pub fn function(&self, what: &str) -> String {
        format!("{}.{}", quote_ident(&self.state_schema), quote_ident(&format!("osc_{}_{what}", self.job)))
    }

    pub fn trigger(&self, what: &str) -> String {
        quote_ident(&format!("stepwise_osc_{}_{what}", self.job))
    }

    /// The change log of the capture triggers.
    pub fn log(&self) -> String {
        format!("{}.{}", quote_ident(&self.state_schema), quote_ident(&format!("osc_{}_log", self.job)))
    }

    /// The keys replays took out of the log, for the last verification pass.
    pub fn replayed(&self) -> String {
        format!("{}.{}", quote_ident(&self.state_schema), quote_ident(&format!("osc_{}_replayed", self.job)))
    }

    pub fn jobs(&self) -> String {
        crate::jobs::table(&self.state_schema)
    }
}

fn list(cols: &[String], f: impl Fn(&str) -> String) -> String {
    cols.iter().map(|c| f(c)).collect::<Vec<_>>().join(", ")
}

/// The shadow table: like the original, with the ALTER applied.
pub fn create_shadow(n: &Names, alter: &str) -> String {
    // The clauses are checked (`stepwise_sql::osc_alter`); a newline ends a
    // trailing `--` comment before the `;`.
    let end = if alter.contains("--") { "\n;" } else { ";" };
    format!(
        "CREATE TABLE {shadow} (LIKE {orig} INCLUDING ALL);\nALTER TABLE {shadow} {alter}{end}",
        shadow = n.shadow_q(),
        orig = n.original()
    )
}

/// The trigger functions run as their owner (stepwise's role), so that an
/// application role without rights on the shadow, the old table or the jobs
/// table still has its writes captured. Their search path is pinned to the
/// one the SQL was generated under (type names and operators of the key
/// resolve as they did then), not the caller's.
const DEFINER: &str = "SECURITY DEFINER SET search_path FROM CURRENT";

/// The body of the reverse trigger: apply the row
/// change to `target` by key (insert or update as an upsert, a key change as
/// a delete then an upsert, a delete as a delete), inside a block whose
/// errors run `on_error` instead of reaching the application.
/// `cols` are (column, value written) pairs.
fn mirror_row(target: &str, key: &[String], cols: &[(String, String)], on_error: &str) -> String {
    let names = cols.iter().map(|(c, _)| quote_ident(c)).collect::<Vec<_>>().join(", ");
    let values = cols.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", ");
    let keys = list(key, quote_ident);
    let set = cols.iter().filter(|(c, _)| !key.contains(c)).map(|(c, _)| format!("{0} = EXCLUDED.{0}", quote_ident(c))).collect::<Vec<_>>();
    let on_conflict = if set.is_empty() { "NOTHING".to_string() } else { format!("UPDATE SET {}", set.join(", ")) };
    let upsert = format!("INSERT INTO {target} ({names}) OVERRIDING SYSTEM VALUE VALUES ({values}) ON CONFLICT ({keys}) DO {on_conflict};");
    let match_old = key.iter().map(|k| format!("{0} = OLD.{0}", quote_ident(k))).collect::<Vec<_>>().join(" AND ");
    let old_key = list(key, |k| format!("OLD.{}", quote_ident(k)));
    let new_key = list(key, |k| format!("NEW.{}", quote_ident(k)));
    format!(
        "BEGIN
    IF TG_OP = 'INSERT' THEN
      {upsert}
    ELSIF TG_OP = 'UPDATE' THEN
      IF ROW({old_key}) IS DISTINCT FROM ROW({new_key}) THEN
        DELETE FROM {target} WHERE {match_old};
      END IF;
      {upsert}
    ELSE
      DELETE FROM {target} WHERE {match_old};
    END IF;
  EXCEPTION WHEN OTHERS THEN
    {on_error}
  END;"
    )
}

/// The change log: one row per key changed in the original since the
/// capture triggers were installed (a key change logs the old key and the
/// new). Its columns are the key's, with the original's types; the index
/// serves the copy's and the replay's key ranges. Its replica identity is
/// the whole row: under a publication that publishes all tables (and so
/// deletes), a table without one cannot be deleted from.
pub fn create_log(n: &Names, info: &TableInfo, key: &[String]) -> String {
    let cols = list(key, |k| format!("{} {}", quote_ident(k), info.column(k).map(|c| c.ty.as_str()).unwrap_or("text")));
    format!(
        "CREATE TABLE {log} ({cols});\nCREATE INDEX ON {log} ({keys});\nALTER TABLE {log} REPLICA IDENTITY FULL;\n{}",
        create_replayed(n),
        log = n.log(),
        keys = list(key, quote_ident)
    )
}

/// The keys replayed (see [`replay`]); also made for jobs started before it existed.
pub fn create_replayed(n: &Names) -> String {
    format!("CREATE TABLE IF NOT EXISTS {} (LIKE {})", n.replayed(), n.log())
}

pub fn drop_log(n: &Names) -> String {
    format!("DROP TABLE IF EXISTS {}, {}", n.log(), n.replayed())
}

/// The capture triggers: one statement-level trigger per event, which logs
/// the keys the statement touched (from its transition tables), in the
/// application's own transaction. They write one narrow row per key and
/// take no lock an application write could wait on. They never raise: if
/// the log cannot be written the job is marked failed instead (and the swap
/// refuses). A TRUNCATE empties the shadow with it.
pub fn capture_triggers(n: &Names, key: &[String]) -> String {
    let keys = list(key, quote_ident);
    let fail = format!(
        "UPDATE {jobs} SET state = 'failed', error = 'change capture: ' || SQLERRM, updated_at = now() WHERE id = {job};",
        jobs = n.jobs(),
        job = n.job
    );
    let mut sql = format!(
        "CREATE FUNCTION {fwd}() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $sw$
BEGIN
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO {log} ({keys}) SELECT {keys} FROM sw_new;
    ELSIF TG_OP = 'UPDATE' THEN
      INSERT INTO {log} ({keys}) SELECT {keys} FROM sw_old UNION SELECT {keys} FROM sw_new;
    ELSE
      INSERT INTO {log} ({keys}) SELECT {keys} FROM sw_old;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    {fail}
  END;
  RETURN NULL;
END
$sw$;
CREATE FUNCTION {trunc}() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $sw$
BEGIN
  TRUNCATE {shadow};
  RETURN NULL;
END
$sw$;
",
        log = n.log(),
        fwd = n.function("fwd"),
        trunc = n.function("trunc"),
        shadow = n.shadow_q(),
    );
    // A trigger with transition tables fires on one event only.
    for (event, tables) in CAPTURE_EVENTS {
        sql.push_str(&format!(
            "CREATE TRIGGER {t} AFTER {event} ON {orig} REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {fwd}();\n",
            t = n.trigger(&event.to_lowercase()),
            orig = n.original(),
            fwd = n.function("fwd"),
        ));
    }
    sql.push_str(&format!(
        "CREATE TRIGGER {t} AFTER TRUNCATE ON {orig} FOR EACH STATEMENT EXECUTE FUNCTION {trunc}();",
        t = n.trigger("trunc"),
        orig = n.original(),
        trunc = n.function("trunc"),
    ));
    sql
}

const CAPTURE_EVENTS: [(&str, &str); 3] =
    [("INSERT", "NEW TABLE AS sw_new"), ("UPDATE", "OLD TABLE AS sw_old NEW TABLE AS sw_new"), ("DELETE", "OLD TABLE AS sw_old")];

/// Drop the capture triggers (on the live table: run under lock_timeout).
/// `fwd` is the row trigger of jobs started before the change log.
pub fn drop_triggers(n: &Names, on: &str) -> String {
    ["insert", "update", "delete", "trunc", "fwd"]
        .iter()
        .map(|t| format!("DROP TRIGGER IF EXISTS {} ON {on};", n.trigger(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn drop_functions(n: &Names) -> String {
    format!(
        "DROP FUNCTION IF EXISTS {}();\nDROP FUNCTION IF EXISTS {}();\nDROP FUNCTION IF EXISTS {}();",
        n.function("fwd"),
        n.function("trunc"),
        n.function("rev")
    )
}

/// A column written back to the old table by the reverse trigger: its name
/// and, where the new table changed its type, the old type to convert to.
#[derive(Debug, Clone)]
pub struct BackColumn {
    pub name: String,
    pub old_type: Option<String>,
}

impl BackColumn {
    /// `NEW.c` converted to the old type. Length-limited types take the
    /// assignment cast, which raises on a value too long, where an explicit
    /// cast would silently cut it.
    fn value(&self) -> String {
        let v = format!("NEW.{}", quote_ident(&self.name));
        match &self.old_type {
            Some(t) if !t.contains('(') => format!("{v}::{t}"),
            _ => v,
        }
    }
}

/// After the swap: the trigger on the new table that keeps the old one
/// (renamed) in sync, so `osc revert` loses nothing written since. A change
/// it cannot write back (a bigint id past the old integer range) never fails
/// the application's write: it records once why revert is no longer possible.
/// Installed by the swap, which holds both tables exclusively.
pub fn reverse_trigger(n: &Names, key: &[String], cols: &[BackColumn]) -> String {
    let old = n.qualified(&n.old);
    let cols: Vec<(String, String)> = cols.iter().map(|c| (c.name.clone(), c.value())).collect();
    // Checked before updating, so that once revert is blocked the
    // application's transactions do not queue on the job's row.
    let block = format!(
        "IF EXISTS (SELECT 1 FROM {jobs} WHERE id = {job} AND revert_blocked IS NULL) THEN
      UPDATE {jobs} SET revert_blocked = CASE TG_OP WHEN 'DELETE' THEN 'a delete' ELSE 'an ' || lower(TG_OP) END
                                  || ' on the new table could not be written back to the old one: ' || SQLERRM,
             updated_at = now()
       WHERE id = {job} AND revert_blocked IS NULL;
    END IF;",
        jobs = n.jobs(),
        job = n.job
    );
    format!(
        "CREATE FUNCTION {rev}() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $sw$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE {old};
    RETURN NULL;
  END IF;
  {body}
  RETURN NULL;
END
$sw$;
CREATE TRIGGER {rev_t} AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {rev}();
CREATE TRIGGER {rev_trunc_t} AFTER TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {rev}();",
        body = mirror_row(&old, key, &cols, &block),
        rev = n.function("rev"),
        rev_t = n.trigger("rev"),
        rev_trunc_t = n.trigger("rev_trunc"),
        table = n.original(),
    )
}

/// Drop the reverse triggers from the new table (it is live: run under lock_timeout).
pub fn drop_reverse_triggers(n: &Names) -> String {
    format!(
        "DROP TRIGGER IF EXISTS {} ON {on};\nDROP TRIGGER IF EXISTS {} ON {on};",
        n.trigger("rev"),
        n.trigger("rev_trunc"),
        on = n.original()
    )
}

/// One copy batch, run in a REPEATABLE READ transaction: the rows with keys
/// after `lo` up to `hi` (the end when `hi` is `None`) are inserted into the
/// shadow, and the log entries for those keys that the same snapshot sees
/// are forgotten (the rows copied already hold those changes). A change the
/// snapshot does not see keeps its entry and is replayed. Nothing is locked
/// that an application write could wait on. Returns the rows copied.
pub fn copy_batch(n: &Names, info: &TableInfo, key: &[String], common: &[String], lo: Option<&[String]>, hi: Option<&[String]>) -> String {
    let cols = list(common, quote_ident);
    let range = key_range(info, key, lo, hi);
    format!(
        "WITH ins AS (INSERT INTO {shadow} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM ONLY {orig} {range} RETURNING 1),
              seen AS (DELETE FROM {log} {range})
         SELECT count(*) FROM ins",
        orig = n.original(),
        shadow = n.shadow_q(),
        log = n.log(),
    )
}

/// Whether a copy batch can find its own end ([`copy_next`]): every key
/// column is an integer in the original and in the shadow, so the keys the
/// shadow returns sort as the original's do and print alike (text and other
/// collatable keys, whose order an ALTER may change, take [`chunk_end`]
/// then [`copy_batch`]).
pub fn integer_key(info: &TableInfo, key: &[String], shadow: &[super::table::Column]) -> bool {
    let integer = |ty: Option<&str>| matches!(ty, Some("smallint" | "integer" | "bigint"));
    key.iter()
        .all(|k| integer(info.column(k).map(|c| c.ty.as_str())) && integer(shadow.iter().find(|c| &c.name == k).map(|c| c.ty.as_str())))
}

/// One copy batch that finds its own end in the same scan of the key index
/// (with [`chunk_end`] first, the index is read twice: 5-11 ms beside the
/// batch's 35-54 ms for 20,000 rows, measured): the next `rows` rows after `lo` in key order are
/// inserted into the shadow, and the log entries up to the last key copied
/// that the same snapshot sees are forgotten. Entries after it stay, which
/// is always safe (a replay of a key is idempotent). Returns the rows
/// copied and the last key copied (NULL when none was); fewer rows than
/// `rows` means the batch read every row left. Only for [`integer_key`].
pub fn copy_next(n: &Names, info: &TableInfo, key: &[String], common: &[String], lo: Option<&[String]>, rows: u64) -> String {
    let cols = list(common, quote_ident);
    let keys = list(key, quote_ident);
    let after = key_range(info, key, lo, None);
    let upto = format!("ROW({keys}) <= (SELECT {keys} FROM edge)");
    let seen = if after.is_empty() { format!("WHERE {upto}") } else { format!("{after} AND {upto}") };
    format!(
        "WITH ins AS (INSERT INTO {shadow} ({cols}) OVERRIDING SYSTEM VALUE
                        SELECT {cols} FROM ONLY {orig} {after} ORDER BY {keys} LIMIT {rows} RETURNING {keys}),
              edge AS (SELECT {keys} FROM ins ORDER BY {desc} LIMIT 1),
              seen AS (DELETE FROM {log} {seen})
         SELECT (SELECT count(*) FROM ins), (SELECT ARRAY[{text}] FROM edge)",
        orig = n.original(),
        shadow = n.shadow_q(),
        log = n.log(),
        rows = rows.max(1),
        desc = list(key, |k| format!("{} DESC", quote_ident(k))),
        text = list(key, |k| format!("{}::text", quote_ident(k))),
    )
}

/// Replay the log up to `upto` (every key when `None`), as three statements
/// of one REPEATABLE READ transaction (one snapshot): the shadow's rows for
/// the logged keys are deleted, the original's current rows for them are
/// inserted, and the entries move to the replayed keys (which verification
/// checks once more at its end). Entries of changes the snapshot
/// does not see stay for the next replay. Deleting before inserting makes
/// the shadow's logged keys equal to the original's in that snapshot as a
/// set, so a unique value that moved between two rows never collides.
pub fn replay(n: &Names, info: &TableInfo, key: &[String], common: &[String], upto: Option<&[String]>) -> [String; 3] {
    let cols = list(common, quote_ident);
    let keys = list(key, quote_ident);
    let range = key_range(info, key, None, upto);
    let logged = format!("ROW({keys}) IN (SELECT {keys} FROM {log} {range})", log = n.log());
    [
        format!("DELETE FROM {shadow} WHERE {logged}", shadow = n.shadow_q()),
        format!(
            "INSERT INTO {shadow} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM ONLY {orig} WHERE {logged}",
            shadow = n.shadow_q(),
            orig = n.original()
        ),
        format!(
            "WITH gone AS (DELETE FROM {log} {range} RETURNING {keys}) INSERT INTO {replayed} SELECT {keys} FROM gone",
            log = n.log(),
            replayed = n.replayed()
        ),
    ]
}

/// `WHERE ROW(keys) > ROW(lo) AND ROW(keys) <= ROW(hi)`, either side optional.
pub fn key_range(info: &TableInfo, key: &[String], lo: Option<&[String]>, hi: Option<&[String]>) -> String {
    let lit = |values: &[String]| {
        key.iter()
            .zip(values)
            .map(|(k, v)| format!("{}::{}", quote_literal(v), info.column(k).map(|c| c.ty.as_str()).unwrap_or("text")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let keys = list(key, quote_ident);
    let mut conds = Vec::new();
    if let Some(lo) = lo {
        conds.push(format!("ROW({keys}) > ROW({})", lit(lo)));
    }
    if let Some(hi) = hi {
        conds.push(format!("ROW({keys}) <= ROW({})", lit(hi)));
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

/// How rows are hashed for verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowHash {
    /// Each column by its type's own hash function (`hash_record_extended`):
    /// about three times faster than through text, values equal by the
    /// type's equality hash alike.
    Typed,
    /// The row's text form, for types without a hash function (json, point).
    Text,
}

/// The rows a checksum covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Keys after the first and up to the second (either side open).
    Range(Option<&'a [String]>, Option<&'a [String]>),
    /// The keys replays took out of the log.
    Replayed,
}

/// Count and an order-independent checksum of one key range of a table, the
/// columns cast to `types` (the shadow's types, so that values converted by
/// the ALTER compare equal), leaving out the keys in the change log (those
/// are replayed, and compared after that). The 64-bit hashes are summed
/// exactly (PostgreSQL sums bigint in 128 bits).
pub fn checksum(
    n: &Names,
    table: &str,
    info: &TableInfo,
    key: &[String],
    common: &[(String, String)],
    scope: Scope,
    hash: RowHash,
) -> String {
    let row = common.iter().map(|(c, ty)| format!("{}::{ty}", quote_ident(c))).collect::<Vec<_>>().join(", ");
    let hashed = match hash {
        RowHash::Typed => format!("hash_record_extended(ROW({row}), 0)"),
        RowHash::Text => format!("hashtextextended(ROW({row})::text, 0)"),
    };
    let filter = match scope {
        Scope::Range(lo, hi) => match key_range(info, key, lo, hi) {
            r if r.is_empty() => "WHERE".to_string(),
            r => format!("{r} AND"),
        },
        Scope::Replayed => {
            let keys = list(key, quote_ident);
            format!("WHERE ROW({keys}) IN (SELECT {keys} FROM {}) AND", n.replayed())
        }
    };
    format!(
        "SELECT count(*), coalesce(sum({hashed}), 0)::text FROM ONLY {table} t
          {filter} NOT EXISTS (SELECT 1 FROM {log} l WHERE ROW({lkeys}) = ROW({tkeys}))",
        log = n.log(),
        lkeys = list(key, |k| format!("l.{}", quote_ident(k))),
        tkeys = list(key, |k| format!("t.{}", quote_ident(k))),
    )
}

/// The key of the row `chunk` rows after `lo`: the end of a copy batch or a
/// verify chunk (none when fewer rows are left, up to `upto` when given).
pub fn chunk_end(n: &Names, info: &TableInfo, key: &[String], lo: Option<&[String]>, upto: Option<&[String]>, chunk: u64) -> String {
    // The key is made text only for the row returned, not for every row skipped.
    let last = list(key, |k| format!("{}::text", quote_ident(k)));
    format!(
        "SELECT ARRAY[{last}] FROM (SELECT {order} FROM ONLY {orig} {after} ORDER BY {order} OFFSET {off} LIMIT 1) edge",
        orig = n.original(),
        after = key_range(info, key, lo, upto),
        order = list(key, quote_ident),
        off = chunk.saturating_sub(1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(spec: &[(&str, &str)]) -> Vec<crate::osc::table::Column> {
        spec.iter().map(|(n, ty)| crate::osc::table::Column { name: n.to_string(), ty: ty.to_string(), generated: false }).collect()
    }

    #[test]
    fn only_integer_keys_on_both_sides_let_a_batch_find_its_own_end() {
        let info = |spec: &[(&str, &str)]| TableInfo {
            oid: 1,
            schema: "public".into(),
            name: "t".into(),
            columns: columns(spec),
            key: vec![],
            estimated_rows: 0,
            relkind: "r".into(),
        };
        let key = ["a".to_string(), "b".to_string()];
        let ints = info(&[("a", "integer"), ("b", "smallint"), ("c", "text")]);
        assert!(integer_key(&ints, &key, &columns(&[("a", "bigint"), ("b", "integer"), ("c", "text")])));
        // A key the ALTER turns into text sorts differently: its ends are found ahead.
        assert!(!integer_key(&ints, &key, &columns(&[("a", "text"), ("b", "integer")])));
        assert!(!integer_key(&info(&[("a", "uuid"), ("b", "integer")]), &key, &columns(&[("a", "uuid"), ("b", "integer")])));
        assert!(!integer_key(&info(&[("a", "numeric"), ("b", "integer")]), &key, &columns(&[("a", "numeric"), ("b", "integer")])));
    }

    #[test]
    fn names_carry_the_job_and_fit_in_63_bytes() {
        let n = Names::new("public", &"x".repeat(63), "stepwise", 12);
        assert!(n.shadow.starts_with("_sw12_") && n.shadow.ends_with("_new") && n.shadow.len() <= 63);
        assert_eq!(Names::new("public", "orders", "stepwise", 3).old, "_sw3_orders_old");
    }
}
