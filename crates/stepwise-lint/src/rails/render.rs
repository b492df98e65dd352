//! The SQL text of the adapter in use: quoting, Rails' column types and
//! their defaults by migration version, column definitions, literals.
//! Written from ActiveRecord's PostgreSQL and MySQL adapters
//! (`NATIVE_DATABASE_TYPES`, `SchemaCreation`, `add_column_options!`).

use super::ruby::{Call, R};
use stepwise_sql::Dialect;

/// The adapter and the migration's Rails version (`Migration[7.1]` → 7.1;
/// 4.2 for an unversioned `ActiveRecord::Migration`).
#[derive(Debug, Clone, Copy)]
pub struct Sql {
    pub dialect: Dialect,
    pub rails: f32,
}

impl Sql {
    pub fn pg(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// A quoted identifier: `"name"` on PostgreSQL, `` `name` `` on MySQL.
    /// `schema.table` is quoted part by part on PostgreSQL, as Rails does.
    pub fn q(&self, name: &str) -> String {
        if self.pg() {
            name.split('.').map(|p| format!("\"{}\"", p.replace('"', "\"\""))).collect::<Vec<_>>().join(".")
        } else {
            name.split('.').map(|p| format!("`{}`", p.replace('`', "``"))).collect::<Vec<_>>().join(".")
        }
    }

    pub fn string(&self, s: &str) -> String {
        let s = s.replace('\'', "''");
        if self.pg() {
            format!("'{s}'")
        } else {
            format!("'{}'", s.replace('\\', "\\\\"))
        }
    }

    /// A default or a value to assign, as SQL; `Err` names what cannot be
    /// read statically.
    pub fn value(&self, v: &R) -> Result<String, String> {
        Ok(match v {
            R::Str { text, interpolated: false, .. } => self.string(text),
            R::Sym(s) => self.string(s),
            R::Int(i) => i.to_string(),
            R::Float(f) => f.to_string(),
            R::True => "TRUE".into(),
            R::False => "FALSE".into(),
            R::Nil => "NULL".into(),
            // `default: -> { "now()" }`: SQL as written.
            R::Lambda { body, .. } => match body.as_slice() {
                [R::Str { text, interpolated: false, .. }] => text.clone(),
                _ => return Err("a default computed by Ruby code".into()),
            },
            R::Hash(h) if h.is_empty() => self.string("{}"),
            R::Array(a) if a.is_empty() && self.pg() => self.string("{}"),
            R::Array(a) if a.is_empty() => self.string("[]"),
            _ => return Err("a value computed by Ruby code".into()),
        })
    }

    /// Does the migration version use 8-byte ids and references (5.1+)?
    fn big_ids(&self) -> bool {
        self.rails >= 5.1
    }

    /// Rails' `datetime` precision default: 6 from 7.0.
    fn datetime_precision(&self) -> Option<i64> {
        (self.rails >= 7.0).then_some(6)
    }

    /// The column type of a reference (`t.references`): bigint from 5.1.
    pub fn reference_type(&self) -> &'static str {
        if self.big_ids() {
            "bigint"
        } else {
            "integer"
        }
    }

