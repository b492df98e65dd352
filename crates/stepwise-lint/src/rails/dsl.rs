//! The migration DSL: each method turned into the SQL the adapter sends,
//! written from ActiveRecord's `SchemaStatements`, `SchemaCreation` and the
//! PostgreSQL and MySQL adapters. A method is a list of [`Piece`]s on its
//! table, so `change_table ... bulk: true` can merge them into one ALTER the
//! way Rails does, and a plain call runs them one by one.

use super::interp::{Interp, NoteKind};
use super::names::{check_name, foreign_key_name, index_name, pluralize, singularize, tableize};
use super::render::Sql;
use super::ruby::{Call, R};

/// Part of what a method does to a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Clauses of one `ALTER TABLE <table>`.
    Alter(Vec<String>),
    /// A statement of its own.
    Stmt(String),
    /// An index: `CREATE INDEX` on its own, or the `ADD INDEX` clause that
    /// MySQL's bulk ALTER folds in.
    Index { stmt: String, clause: String },
}

type Pieces = Result<Vec<Piece>, String>;

/// A symbol or string argument (or a local bound to one).
fn name_of(it: &Interp, v: Option<&R>) -> Option<String> {
    v.map(|v| it.resolve(v)).and_then(R::name).map(str::to_string)
}

/// Column names: `:a`, `"a"`, `[:a, :b]`.
fn columns(it: &Interp, v: Option<&R>) -> Option<Vec<String>> {
    match v.map(|v| it.resolve(v))? {
        R::Array(items) => items.iter().map(|i| name_of(it, Some(i))).collect(),
        other => name_of(it, Some(other)).map(|n| vec![n]),
    }
}

fn need(it: &Interp, c: &Call, i: usize, what: &str) -> Result<String, String> {
    name_of(it, c.args.get(i)).ok_or_else(|| format!("`{}`: the {what} is computed by Ruby code", c.name))
}

fn truthy(c: &Call, k: &str) -> bool {
    c.kw(k).and_then(R::truthy).unwrap_or(false)
}

/// The options hash a `Call` carries, as a call of its own (`index: { unique: true }`).
fn sub_options(c: &Call, v: &R) -> Call {
    let kwargs = match v {
        R::Hash(h) => h.iter().filter_map(|(k, v)| k.name().map(|k| (k.to_string(), v.clone()))).collect(),
        _ => vec![],
    };
    Call { kwargs, args: vec![], block: None, ..c.clone() }
}

/// A call without a receiver in the migration's body.
pub fn call(it: &mut Interp, c: &Call) {
    let at = c.name_at;
    let sql = it.sql;
    let result: Result<(), String> = (|| match c.name.as_str() {
        "create_table" => create_table(it, c),
        "create_join_table" => create_join_table(it, c),
        "change_table" => change_table(it, c),
        "execute" | "exec_update" | "exec_delete" | "exec_insert" | "exec_query" => execute(it, c),
        "reversible" => {
            let Some(b) = &c.block else { return Err("`reversible` without a block".into()) };
            let dir = b.params.first().cloned();
            for s in &b.body {
                match s {
                    R::Call(d) if d.receiver == dir.clone().map(R::Local) && d.receiver.is_some() => {
                        if d.name == "up" {
                            if let Some(b) = &d.block {
                                it.block(&b.body);
                            }
                        }
                    }
                    other => it.block(std::slice::from_ref(other)),
                }
            }
            Ok(())
        }
        "up_only" | "say_with_time" | "transaction" => {
            if let Some(b) = &c.block {
                it.block(&b.body);
            }
            Ok(())
        }
        "safety_assured" => {
            let Some(b) = &c.block else { return Ok(()) };
            let before = it.assured;
            it.assured = true;
            it.block(&b.body);
            it.assured = before;
            Ok(())
        }
        "say"
        | "puts"
        | "p"
        | "print"
        | "announce"
        | "select_value"
        | "select_values"
        | "select_all"
        | "select_rows"
        | "select_one"
        | "table_exists?"
        | "column_exists?"
        | "index_exists?"
        | "foreign_key_exists?"
        | "reset_column_information"
        | "require"
        | "disable_ddl_transaction!" => Ok(()),
        "enable_extension" if sql.pg() => {
            let name = need(it, c, 0, "extension")?;
            it.emit(at, format!("CREATE EXTENSION IF NOT EXISTS {}", sql.q(&name)));
            Ok(())
        }
        "disable_extension" if sql.pg() => {
            let name = need(it, c, 0, "extension")?;
            it.emit(at, format!("DROP EXTENSION IF EXISTS {} CASCADE", sql.q(&name)));
            Ok(())
        }
        "enable_extension" | "disable_extension" => Ok(()),
        "create_enum" if sql.pg() => {
            let name = need(it, c, 0, "type")?;
            let values = columns(it, c.args.get(1)).ok_or("`create_enum`: values computed by Ruby code")?;
            let list: Vec<String> = values.iter().map(|v| sql.string(v)).collect();
            it.emit(at, format!("CREATE TYPE {} AS ENUM ({})", sql.q(&name), list.join(", ")));
            Ok(())
        }
        "add_enum_value" if sql.pg() => {
            let name = need(it, c, 0, "type")?;
            let value = need(it, c, 1, "value")?;
            it.emit(at, format!("ALTER TYPE {} ADD VALUE {}", sql.q(&name), sql.string(&value)));
            Ok(())
        }
        "drop_table" | "drop_join_table" => {
            let table = if c.name == "drop_join_table" {
                join_table_name(&need(it, c, 0, "table")?, &need(it, c, 1, "table")?)
            } else {
                need(it, c, 0, "table")?
            };
            let mut s = format!("DROP TABLE {}{}", if truthy(c, "if_exists") { "IF EXISTS " } else { "" }, sql.q(&table));
            if sql.pg() && matches!(c.kw("force"), Some(R::Sym(s)) if s == "cascade") {
                s.push_str(" CASCADE");
            }
            it.emit(at, s);
            it.model.drop_table(&table);
            Ok(())
        }
        "revert" => Err("`revert` runs another migration backwards".into()),
        name => {
            let table = need(it, c, 0, "table")?;
            let pieces = table_method(it, name, &table, c, 1)?;
            run(it, at, &table, pieces, false);
            Ok(())
        }
    })();
    if let Err(e) = result {
        it.note(at, NoteKind::NotAnalysed, e);
    }
}

