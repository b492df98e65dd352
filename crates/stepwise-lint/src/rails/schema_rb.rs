//! The app's schema file as the starting point of a lint: `db/schema.rb`
//! (`ActiveRecord::Schema.define ... do create_table ... end`, read with the
//! same DSL interpreter as migrations) or `db/structure.sql` (SQL as is).
//! Tables a migration in the directory creates are left out of the seed:
//! the migrations build those themselves, in order.

use super::interp::{Interp, Migration, Model};
use super::render::Sql;
use super::ruby::{self, R};
use std::collections::HashSet;
use stepwise_sql::error::InputError;
use stepwise_sql::{Dialect, SourceFile};

fn is_sql(file: &SourceFile) -> bool {
    file.name.ends_with(".sql")
}

/// The `define` block of schema.rb, and its Rails version.
fn define_body(file: &SourceFile) -> Result<(Vec<R>, f32), InputError> {
    let parsed = ruby::parse(&file.text)
        .map_err(|e| InputError::new(&file.name, &file.text, e.offset, format!("Ruby syntax error: {}", e.message)))?;
    for node in parsed.body {
        let Some(c) = node.as_call() else { continue };
        if c.name != "define" {
            continue;
        }
        let version = match c.receiver.as_ref().and_then(R::as_call) {
            Some(idx) if idx.name == "[]" => match idx.args.first() {
                Some(R::Float(f)) => *f as f32,
                _ => 8.0,
            },
            _ => 5.0,
        };
        if let Some(b) = &c.block {
            return Ok((b.body.clone(), version));
        }
    }
    Err(InputError::whole_file(&file.name, "no `ActiveRecord::Schema.define` block in this schema file"))
}

/// The table a top-level schema.rb call is about.
fn table_of(node: &R) -> Option<&str> {
    node.as_call().and_then(|c| c.args.first()).and_then(R::name)
}

fn interpret(body: &[R], dialect: Dialect, rails: f32, model: &mut Model) -> Migration {
    let mut it = Interp::new(Sql { dialect, rails }, model);
    it.block(body);
    it.out
}

/// A schema file, read once: the column types it gives (schema.rb) and
/// what it builds.
pub struct SchemaFile<'f> {
    file: &'f SourceFile,
    /// schema.rb's `define` block and Rails version; `None` for structure.sql.
    define: Option<(Vec<R>, f32)>,
}

impl<'f> SchemaFile<'f> {
    /// Read the file, and the column types per table schema.rb gives.
    /// structure.sql gives no Rails model (its SQL goes to the judge as it is).
    pub fn read(file: &'f SourceFile, dialect: Dialect) -> Result<(SchemaFile<'f>, Model), InputError> {
        let mut model = Model::default();
        if is_sql(file) {
            return Ok((SchemaFile { file, define: None }, model));
        }
        let (body, rails) = define_body(file)?;
        interpret(&body, dialect, rails, &mut model);
        Ok((SchemaFile { file, define: Some((body, rails)) }, model))
    }

    /// The SQL that builds the schema file's tables other than `created`.
    pub fn seed_sql(&self, dialect: Dialect, created: &HashSet<&str>) -> String {
        let Some((body, rails)) = &self.define else { return self.file.text.clone() };
        let kept: Vec<R> = body.iter().filter(|n| table_of(n).is_none_or(|t| !created.contains(t))).cloned().collect();
        let mut model = Model::default();
        let m = interpret(&kept, dialect, *rails, &mut model);
        let mut sql = String::from("-- stepwise:up\n");
        for s in m.stmts {
            sql.push_str(s.sql.trim_end().trim_end_matches(';'));
            sql.push_str("\n;\n");
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"ActiveRecord::Schema[7.1].define(version: 2024_05_01_000000) do
  enable_extension "plpgsql"

  create_table "users", force: :cascade do |t|
    t.string "email", null: false
    t.integer "age"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["email"], name: "index_users_on_email", unique: true
  end

  create_table "posts", force: :cascade do |t|
    t.bigint "user_id", null: false
    t.text "body"
    t.index ["user_id"], name: "index_posts_on_user_id"
  end

  add_foreign_key "posts", "users"
end
"#;

    #[test]
    fn schema_rb_gives_types_and_a_seed_without_the_tables_migrations_create() {
        let file = SourceFile { name: "db/schema.rb".into(), text: SCHEMA.into() };
        let (_, model) = SchemaFile::read(&file, Dialect::MySql).ok().unwrap();
        assert_eq!(model.column_type("users", "email"), Some("varchar(255)"));
        assert_eq!(model.column_type("posts", "user_id"), Some("bigint"));
        let created: HashSet<&str> = ["posts"].into_iter().collect();
        let (schema, _) = SchemaFile::read(&file, Dialect::Postgres).ok().unwrap();
        let sql = schema.seed_sql(Dialect::Postgres, &created);
        assert!(sql.contains("CREATE TABLE \"users\""), "{sql}");
        assert!(sql.contains("CREATE UNIQUE INDEX \"index_users_on_email\" ON \"users\" (\"email\")"), "{sql}");
        assert!(!sql.contains("\"posts\""), "{sql}");
    }
}