    /// The SQL type for a Rails type with its options.
    pub fn ty(&self, ty: &str, c: &Call) -> Result<String, String> {
        let int = |k: &str| match c.kw(k) {
            Some(R::Int(i)) => Ok(Some(*i)),
            Some(R::Nil) | None => Ok(None),
            Some(_) => Err(format!("`{k}:` computed by Ruby code")),
        };
        let limit = int("limit")?;
        let precision = match c.kw("precision") {
            // `precision: nil` removes the default precision.
            Some(R::Nil) => None,
            Some(R::Int(i)) => Some(*i),
            Some(_) => return Err("`precision:` computed by Ruby code".into()),
            None if ty == "datetime" => self.datetime_precision(),
            None => None,
        };
        let scale = int("scale")?;
        let with_p = |base: &str| match precision {
            Some(p) => format!("{base}({p})"),
            None => base.to_string(),
        };
        let decimal = |base: &str| match (precision, scale) {
            (Some(p), Some(s)) => format!("{base}({p},{s})"),
            (Some(p), None) => format!("{base}({p})"),
            _ => base.to_string(),
        };
        let out = if self.pg() {
            match ty {
                "string" => match limit {
                    Some(l) => format!("character varying({l})"),
                    None => "character varying".into(),
                },
                "text" => "text".into(),
                "integer" => match limit {
                    Some(1) | Some(2) => "smallint".into(),
                    Some(l) if l >= 5 => "bigint".into(),
                    _ => "integer".into(),
                },
                "bigint" => "bigint".into(),
                "float" => "float".into(),
                "decimal" | "numeric" => decimal("decimal"),
                "datetime" => with_p("timestamp"),
                "timestamp" => with_p("timestamp"),
                "timestamptz" => with_p("timestamp with time zone"),
                "time" => with_p("time"),
                "date" => "date".into(),
                "binary" => "bytea".into(),
                "boolean" => "boolean".into(),
                "json" | "jsonb" | "uuid" | "inet" | "cidr" | "macaddr" | "hstore" | "citext" | "ltree" | "tsvector" | "interval"
                | "money" | "xml" | "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle" | "int4range" | "int8range"
                | "numrange" | "tsrange" | "tstzrange" | "daterange" | "oid" => ty.into(),
                "bit" => match limit {
                    Some(l) => format!("bit({l})"),
                    None => "bit".into(),
                },
                "bit_varying" => "bit varying".into(),
                "serial" => "serial".into(),
                "bigserial" => "bigserial".into(),
                "primary_key" => if self.big_ids() { "bigserial primary key" } else { "serial primary key" }.into(),
                _ => return Err(format!("column type `{ty}`")),
            }
        } else {
            match ty {
                "string" => format!("varchar({})", limit.unwrap_or(255)),
                "text" => match limit {
                    Some(l) if l <= 0xff => "tinytext".into(),
                    Some(l) if l <= 0xffff => "text".into(),
                    Some(l) if l <= 0xff_ffff => "mediumtext".into(),
                    Some(_) => "longtext".into(),
                    None => "text".into(),
                },
                "integer" => match limit {
                    Some(1) => "tinyint".into(),
                    Some(2) => "smallint".into(),
                    Some(3) => "mediumint".into(),
                    Some(l) if l >= 5 => "bigint".into(),
                    _ => "int".into(),
                },
                "bigint" => "bigint".into(),
                "float" => "float".into(),
                "decimal" | "numeric" => decimal("decimal"),
                "datetime" => with_p("datetime"),
                "timestamp" => with_p("timestamp"),
                "time" => with_p("time"),
                "date" => "date".into(),
                "binary" | "blob" => match limit {
                    Some(l) if l <= 0xff => "tinyblob".into(),
                    Some(l) if l > 0xffff && l <= 0xff_ffff => "mediumblob".into(),
                    Some(l) if l > 0xff_ffff => "longblob".into(),
                    _ => "blob".into(),
                },
                "boolean" => "tinyint(1)".into(),
                "json" => "json".into(),
                "primary_key" => {
                    if self.big_ids() { "bigint NOT NULL AUTO_INCREMENT PRIMARY KEY" } else { "int NOT NULL AUTO_INCREMENT PRIMARY KEY" }
                        .into()
                }
                "virtual" => return Err("a generated (virtual) column".into()),
                _ => return Err(format!("column type `{ty}`")),
            }
        };
        let unsigned = !self.pg() && matches!(c.kw("unsigned"), Some(R::True));
        let array = self.pg() && matches!(c.kw("array"), Some(R::True));
        Ok(format!("{out}{}{}", if unsigned { " unsigned" } else { "" }, if array { "[]" } else { "" }))
    }

    /// `"name" type DEFAULT x NOT NULL` with the options a column call
    /// carries (`null:`, `default:`, `comment:` on MySQL, `first:`/`after:`).
    pub fn column_def(&self, name: &str, sql_type: &str, c: &Call) -> Result<String, String> {
        let mut out = format!("{} {sql_type}", self.q(name));
        if !self.pg() {
            if let Some(R::Str { text, interpolated: false, .. }) = c.kw("collation") {
                out.push_str(&format!(" COLLATE {}", self.string(text)));
            }
        }
        if let Some(d) = c.kw("default") {
            out.push_str(&format!(" DEFAULT {}", self.value(d)?));
        }
        match c.kw("null") {
            Some(R::False) => out.push_str(" NOT NULL"),
            Some(R::True) | Some(R::Nil) | None => {}
            Some(_) => return Err("`null:` computed by Ruby code".into()),
        }
        if !self.pg() {
            if matches!(c.kw("auto_increment"), Some(R::True)) {
                out.push_str(" AUTO_INCREMENT");
            }
            if let Some(R::Str { text, interpolated: false, .. }) = c.kw("comment") {
                out.push_str(&format!(" COMMENT {}", self.string(text)));
            }
            if matches!(c.kw("first"), Some(R::True)) {
                out.push_str(" FIRST");
            } else if let Some(after) = c.kw("after").and_then(R::name) {
                out.push_str(&format!(" AFTER {}", self.q(after)));
            }
        }
        if matches!(c.kw("primary_key"), Some(R::True)) {
            out.push_str(" PRIMARY KEY");
        }
        Ok(out)
    }