/// The statements of `pieces` on `table`: each Alter its own ALTER TABLE
/// (or, in a bulk `change_table`, every clause in one).
fn run(it: &mut Interp, at: usize, table: &str, pieces: Vec<Piece>, bulk: bool) {
    let sql = it.sql;
    let alter = |clauses: &[String]| format!("ALTER TABLE {} {}", sql.q(table), clauses.join(", "));
    if bulk {
        let mut clauses = Vec::new();
        let mut rest = Vec::new();
        for p in pieces {
            match p {
                Piece::Alter(c) => clauses.extend(c),
                Piece::Index { clause, .. } if !sql.pg() => clauses.push(clause),
                Piece::Index { stmt, .. } | Piece::Stmt(stmt) => rest.push(stmt),
            }
        }
        if !clauses.is_empty() {
            it.emit(at, alter(&clauses));
        }
        for s in rest {
            it.emit(at, s);
        }
        return;
    }
    for p in pieces {
        match p {
            Piece::Alter(c) => it.emit(at, alter(&c)),
            Piece::Index { stmt, .. } | Piece::Stmt(stmt) => it.emit(at, stmt),
        }
    }
}

/// A method that works on one table: `args[first..]` follow the table.
/// Shared by the top-level form (`add_column :t, :c, :string`) and the
/// `change_table` block form (`t.string :c`).
fn table_method(it: &mut Interp, name: &str, table: &str, c: &Call, first: usize) -> Pieces {
    let sql = it.sql;
    let arg = |i: usize| c.args.get(first + i);
    let name_at =
        |it: &Interp, i: usize, what: &str| name_of(it, arg(i)).ok_or_else(|| format!("`{name}`: the {what} is computed by Ruby code"));
    match name {
        "add_column" => {
            let col = name_at(it, 0, "column")?;
            let ty = name_at(it, 1, "type")?;
            add_column(it, table, &col, &ty, c)
        }
        "remove_column" => {
            let col = name_at(it, 0, "column")?;
            let ie = if truthy(c, "if_exists") { "IF EXISTS " } else { "" };
            Ok(vec![Piece::Alter(vec![format!("DROP COLUMN {ie}{}", sql.q(&col))])])
        }
        "remove_columns" => {
            let cols: Option<Vec<String>> = (0..c.args.len().saturating_sub(first)).map(|i| name_of(it, arg(i))).collect();
            let cols = cols.ok_or("`remove_columns`: a column computed by Ruby code")?;
            Ok(vec![Piece::Alter(cols.iter().map(|col| format!("DROP COLUMN {}", sql.q(col))).collect())])
        }
        "rename_column" => {
            let (from, to) = (name_at(it, 0, "column")?, name_at(it, 1, "new name")?);
            if let Some(ty) = it.model.column_type(table, &from).map(str::to_string) {
                it.model.set_column(table, &to, &ty);
            }
            Ok(vec![Piece::Alter(vec![format!("RENAME COLUMN {} TO {}", sql.q(&from), sql.q(&to))])])
        }
        "rename_table" => {
            let to = name_at(it, 0, "new name")?;
            it.model.rename_table(table, &to);
            Ok(vec![Piece::Stmt(if sql.pg() {
                format!("ALTER TABLE {} RENAME TO {}", sql.q(table), sql.q(&to))
            } else {
                format!("RENAME TABLE {} TO {}", sql.q(table), sql.q(&to))
            })])
        }
        "change_column" => {
            let col = name_at(it, 0, "column")?;
            let ty = name_at(it, 1, "type")?;
            let sql_type = sql.ty(&ty, c)?;
            it.model.set_column(table, &col, &sql_type);
            if sql.pg() {
                let mut clauses = vec![format!(
                    "ALTER COLUMN {} TYPE {sql_type}{}",
                    sql.q(&col),
                    match c.kw("using") {
                        Some(R::Str { text, interpolated: false, .. }) => format!(" USING {text}"),
                        _ => String::new(),
                    }
                )];
                if let Some(d) = c.kw("default") {
                    clauses.push(match d {
                        R::Nil => format!("ALTER COLUMN {} DROP DEFAULT", sql.q(&col)),
                        d => format!("ALTER COLUMN {} SET DEFAULT {}", sql.q(&col), sql.value(d)?),
                    });
                }
                match c.kw("null") {
                    Some(R::False) => clauses.push(format!("ALTER COLUMN {} SET NOT NULL", sql.q(&col))),
                    Some(R::True) => clauses.push(format!("ALTER COLUMN {} DROP NOT NULL", sql.q(&col))),
                    _ => {}
                }
                Ok(vec![Piece::Alter(clauses)])
            } else {
                Ok(vec![Piece::Alter(vec![format!("CHANGE {} {}", sql.q(&col), sql.column_def(&col, &sql_type, c)?)])])
            }
        }
        "change_column_default" | "change_default" => {
            let col = name_at(it, 0, "column")?;
            let value = match (arg(1), c.kw("to")) {
                (_, Some(to)) => to.clone(),
                (Some(v), None) => it.resolve(v).clone(),
                (None, None) if c.kwargs.iter().any(|(k, _)| k == "from") => R::Nil,
                (None, None) => return Err(format!("`{name}` without a default")),
            };
            Ok(vec![Piece::Alter(vec![match value {
                R::Nil => format!("ALTER COLUMN {} DROP DEFAULT", sql.q(&col)),
                v => format!("ALTER COLUMN {} SET DEFAULT {}", sql.q(&col), sql.value(&v)?),
            }])])
        }
        "change_column_null" | "change_null" => {
            let col = name_at(it, 0, "column")?;
            let null = arg(1).map(|v| it.resolve(v)).and_then(R::truthy).ok_or(format!("`{name}`: null computed by Ruby code"))?;
            let mut out = Vec::new();
            if let Some(d) = arg(2).filter(|d| !matches!(d, R::Nil)) {
                out.push(Piece::Stmt(format!(
                    "UPDATE {} SET {} = {} WHERE {} IS NULL",
                    sql.q(table),
                    sql.q(&col),
                    sql.value(it.resolve(d))?,
                    sql.q(&col)
                )));
            }
            if sql.pg() {
                out.push(Piece::Alter(vec![format!("ALTER COLUMN {} {} NOT NULL", sql.q(&col), if null { "DROP" } else { "SET" })]));
            } else {
                let ty = it
                    .model
                    .column_type(table, &col)
                    .ok_or(format!("`{name}` on MySQL restates the column's type, and the type of {table}.{col} is not known (not in db/schema.rb, db/structure.sql or an earlier migration)"))?;
                out.push(Piece::Alter(vec![format!(
                    "CHANGE {} {} {ty}{}",
                    sql.q(&col),
                    sql.q(&col),
                    if null { " NULL" } else { " NOT NULL" }
                )]));
            }
            Ok(out)
        }
        "add_index" | "index" => {
            let cols = columns(it, arg(0)).ok_or(format!("`{name}`: columns computed by Ruby code"))?;
            add_index(it, table, &cols, c).map(|p| vec![p])
        }
        "remove_index" => {
            let index = match (c.kw("name").and_then(R::name), arg(0), c.kw("column")) {
                (Some(n), _, _) => n.to_string(),
                (None, Some(cols), _) | (None, None, Some(cols)) => {
                    index_name(table, &columns(it, Some(cols)).ok_or("`remove_index`: columns computed by Ruby code")?)
                }
                _ => return Err("`remove_index` without a column or a name".into()),
            };
            let concurrently = matches!(c.kw("algorithm"), Some(R::Sym(a)) if a == "concurrently");
            let ie = if truthy(c, "if_exists") { "IF EXISTS " } else { "" };
            Ok(vec![if sql.pg() {
                Piece::Stmt(format!("DROP INDEX {}{ie}{}", if concurrently { "CONCURRENTLY " } else { "" }, sql.q(&index)))
            } else {
                Piece::Index {
                    stmt: format!("DROP INDEX {} ON {}", sql.q(&index), sql.q(table)),
                    clause: format!("DROP INDEX {}", sql.q(&index)),
                }
            }])
        }
        "rename_index" => {
            let (from, to) = (name_at(it, 0, "index")?, name_at(it, 1, "new name")?);
            Ok(vec![if sql.pg() {
                Piece::Stmt(format!("ALTER INDEX {} RENAME TO {}", sql.q(&from), sql.q(&to)))
            } else {
                Piece::Alter(vec![format!("RENAME INDEX {} TO {}", sql.q(&from), sql.q(&to))])
            }])
        }
        "add_reference" | "add_belongs_to" | "references" | "belongs_to" => {
            let r = name_at(it, 0, "reference")?;
            let mut out = Vec::new();
            for p in reference(it, table, &r, c)? {
                out.push(match p {
                    Ref::Column(def) => Piece::Alter(vec![format!("ADD {def}")]),
                    Ref::Index(p) => p,
                    Ref::ForeignKey(clause) => Piece::Alter(vec![clause]),
                });
            }
            Ok(out)
        }
        "remove_reference" | "remove_belongs_to" | "remove_references" => {
            let r = name_at(it, 0, "reference")?;
            let mut out = Vec::new();
            if c.kw("foreign_key").and_then(R::truthy).unwrap_or(false) {
                let fk = foreign_key_name(table, &format!("{r}_id"));
                out.push(Piece::Alter(vec![drop_fk(sql, &fk)]));
            }
            let mut drops = vec![format!("DROP COLUMN {}", sql.q(&format!("{r}_id")))];
            if truthy(c, "polymorphic") {
                drops.push(format!("DROP COLUMN {}", sql.q(&format!("{r}_type"))));
            }
            out.push(Piece::Alter(drops));
            Ok(out)
        }
        "add_foreign_key" | "foreign_key" => {
            let to = name_at(it, 0, "referenced table")?;
            Ok(vec![Piece::Alter(vec![foreign_key(it, table, &to, c)?])])
        }
        "remove_foreign_key" => {
            let fk = fk_name(it, table, arg(0), c)?;
            Ok(vec![Piece::Alter(vec![drop_fk(sql, &fk)])])
        }
        "validate_foreign_key" => {
            let fk = fk_name(it, table, arg(0), c)?;
            // MySQL has no NOT VALID foreign keys: the adapter does nothing.
            Ok(if sql.pg() {
                vec![Piece::Stmt(format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", sql.q(table), sql.q(&fk)))]
            } else {
                vec![]
            })
        }
        "add_check_constraint" | "check_constraint" => {
            let expr = match arg(0).map(|v| it.resolve(v)) {
                Some(R::Str { text, interpolated: false, .. }) => text.clone(),
                _ => return Err(format!("`{name}`: the expression is computed by Ruby code")),
            };
            let chk = c.kw("name").and_then(R::name).map(str::to_string).unwrap_or_else(|| check_name(table, &expr));
            let not_valid = sql.pg() && matches!(c.kw("validate"), Some(R::False));
            Ok(vec![Piece::Alter(vec![format!(
                "ADD CONSTRAINT {} CHECK ({expr}){}",
                sql.q(&chk),
                if not_valid { " NOT VALID" } else { "" }
            )])])
        }
        "remove_check_constraint" => {
            let chk = match (c.kw("name").and_then(R::name), arg(0).map(|v| it.resolve(v))) {
                (Some(n), _) => n.to_string(),
                (None, Some(R::Str { text, interpolated: false, .. })) => check_name(table, text),
                _ => return Err("`remove_check_constraint`: the name is computed by Ruby code".into()),
            };
            Ok(vec![Piece::Alter(vec![if sql.pg() {
                format!("DROP CONSTRAINT {}", sql.q(&chk))
            } else {
                format!("DROP CHECK {}", sql.q(&chk))
            }])])
        }
        "validate_check_constraint" | "validate_constraint" => {
            let chk = match (c.kw("name").and_then(R::name), arg(0).map(|v| it.resolve(v))) {
                (Some(n), _) => n.to_string(),
                (None, Some(R::Str { text, interpolated: false, .. })) => check_name(table, text),
                (None, Some(R::Sym(n))) => n.clone(),
                _ => return Err(format!("`{name}`: the name is computed by Ruby code")),
            };
            Ok(if sql.pg() {
                vec![Piece::Stmt(format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", sql.q(table), sql.q(&chk)))]
            } else {
                vec![]
            })
        }
        "add_timestamps" | "timestamps" => {
            let [a, b] = sql.timestamps(c)?;
            let ty = sql.ty("datetime", c)?;
            it.model.set_column(table, "created_at", &ty);
            it.model.set_column(table, "updated_at", &ty);
            Ok(vec![Piece::Alter(vec![format!("ADD {a}"), format!("ADD {b}")])])
        }
        "remove_timestamps" => {
            Ok(vec![Piece::Alter(vec![format!("DROP COLUMN {}", sql.q("created_at")), format!("DROP COLUMN {}", sql.q("updated_at"))])])
        }
        "change_column_comment" | "change_table_comment" => {
            let comment = match (c.kw("to"), arg(if name == "change_table_comment" { 0 } else { 1 })) {
                (Some(v), _) | (None, Some(v)) => it.resolve(v).clone(),
                _ => R::Nil,
            };
            let text = match comment {
                R::Nil => "NULL".to_string(),
                v => sql.value(&v)?,
            };
            if name == "change_table_comment" {
                return Ok(vec![if sql.pg() {
                    Piece::Stmt(format!("COMMENT ON TABLE {} IS {text}", sql.q(table)))
                } else {
                    Piece::Alter(vec![format!("COMMENT {text}")])
                }]);
            }
            let col = name_at(it, 0, "column")?;
            if sql.pg() {
                Ok(vec![Piece::Stmt(format!("COMMENT ON COLUMN {}.{} IS {text}", sql.q(table), sql.q(&col)))])
            } else {
                let ty =
                    it.model.column_type(table, &col).ok_or(format!("`{name}` on MySQL restates the column's type, which is not known"))?;
                Ok(vec![Piece::Alter(vec![format!("CHANGE {} {} {ty} COMMENT {text}", sql.q(&col), sql.q(&col))])])
            }
        }
        other => Err(format!("`{other}` is not a migration method stepwise knows")),
    }
}

fn drop_fk(sql: Sql, name: &str) -> String {
    if sql.pg() {
        format!("DROP CONSTRAINT {}", sql.q(name))
    } else {
        format!("DROP FOREIGN KEY {}", sql.q(name))
    }
}

/// The name of a foreign key from `remove_foreign_key`/`validate_foreign_key` arguments.
fn fk_name(it: &Interp, table: &str, to: Option<&R>, c: &Call) -> Result<String, String> {
    if let Some(n) = c.kw("name").and_then(R::name) {
        return Ok(n.to_string());
    }
    let column = match (c.kw("column").and_then(R::name), name_of(it, to)) {
        (Some(col), _) => col.to_string(),
        (None, Some(to)) => format!("{}_id", singularize(&to)),
        _ => return Err(format!("`{}`: the foreign key is computed by Ruby code", c.name)),
    };
    Ok(foreign_key_name(table, &column))
}

fn add_column(it: &mut Interp, table: &str, col: &str, ty: &str, c: &Call) -> Pieces {
    let sql = it.sql;
    if ty == "references" || ty == "belongs_to" {
        return Err("`add_column` with a reference type: write `add_reference`".into());
    }
    let sql_type = sql.ty(ty, c)?;
    it.model.set_column(table, col, &sql_type);
    let ine = if truthy(c, "if_not_exists") { "IF NOT EXISTS " } else { "" };
    Ok(vec![Piece::Alter(vec![format!("ADD {ine}{}", sql.column_def(col, &sql_type, c)?)])])
}

/// `CREATE INDEX` (or MySQL's `ADD INDEX` clause) the way `add_index` writes it.
fn add_index(it: &Interp, table: &str, cols: &[String], c: &Call) -> Result<Piece, String> {
    let sql = it.sql;
    let name = match c.kw("name") {
        Some(v) => name_of(it, Some(v)).ok_or("`add_index`: the name is computed by Ruby code")?,
        None => index_name(table, cols),
    };
    let kind = match (c.kw("unique").and_then(R::truthy), c.kw("type").and_then(R::name)) {
        (Some(true), _) => "UNIQUE ",
        (_, Some("fulltext")) if !sql.pg() => "FULLTEXT ",
        (_, Some("spatial")) if !sql.pg() => "SPATIAL ",
        _ => "",
    };
    // One string with parentheses or spaces is an expression (`"lower(email)"`).
    let list = if cols.len() == 1 && cols[0].contains(['(', ' ', ',']) {
        cols[0].clone()
    } else {
        let length = |col: &str| -> String {
            match c.kw("length") {
                Some(R::Int(n)) if !sql.pg() => format!("({n})"),
                Some(R::Hash(h)) if !sql.pg() => h
                    .iter()
                    .find(|(k, _)| k.name() == Some(col))
                    .and_then(|(_, v)| if let R::Int(n) = v { Some(format!("({n})")) } else { None })
                    .unwrap_or_default(),
                _ => String::new(),
            }
        };
        let order = |col: &str| -> String {
            match c.kw("order") {
                Some(R::Sym(o)) => format!(" {}", o.to_uppercase()),
                Some(R::Hash(h)) => h
                    .iter()
                    .find(|(k, _)| k.name() == Some(col))
                    .and_then(|(_, v)| v.name())
                    .map(|o| format!(" {}", o.to_uppercase()))
                    .unwrap_or_default(),
                _ => String::new(),
            }
        };
        cols.iter().map(|col| format!("{}{}{}", sql.q(col), length(col), order(col))).collect::<Vec<_>>().join(", ")
    };
    let algorithm = c.kw("algorithm").and_then(R::name);
    let ine = if truthy(c, "if_not_exists") { "IF NOT EXISTS " } else { "" };
    if sql.pg() {
        let concurrently = match algorithm {
            Some("concurrently") => "CONCURRENTLY ",
            None => "",
            Some(other) => return Err(format!("`algorithm: :{other}`: PostgreSQL's adapter knows only :concurrently")),
        };
        let using = c.kw("using").and_then(R::name).map(|u| format!(" USING {u}")).unwrap_or_default();
        let include = match c.kw("include").map(|v| columns(it, Some(v))) {
            Some(Some(cols)) => format!(" INCLUDE ({})", cols.iter().map(|c| sql.q(c)).collect::<Vec<_>>().join(", ")),
            _ => String::new(),
        };
        let nulls = if truthy(c, "nulls_not_distinct") { " NULLS NOT DISTINCT" } else { "" };
        let cond = match c.kw("where") {
            Some(R::Str { text, interpolated: false, .. }) => format!(" WHERE {text}"),
            Some(_) => return Err("`add_index`: `where:` computed by Ruby code".into()),
            None => String::new(),
        };
        let stmt =
            format!("CREATE {kind}INDEX {concurrently}{ine}{} ON {}{using} ({list}){include}{nulls}{cond}", sql.q(&name), sql.q(table));
        Ok(Piece::Index { clause: stmt.clone(), stmt })
    } else {
        let alg = match algorithm {
            None | Some("default") => String::new(),
            Some(a @ ("inplace" | "copy" | "instant" | "nocopy")) => format!(" ALGORITHM = {}", a.to_uppercase()),
            Some(other) => {
                return Err(format!(
                "`algorithm: :{other}` is not one of MySQL's (:default, :copy, :inplace, :instant): the MySQL adapter raises ArgumentError"
            ))
            }
        };
        let using = c.kw("using").and_then(R::name).map(|u| format!(" USING {}", u.to_uppercase())).unwrap_or_default();
        Ok(Piece::Index {
            stmt: format!("CREATE {kind}INDEX {} ON {}{using} ({list}){alg}", sql.q(&name), sql.q(table)),
            clause: format!("ADD {kind}INDEX {}{using} ({list})", sql.q(&name)),
        })
    }
}

/// The `ADD CONSTRAINT ... FOREIGN KEY` clause of `add_foreign_key`.
fn foreign_key(it: &Interp, from: &str, to: &str, c: &Call) -> Result<String, String> {
    let sql = it.sql;
    let column = match c.kw("column") {
        Some(v) => name_of(it, Some(v)).ok_or("`add_foreign_key`: the column is computed by Ruby code")?,
        None => format!("{}_id", singularize(to)),
    };
    let pk = c.kw("primary_key").and_then(R::name).unwrap_or("id").to_string();
    let name = c.kw("name").and_then(R::name).map(str::to_string).unwrap_or_else(|| foreign_key_name(from, &column));
    let action = |k: &str| match c.kw(k).and_then(R::name) {
        Some("cascade") => format!(" ON {} CASCADE", if k == "on_delete" { "DELETE" } else { "UPDATE" }),
        Some("nullify") => format!(" ON {} SET NULL", if k == "on_delete" { "DELETE" } else { "UPDATE" }),
        Some("restrict") => format!(" ON {} RESTRICT", if k == "on_delete" { "DELETE" } else { "UPDATE" }),
        _ => String::new(),
    };
    let not_valid = sql.pg() && matches!(c.kw("validate"), Some(R::False));
    Ok(format!(
        "ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}{}{}",
        sql.q(&name),
        sql.q(&column),
        sql.q(to),
        sql.q(&pk),
        action("on_delete"),
        action("on_update"),
        if not_valid { " NOT VALID" } else { "" }
    ))
}

/// What `t.references` / `add_reference` makes.
enum Ref {
    Column(String),
    Index(Piece),
    ForeignKey(String),
}

fn reference(it: &mut Interp, table: &str, r: &str, c: &Call) -> Result<Vec<Ref>, String> {
    let sql = it.sql;
    let mut out = Vec::new();
    let polymorphic = truthy(c, "polymorphic");
    let ty = c.kw("type").and_then(R::name).unwrap_or(sql.reference_type()).to_string();
    let id_col = format!("{r}_id");
    let opts = Call {
        kwargs: c
            .kwargs
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "null" | "default" | "comment" | "after" | "first"))
            .cloned()
            .collect(),
        ..c.clone()
    };
    let id_type = sql.ty(&ty, &opts)?;
    let mut cols = vec![id_col.clone()];
    // Rails puts the polymorphic type column first.
    if polymorphic {
        let t = sql.ty("string", &opts)?;
        out.push(Ref::Column(sql.column_def(&format!("{r}_type"), &t, &opts)?));
        it.model.set_column(table, &format!("{r}_type"), &t);
        cols.insert(0, format!("{r}_type"));
    }
    out.push(Ref::Column(sql.column_def(&id_col, &id_type, &opts)?));
    it.model.set_column(table, &id_col, &id_type);
    // References are indexed by default from Rails 5.0.
    let index = c.kw("index").cloned().unwrap_or(if sql.rails >= 5.0 { R::True } else { R::False });
    if index.truthy().unwrap_or(true) {
        let idx_opts = sub_options(c, &index);
        out.push(Ref::Index(add_index(it, table, &cols, &idx_opts)?));
    }
    if let Some(fk) = c.kw("foreign_key").filter(|v| v.truthy() == Some(true)) {
        let fk_opts = sub_options(c, fk);
        let to = fk_opts.kw("to_table").and_then(R::name).map(str::to_string).unwrap_or_else(|| pluralize(r));
        let mut fk_opts = fk_opts;
        fk_opts.kwargs.push(("column".into(), R::Sym(id_col)));
        out.push(Ref::ForeignKey(foreign_key(it, table, &to, &fk_opts)?));
    }
    Ok(out)
}

fn join_table_name(a: &str, b: &str) -> String {
    let mut t = [a.to_string(), b.to_string()];
    t.sort();
    format!("{}_{}", t[0], t[1])
}

/// The column calls of a `create_table`/`change_table` block (`t.string :a, :b`).
const COLUMN_TYPES: &[&str] = &[
    "string",
    "text",
    "integer",
    "bigint",
    "float",
    "decimal",
    "numeric",
    "datetime",
    "timestamp",
    "timestamptz",
    "time",
    "date",
    "binary",
    "blob",
    "boolean",
    "json",
    "jsonb",
    "uuid",
    "inet",
    "cidr",
    "macaddr",
    "hstore",
    "citext",
    "ltree",
    "tsvector",
    "interval",
    "money",
    "xml",
    "point",
    "bit",
    "bit_varying",
    "serial",
    "bigserial",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
];

fn create_table(it: &mut Interp, c: &Call) -> Result<(), String> {
    let sql = it.sql;
    let at = c.name_at;
    let table = need(it, c, 0, "table")?;
    if let Some(force) = c.kw("force").filter(|f| f.truthy() == Some(true)) {
        let cascade = sql.pg() && matches!(force, R::Sym(s) if s == "cascade");
        it.emit(at, format!("DROP TABLE IF EXISTS {}{}", sql.q(&table), if cascade { " CASCADE" } else { "" }));
    }
    it.model.create_table(&table);
    it.out.created_tables.push(table.clone());
    let mut defs = Vec::new();
    if let Some(pk) = sql.primary_key(c)? {
        let name = c.kw("primary_key").and_then(R::name).unwrap_or("id").to_string();
        // The key's type as the column definition says it (`"id" bigserial primary key` → bigint).
        let def = pk[sql.q(&name).len()..].trim_start().to_ascii_lowercase();
        let ty = match def.split_whitespace().next().unwrap_or("") {
            "bigserial" => "bigint",
            "serial" => "integer",
            other => other,
        }
        .to_string();
        it.model.set_column(&table, &name, &ty);
        defs.push(pk);
    }
    let mut after = Vec::new();
    let mut constraints = Vec::new();
    if let Some(b) = &c.block {
        let t = b.params.first().cloned().unwrap_or_default();
        for s in &b.body {
            let Some(col) = s.as_call().filter(|col| col.receiver == Some(R::Local(t.clone()))) else {
                if !matches!(s, R::Str { .. }) {
                    let where_ = s.span().map(|s| s.start).unwrap_or(at);
                    it.not_analysed(where_, "a statement in a `create_table` block that is not a column of the table");
                }
                continue;
            };
            if let Err(e) = table_column(it, &table, col, &mut defs, &mut after, &mut constraints) {
                it.not_analysed(col.name_at, e);
            }
        }
    }
    defs.extend(constraints);
    let mut inline_indexes = Vec::new();
    let mut separate = Vec::new();
    for p in after {
        match p {
            Piece::Index { clause, .. } if !sql.pg() => inline_indexes.push(clause.trim_start_matches("ADD ").to_string()),
            Piece::Index { stmt, .. } | Piece::Stmt(stmt) => separate.push(stmt),
            Piece::Alter(c) => separate.push(format!("ALTER TABLE {} {}", sql.q(&table), c.join(", "))),
        }
    }
    defs.extend(inline_indexes);
    let temporary = if truthy(c, "temporary") { "TEMPORARY " } else { "" };
    let ine = if truthy(c, "if_not_exists") { "IF NOT EXISTS " } else { "" };
    let mut stmt = format!("CREATE {temporary}TABLE {ine}{} ({})", sql.q(&table), defs.join(", "));
    if let Some(R::Str { text, interpolated: false, .. }) = c.kw("options") {
        stmt.push(' ');
        stmt.push_str(text);
    }
    it.emit(at, stmt);
    for s in separate {
        it.emit(at, s);
    }
    Ok(())
}

/// One `t.<something>` of a `create_table` block: columns and
/// constraints go into the CREATE TABLE, indexes after it (PostgreSQL) or
/// into it (MySQL).
fn table_column(
    it: &mut Interp,
    table: &str,
    c: &Call,
    defs: &mut Vec<String>,
    after: &mut Vec<Piece>,
    constraints: &mut Vec<String>,
) -> Result<(), String> {
    let sql = it.sql;
    let names = |it: &Interp| -> Result<Vec<String>, String> {
        c.args
            .iter()
            .map(|a| name_of(it, Some(a)))
            .collect::<Option<Vec<_>>>()
            .ok_or(format!("`t.{}`: a name computed by Ruby code", c.name))
    };
    match c.name.as_str() {
        "column" => {
            let col = need(it, c, 0, "column")?;
            let ty = need(it, c, 1, "type")?;
            column_with_index(it, table, &col, &ty, c, defs, after)
        }
        ty if COLUMN_TYPES.contains(&ty) => {
            for col in names(it)? {
                column_with_index(it, table, &col, ty, c, defs, after)?;
            }
            Ok(())
        }
        "references" | "belongs_to" => {
            for r in names(it)? {
                for p in reference(it, table, &r, c)? {
                    match p {
                        Ref::Column(d) => defs.push(d),
                        Ref::Index(p) => after.push(p),
                        Ref::ForeignKey(clause) => constraints.push(clause.trim_start_matches("ADD ").to_string()),
                    }
                }
            }
            Ok(())
        }
        "timestamps" => {
            defs.extend(sql.timestamps(c)?);
            let ty = sql.ty("datetime", c)?;
            it.model.set_column(table, "created_at", &ty);
            it.model.set_column(table, "updated_at", &ty);
            Ok(())
        }
        "index" => {
            let cols = columns(it, c.args.first()).ok_or("`t.index`: columns computed by Ruby code")?;
            after.push(add_index(it, table, &cols, c)?);
            Ok(())
        }
        "check_constraint" => {
            let Some(R::Str { text, interpolated: false, .. }) = c.args.first() else {
                return Err("`t.check_constraint`: the expression is computed by Ruby code".into());
            };
            let name = c.kw("name").and_then(R::name).map(str::to_string).unwrap_or_else(|| check_name(table, text));
            constraints.push(format!("CONSTRAINT {} CHECK ({text})", sql.q(&name)));
            Ok(())
        }
        "foreign_key" => {
            let to = need(it, c, 0, "referenced table")?;
            constraints.push(foreign_key(it, table, &to, c)?.trim_start_matches("ADD ").to_string());
            Ok(())
        }
        other => Err(format!("`t.{other}` is not a `create_table` method stepwise knows")),
    }
}

fn column_with_index(
    it: &mut Interp,
    table: &str,
    col: &str,
    ty: &str,
    c: &Call,
    defs: &mut Vec<String>,
    after: &mut Vec<Piece>,
) -> Result<(), String> {
    let sql = it.sql;
    let sql_type = sql.ty(ty, c)?;
    it.model.set_column(table, col, &sql_type);
    defs.push(sql.column_def(col, &sql_type, c)?);
    if let Some(index) = c.kw("index").filter(|i| i.truthy() == Some(true)) {
        after.push(add_index(it, table, &[col.to_string()], &sub_options(c, index))?);
    }
    Ok(())
}

fn create_join_table(it: &mut Interp, c: &Call) -> Result<(), String> {
    let sql = it.sql;
    let (a, b) = (need(it, c, 0, "table")?, need(it, c, 1, "table")?);
    let table = c.kw("table_name").and_then(R::name).map(str::to_string).unwrap_or_else(|| join_table_name(&a, &b));
    let ty = sql.reference_type();
    let defs: Vec<String> = [&a, &b].iter().map(|t| format!("{} {ty} NOT NULL", sql.q(&format!("{}_id", singularize(t))))).collect();
    it.out.created_tables.push(table.clone());
    it.emit(c.name_at, format!("CREATE TABLE {} ({})", sql.q(&table), defs.join(", ")));
    if let Some(b) = &c.block {
        let t = b.params.first().cloned().unwrap_or_default();
        for s in &b.body {
            if let Some(ix) = s.as_call().filter(|x| x.receiver == Some(R::Local(t.clone())) && x.name == "index") {
                match columns(it, ix.args.first())
                    .ok_or("`t.index`: columns computed by Ruby code".to_string())
                    .and_then(|cols| add_index(it, &table, &cols, ix))
                {
                    Ok(Piece::Index { stmt, .. }) => it.emit(ix.name_at, stmt),
                    Ok(_) => {}
                    Err(e) => it.not_analysed(ix.name_at, e),
                }
            } else {
                it.not_analysed(s.span().map(|s| s.start).unwrap_or(c.name_at), "a statement in a `create_join_table` block");
            }
        }
    }
    Ok(())
}

/// The `change_table` method each `t.<method>` stands for.
fn change_table_method(name: &str) -> Option<&'static str> {
    Some(match name {
        "column" => "add_column",
        "remove" => "remove_columns",
        "rename" => "rename_column",
        "change" => "change_column",
        "change_default" => "change_column_default",
        "change_null" => "change_column_null",
        "index" => "add_index",
        "remove_index" => "remove_index",
        "rename_index" => "rename_index",
        "references" | "belongs_to" => "add_reference",
        "remove_references" | "remove_belongs_to" => "remove_reference",
        "timestamps" => "add_timestamps",
        "remove_timestamps" => "remove_timestamps",
        "check_constraint" => "add_check_constraint",
        "remove_check_constraint" => "remove_check_constraint",
        "foreign_key" => "add_foreign_key",
        "remove_foreign_key" => "remove_foreign_key",
        _ => return None,
    })
}

fn change_table(it: &mut Interp, c: &Call) -> Result<(), String> {
    let table = need(it, c, 0, "table")?;
    let bulk = truthy(c, "bulk");
    let Some(b) = &c.block else { return Ok(()) };
    let t = b.params.first().cloned().unwrap_or_default();
    let mut all = Vec::new();
    for s in &b.body {
        let Some(col) = s.as_call().filter(|col| col.receiver == Some(R::Local(t.clone()))) else {
            it.not_analysed(
                s.span().map(|s| s.start).unwrap_or(c.name_at),
                "a statement in a `change_table` block that is not a change to the table",
            );
            continue;
        };
        let pieces = if COLUMN_TYPES.contains(&col.name.as_str()) {
            let names: Option<Vec<String>> = col.args.iter().map(|a| name_of(it, Some(a))).collect();
            match names {
                Some(names) => names.iter().try_fold(Vec::new(), |mut acc, n| {
                    acc.extend(add_column(it, &table, n, &col.name, col)?);
                    Ok(acc)
                }),
                None => Err(format!("`t.{}`: a name computed by Ruby code", col.name)),
            }
        } else {
            match change_table_method(&col.name) {
                Some(m) => table_method(it, m, &table, col, 0),
                None => Err(format!("`t.{}` is not a `change_table` method stepwise knows", col.name)),
            }
        };
        match pieces {
            Ok(p) if bulk => all.extend(p),
            Ok(p) => run(it, col.name_at, &table, p, false),
            Err(e) => it.not_analysed(col.name_at, e),
        }
    }
    if bulk {
        run(it, c.name_at, &table, all, true);
    }
    Ok(())
}

/// `execute "SQL"` / a heredoc: the SQL as written, linted as SQL.
fn execute(it: &mut Interp, c: &Call) -> Result<(), String> {
    let Some(arg) = c.args.first() else { return Err("`execute` without SQL".into()) };
    let arg = it.resolve(arg).clone();
    match &arg {
        R::Str { text, content, interpolated: false } => {
            it.emit_literal(*content, text.clone());
            Ok(())
        }
        R::Str { interpolated: true, .. } => Err("SQL built with `#{}` interpolation".into()),
        // `<<~SQL.squish`, `.strip`, `.freeze`: the same SQL.
        R::Call(inner) if matches!(inner.name.as_str(), "squish" | "strip" | "strip_heredoc" | "freeze" | "chomp" | "dup") => {
            match inner.receiver.as_ref().map(|r| it.resolve(r).clone()) {
                Some(R::Str { text, content, interpolated: false }) => {
                    if inner.name == "squish" {
                        it.emit(c.name_at, text.split_whitespace().collect::<Vec<_>>().join(" "));
                    } else {
                        it.emit_literal(content, text);
                    }
                    Ok(())
                }
                Some(R::Str { interpolated: true, .. }) => Err("SQL built with `#{}` interpolation".into()),
                _ => Err("SQL computed by Ruby code".into()),
            }
        }
        _ => Err("SQL computed by Ruby code".into()),
    }
}

/// Constants that are not models.
const NOT_MODELS: &[&str] = &[
    "ActiveRecord::Base",
    "ApplicationRecord",
    "Rails",
    "ENV",
    "Time",
    "Date",
    "DateTime",
    "File",
    "Kernel",
    "Lhm",
    "ActiveRecord::Migration",
    "SecureRandom",
    "JSON",
    "YAML",
];

/// A call with a receiver: the connection (`connection.execute`), LHM,
/// or a model (`User.where(...).update_all(...)`).
pub fn receiver_call(it: &mut Interp, recv: &R, c: &Call) {
    // `connection.execute`, `ActiveRecord::Base.connection.execute`, `User.connection.add_index`.
    if recv.as_call().is_some_and(|r| r.name == "connection") {
        return call(it, &Call { receiver: None, ..c.clone() });
    }
    if matches!(recv, R::Const(k) if k == "Lhm") && c.name == "change_table" {
        return lhm(it, c);
    }
    // Walk the chain down to its constant.
    let mut chain = vec![c];
    let mut cur = recv;
    while let R::Call(inner) = cur {
        chain.push(inner);
        match &inner.receiver {
            Some(r) => cur = r,
            None => break,
        }
    }
    let R::Const(model) = cur else {
        return it.not_analysed(c.name_at, format!("`.{}` on a value stepwise cannot follow", c.name));
    };
    if NOT_MODELS.contains(&model.as_str()) {
        if model == "ActiveRecord::Base" && chain.iter().any(|x| x.name == "transaction") {
            if let Some(b) = &c.block {
                it.block(&b.body);
            }
            return;
        }
        if matches!(model.as_str(), "Rails" | "ENV" | "Time" | "Date" | "DateTime" | "SecureRandom" | "JSON" | "YAML") {
            return;
        }
        return it.not_analysed(c.name_at, format!("`{model}.{}`", c.name));
    }
    let table = it.models.get(model.rsplit("::").next().unwrap_or(model)).cloned().unwrap_or_else(|| tableize(model));
    data_change(it, &table, &chain);
}

/// Methods on a model that read, or set up, and change nothing.
const MODEL_READS: &[&str] = &[
    "reset_column_information",
    "table_name",
    "table_name=",
    "column_names",
    "columns",
    "count",
    "exists?",
    "pluck",
    "first",
    "last",
    "find",
    "find_by",
    "ids",
    "maximum",
    "minimum",
    "sum",
    "connection",
    "primary_key",
    "attribute_names",
    "any?",
    "none?",
    "size",
];

/// `Model.where(...).update_all(...)`, `in_batches`, `find_each { |r| r.update(...) }`:
/// the UPDATE (or DELETE) it sends, so the data-change rule judges it.
fn data_change(it: &mut Interp, table: &str, chain: &[&Call]) {
    let sql = it.sql;
    let last = chain[0];
    let at = last.name_at;
    let mut conds = Vec::new();
    for c in chain.iter().skip(1) {
        if c.name == "where" {
            match where_sql(sql, table, c) {
                Ok(w) => conds.extend(w),
                Err(e) => return it.not_analysed(c.name_at, e),
            }
        }
    }
    let where_ = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    let result = (|| -> Result<Option<String>, String> {
        match last.name.as_str() {
            "update_all" => Ok(Some(format!(
                "UPDATE {} SET {}{where_}",
                sql.q(table),
                assignments(sql, last.args.first().or(Some(&R::Hash(vec![]))), last)?
            ))),
            "delete_all" | "destroy_all" => Ok(Some(format!("DELETE FROM {}{where_}", sql.q(table)))),
            "find_each" | "each" | "find_in_batches" | "in_batches" => {
                let Some(b) = &last.block else { return Err(format!("`.{}` without a block", last.name)) };
                // The row (or batch) the block changes, and how.
                let var = b.params.first().cloned();
                for s in &b.body {
                    let Some(u) = s.as_call() else { continue };
                    if u.receiver != var.clone().map(R::Local) {
                        continue;
                    }
                    match u.name.as_str() {
                        "update" | "update!" | "update_columns" | "update_attributes" | "update_attributes!" | "update_all" => {
                            return Ok(Some(format!("UPDATE {} SET {}{where_}", sql.q(table), assignments(sql, u.args.first(), u)?)));
                        }
                        "update_column" | "update_attribute" => {
                            let col = u.args.first().and_then(R::name).ok_or("`update_column`: the column is computed by Ruby code")?;
                            let v = u.args.get(1).map(|v| sql.value(v)).transpose()?.ok_or("`update_column` without a value")?;
                            return Ok(Some(format!("UPDATE {} SET {} = {v}{where_}", sql.q(table), sql.q(col))));
                        }
                        "delete_all" | "destroy" | "delete" | "destroy_all" => {
                            return Ok(Some(format!("DELETE FROM {}{where_}", sql.q(table))))
                        }
                        _ => {}
                    }
                }
                Err(format!("a Ruby loop over the rows of {table} (`.{}`): what it changes is not readable statically", last.name))
            }
            "update" | "update!" if chain.len() > 1 => {
                Ok(Some(format!("UPDATE {} SET {}{where_}", sql.q(table), assignments(sql, last.args.first(), last)?)))
            }
            "create" | "create!" | "insert" | "insert_all" | "insert_all!" | "upsert_all" | "find_or_create_by" | "find_or_create_by!" => {
                Ok(Some(format!("INSERT INTO {} DEFAULT VALUES", sql.q(table))))
            }
            m if MODEL_READS.contains(&m) || m == "where" || m == "all" => Ok(None),
            m => Err(format!("`.{m}` on the model for {table}")),
        }
    })();
    match result {
        Ok(Some(s)) => it.emit(at, s),
        Ok(None) => {}
        Err(e) => it.not_analysed(at, e),
    }
}

/// `SET` of `update_all(a: 1)` / `update_all("a = 1")` / `update(a: 1)`.
fn assignments(sql: Sql, v: Option<&R>, c: &Call) -> Result<String, String> {
    let pairs: Vec<(String, R)> = match v {
        Some(R::Str { text, interpolated: false, .. }) => return Ok(text.clone()),
        Some(R::Hash(h)) if !h.is_empty() => {
            h.iter().map(|(k, v)| Ok((k.name().ok_or("a computed column")?.to_string(), v.clone()))).collect::<Result<_, String>>()?
        }
        _ if !c.kwargs.is_empty() => c.kwargs.clone(),
        _ => return Err(format!("`.{}`: the change is computed by Ruby code", c.name)),
    };
    pairs.iter().map(|(k, v)| Ok(format!("{} = {}", sql.q(k), sql.value(v)?))).collect::<Result<Vec<_>, String>>().map(|v| v.join(", "))
}

/// `where(a: nil, b: [1, 2])` / `where("a > 1")` as SQL conditions.
fn where_sql(sql: Sql, table: &str, c: &Call) -> Result<Vec<String>, String> {
    if let Some(R::Str { text, interpolated: false, .. }) = c.args.first() {
        if c.args.len() == 1 {
            return Ok(vec![format!("({text})")]);
        }
    }
    let mut pairs: Vec<(String, R)> = c.kwargs.clone();
    if let Some(R::Hash(h)) = c.args.first() {
        for (k, v) in h {
            pairs.push((k.name().ok_or("`where`: a computed column")?.to_string(), v.clone()));
        }
    }
    if pairs.is_empty() {
        return Err("`where` with conditions computed by Ruby code".into());
    }
    pairs
        .iter()
        .map(|(k, v)| {
            let col = format!("{}.{}", sql.q(table), sql.q(k));
            Ok(match v {
                R::Nil => format!("{col} IS NULL"),
                R::Array(items) => format!("{col} IN ({})", items.iter().map(|i| sql.value(i)).collect::<Result<Vec<_>, _>>()?.join(", ")),
                v => format!("{col} = {}", sql.value(v)?),
            })
        })
        .collect()
}

/// `Lhm.change_table :users do |m| ... end`: LHM copies the table and
/// swaps it; its ALTERs are judged as online.
fn lhm(it: &mut Interp, c: &Call) {
    let sql = it.sql;
    let Some(table) = name_of(it, c.args.first()) else {
        return it.not_analysed(c.name_at, "`Lhm.change_table` of a table computed by Ruby code");
    };
    if it.out.online_tool.is_none() {
        it.out.online_tool = Some(("LHM (Large Hadron Migrator)", c.name_at));
        it.note(c.name_at, NoteKind::OnlineTool, "LHM (Large Hadron Migrator)".into());
    }
    let Some(b) = &c.block else { return };
    let m = b.params.first().cloned().unwrap_or_default();
    let before = it.online;
    it.online = true;
    // LHM applies the whole block to one copy of the table: one ALTER.
    let mut clauses = Vec::new();
    for s in &b.body {
        let Some(x) = s.as_call().filter(|x| x.receiver == Some(R::Local(m.clone()))) else {
            it.not_analysed(s.span().map(|s| s.start).unwrap_or(c.name_at), "a statement in an `Lhm.change_table` block");
            continue;
        };
        let s0 = |i: usize| x.args.get(i).and_then(R::name).map(str::to_string);
        let clause = match (x.name.as_str(), s0(0), s0(1)) {
            ("add_column", Some(col), Some(def)) => Some(format!("ADD COLUMN {} {def}", sql.q(&col))),
            ("remove_column", Some(col), _) => Some(format!("DROP COLUMN {}", sql.q(&col))),
            ("change_column", Some(col), Some(def)) => Some(format!("MODIFY COLUMN {} {def}", sql.q(&col))),
            ("rename_column", Some(a), Some(b)) => Some(format!("RENAME COLUMN {} TO {}", sql.q(&a), sql.q(&b))),
            ("add_index" | "add_unique_index", _, _) => match columns(it, x.args.first()) {
                Some(cols) => {
                    let name = x.args.get(1).and_then(R::name).map(str::to_string).unwrap_or_else(|| index_name(&table, &cols));
                    let unique = if x.name == "add_unique_index" { "UNIQUE " } else { "" };
                    Some(format!("ADD {unique}INDEX {} ({})", sql.q(&name), cols.iter().map(|c| sql.q(c)).collect::<Vec<_>>().join(", ")))
                }
                None => None,
            },
            ("remove_index", _, _) => columns(it, x.args.first()).map(|cols| format!("DROP INDEX {}", sql.q(&index_name(&table, &cols)))),
            ("ddl", _, _) => match x.args.first() {
                Some(R::Str { text, interpolated: false, content }) => {
                    it.emit_literal(*content, text.clone());
                    continue;
                }
                _ => None,
            },
            _ => None,
        };
        match clause {
            Some(cl) => clauses.push(cl),
            None => it.not_analysed(x.name_at, format!("`{}.{}` with arguments computed by Ruby code", m, x.name)),
        }
    }
    if !clauses.is_empty() {
        it.emit(c.name_at, format!("ALTER TABLE {} {}", sql.q(&table), clauses.join(", ")));
    }
    it.online = before;
}