    /// `id` of `create_table`: `None` with `id: false`.
    pub fn primary_key(&self, c: &Call) -> Result<Option<String>, String> {
        let name = c.kw("primary_key").and_then(R::name).unwrap_or("id").to_string();
        let kind = match c.kw("id") {
            Some(R::False) => return Ok(None),
            None | Some(R::True) => None,
            Some(R::Sym(s)) | Some(R::Str { text: s, interpolated: false, .. }) => Some(s.as_str()),
            Some(_) => return Err("`id:` computed by Ruby code".into()),
        };
        let column = match (kind, self.pg()) {
            (None, _) | (Some("primary_key"), _) => format!("{} {}", self.q(&name), self.ty("primary_key", c)?),
            (Some("uuid"), true) => format!("{} uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY", self.q(&name)),
            (Some("bigint"), true) => format!("{} bigserial primary key", self.q(&name)),
            (Some("integer"), true) | (Some("serial"), true) => format!("{} serial primary key", self.q(&name)),
            (Some("bigint"), false) => format!("{} bigint NOT NULL AUTO_INCREMENT PRIMARY KEY", self.q(&name)),
            (Some("integer"), false) => format!("{} int NOT NULL AUTO_INCREMENT PRIMARY KEY", self.q(&name)),
            (Some(other), _) => {
                let bare = Call { kwargs: vec![], ..c.clone() };
                format!("{} {} NOT NULL PRIMARY KEY", self.q(&name), self.ty(other, &bare)?)
            }
        };
        Ok(Some(column))
    }

    /// The two timestamp columns: NOT NULL from Rails 5.0 unless `null:`
    /// says otherwise, precision 6 from 7.0.
    pub fn timestamps(&self, c: &Call) -> Result<[String; 2], String> {
        let mut opts = c.clone();
        if c.kw("null").is_none() && self.rails >= 5.0 {
            opts.kwargs.push(("null".into(), R::False));
        }
        let ty = self.ty("datetime", &opts)?;
        Ok([self.column_def("created_at", &ty, &opts)?, self.column_def("updated_at", &ty, &opts)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(kwargs: Vec<(&str, R)>) -> Call {
        Call {
            receiver: None,
            name: "x".into(),
            args: vec![],
            kwargs: kwargs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            block: None,
            span: 0..0,
            name_at: 0,
        }
    }

    #[test]
    fn types_follow_the_adapter_and_the_migration_version() {
        let pg = Sql { dialect: Dialect::Postgres, rails: 7.1 };
        let my = Sql { dialect: Dialect::MySql, rails: 7.1 };
        let old = Sql { dialect: Dialect::Postgres, rails: 5.0 };
        let none = call(vec![]);
        assert_eq!(pg.ty("string", &none).unwrap(), "character varying");
        assert_eq!(my.ty("string", &none).unwrap(), "varchar(255)");
        assert_eq!(pg.ty("datetime", &none).unwrap(), "timestamp(6)");
        assert_eq!(my.ty("datetime", &none).unwrap(), "datetime(6)");
        assert_eq!(old.ty("datetime", &none).unwrap(), "timestamp");
        assert_eq!(pg.ty("primary_key", &none).unwrap(), "bigserial primary key");
        assert_eq!(old.ty("primary_key", &none).unwrap(), "serial primary key");
        assert_eq!(my.ty("boolean", &none).unwrap(), "tinyint(1)");
        assert_eq!(pg.ty("integer", &call(vec![("limit", R::Int(8))])).unwrap(), "bigint");
        assert_eq!(pg.ty("decimal", &call(vec![("precision", R::Int(10)), ("scale", R::Int(2))])).unwrap(), "decimal(10,2)");
        assert!(pg.ty("mystery", &none).is_err());
        assert_eq!(
            pg.column_def("a", "integer", &call(vec![("default", R::Int(0)), ("null", R::False)])).unwrap(),
            "\"a\" integer DEFAULT 0 NOT NULL"
        );
        assert_eq!(my.string("it's a \\"), "'it''s a \\\\'");
        assert_eq!(pg.q("we\"ird"), "\"we\"\"ird\"");
    }
}
