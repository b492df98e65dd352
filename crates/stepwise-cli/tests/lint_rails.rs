//! `stepwise lint` and `stepwise plan` on a Rails application: the adapter
//! from config/database.yml, verdicts per engine, suppression, Ruby that
//! cannot be read, syntax errors, the schema file, and `--database` /
//! `DATABASE_URL` on real PostgreSQL and MariaDB servers.

mod common;
use common::*;

const CREATE: &str = "class CreateUsers < ActiveRecord::Migration[7.1]
  def change
    create_table :users do |t|
      t.string :email
      t.integer :age
      t.timestamps
    end
  end
end
";

const ADD_INDEX: &str = "class AddIndexToUsersEmail < ActiveRecord::Migration[7.1]
  def change
    add_index :users, :email
  end
end
";

/// A Rails app: config/database.yml with `adapter`, and db/migrate files.
fn app(adapter: &str, files: &[(&str, &str)]) -> Project {
    let p = Project::new();
    std::fs::create_dir_all(p.root.join("db/migrate")).unwrap();
    std::fs::create_dir_all(p.root.join("config")).unwrap();
    std::fs::write(
        p.root.join("config/database.yml"),
        format!("default: &default\n  adapter: {adapter}\n\nproduction:\n  <<: *default\n  adapter: {adapter}\n  database: app\n"),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(p.root.join("db/migrate").join(name), text).unwrap();
    }
    p
}

#[test]
fn the_same_migration_is_judged_by_the_adapter_in_database_yml() {
    let files = [("20240101000000_create_users.rb", CREATE), ("20240102000000_add_index_to_users_email.rb", ADD_INDEX)];
    // PostgreSQL: a plain CREATE INDEX blocks writes for the whole build.
    let pg = app("postgresql", &files);
    pg.run("", &["lint", "db/migrate"])
        .code(1)
        .contains("error[require-concurrent-index]")
        .contains("db/migrate/20240102000000_add_index_to_users_email.rb:3:5")
        .contains("add_index :users, :email, algorithm: :concurrently")
        .contains("disable_ddl_transaction!");
    // MySQL: the same index is built in place while writes go on.
    let my = app("mysql2", &files);
    let r = my.run("", &["lint", "db/migrate", "--format", "json"]);
    r.code(0);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let rules: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(!rules.contains(&"require-concurrent-index"), "{rules:?}");
    assert!(rules.iter().all(|r| r.starts_with("mysql-") || r.starts_with("rails-")), "{rules:?}");
    assert!(v["findings"][0]["message"].as_str().unwrap().contains("MySQL 8.0"), "{v}");
    // --dialect beats database.yml.
    my.run("", &["lint", "db/migrate", "--dialect", "postgres"]).code(1).contains("error[require-concurrent-index]");
}

#[test]
fn the_rails_recipe_lints_clean() {
    let fixed = "class AddIndexToUsersEmail < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def change
    add_index :users, :email, algorithm: :concurrently
  end
end
";
    let p = app("postgresql", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_add_index_to_users_email.rb", fixed)]);
    let mut cfg = String::from("[lint]\ndisable = [\"prefer-timestamptz\"]\n");
    cfg.push('\n');
    std::fs::write(p.root.join("stepwise.toml"), cfg).unwrap();
    p.run("", &["lint", "db/migrate"]).ok().contains("0 error(s), 0 warning(s)");
}

#[test]
fn bad_ruby_is_an_input_error_at_its_place_and_the_other_files_are_still_linted() {
    let broken = "class Broken < ActiveRecord::Migration[7.1]\n  def change\n    add_column :users, :name, :string,\n  end\nend\n";
    let p = app(
        "postgresql",
        &[
            ("20240101000000_create_users.rb", CREATE),
            ("20240102000000_add_index_to_users_email.rb", ADD_INDEX),
            ("20240103000000_broken.rb", broken),
        ],
    );
    p.run("", &["lint", "db/migrate"])
        .code(2)
        .contains("db/migrate/20240103000000_broken.rb:4:3")
        .contains("Ruby syntax error")
        .contains("error[require-concurrent-index]");
}

#[test]
fn safety_assured_and_ignore_comments_suppress_and_unused_ignores_are_reported() {
    let m = "class Cleanup < ActiveRecord::Migration[7.1]
  def change
    safety_assured { remove_column :users, :age }
    # stepwise:ignore rename-column the model aliases both names for a deploy
    rename_column :users, :email, :email_address
    # stepwise:ignore drop-table nothing drops a table here
    add_column :users, :note, :text
  end
end
";
    let p = app("postgresql", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_cleanup.rb", m)]);
    let r = p.run("", &["lint", "db/migrate", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let on_case: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].as_str().unwrap().ends_with("_cleanup.rb"))
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(on_case, vec![("unused-ignore".to_string(), 6)], "{v}");
    assert_eq!(v["summary"]["suppressed"], 1);
    assert_eq!(v["suppressed"][0]["rule"], "drop-column");
    assert_eq!(v["suppressed"][0]["line"], 3);
    p.run("", &["lint", "db/migrate"]).contains("1 suppressed by safety_assured (drop-column)");
}

#[test]
fn ruby_that_cannot_be_read_is_reported_not_analysed_and_counted() {
    let m = "class AddFlags < ActiveRecord::Migration[7.1]
  COLUMNS = %w[a b c]

  def change
    COLUMNS.each do |c|
      add_column :users, c, :boolean
    end
    execute \"UPDATE users SET age = 0 WHERE id = #{ENV['ID']}\"
    add_column :users, :note, :text
  end
end
";
    let p = app("postgresql", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_add_flags.rb", m)]);
    let r = p.run("", &["lint", "db/migrate", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "rails-not-analysed")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![5, 8], "{v}");
    assert_eq!(v["summary"]["not_analysed"], 2);
    p.run("", &["lint", "db/migrate"]).contains("2 part(s) of Ruby not analysed");
}

#[test]
fn schema_rb_supplies_tables_whose_migrations_are_gone() {
    let schema = "ActiveRecord::Schema[7.1].define(version: 2023_12_01_000000) do
  create_table \"accounts\", force: :cascade do |t|
    t.string \"plan\", null: false
    t.integer \"seats\"
  end
end
";
    let m = "class ChangeSeats < ActiveRecord::Migration[7.1]
  def change
    change_column :accounts, :seats, :bigint
    change_column_null :accounts, :plan, true
  end
end
";
    for (adapter, want) in [("postgresql", "alter-column-type"), ("mysql2", "CHANGE `plan` `plan` varchar(255) NULL")] {
        let p = app(adapter, &[("20240101000000_change_seats.rb", m)]);
        std::fs::write(p.root.join("db/schema.rb"), schema).unwrap();
        let r = p.run("", &["lint", "db/migrate"]);
        r.contains(want).contains("db/migrate/20240101000000_change_seats.rb:3:5");
        assert!(!r.all().contains("rails-not-analysed"), "{}", r.all());
    }
}

#[test]
fn departure_migrations_are_judged_online_and_get_the_osc_command() {
    let m = "class WidenAge < ActiveRecord::Migration[7.1]
  uses_departure!

  def change
    change_column :users, :age, :bigint
  end
end
";
    let p = app("mysql2", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_widen_age.rb", m)]);
    let r = p.run("", &["lint", "db/migrate"]);
    r.code(0)
        .contains("warning[rails-online-tool]")
        .contains("Departure")
        .contains("stepwise osc users --alter 'CHANGE `age` `age` bigint'");
    assert!(!r.all().contains("mysql-blocks-writes"), "{}", r.all());
}

#[test]
fn with_a_postgres_database_only_pending_migrations_are_linted_and_planned() {
    let db = PgDb::new();
    db.sql("CREATE TABLE users (id bigserial primary key, email varchar, age int, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
            INSERT INTO users (email, created_at, updated_at) SELECT 'u' || g, now(), now() FROM generate_series(1, 1000) g;
            CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'); ANALYZE users;");
    let p = app("postgresql", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_add_index_to_users_email.rb", ADD_INDEX)]);
    // Sizes come from the catalog: 1,000 rows is small (a warning)...
    p.run("", &["lint", "db/migrate", "--database", &db.url])
        .code(0)
        .contains("warning[require-concurrent-index]")
        .contains("(users: about 1k rows)");
    // ... and large above --large-table-rows.
    let r = p.run("", &["lint", "db/migrate", "--database", &db.url, "--large-table-rows", "500"]);
    r.code(1).contains("error[require-concurrent-index]");
    assert!(!r.all().contains("20240101000000_create_users.rb"), "the applied migration is not linted:\n{}", r.all());
    assert!(r.all().contains("1 file(s)"), "{}", r.all());
    // plan: the pending migration, its SQL at its line, the verdict; exit 1.
    let r = p.run(&db.url, &["plan", "db/migrate"]);
    r.code(1)
        .contains("20240102000000 db/migrate/20240102000000_add_index_to_users_email.rb (one transaction)")
        .contains("3: CREATE INDEX \"index_users_on_email\" ON \"users\" (\"email\")")
        .contains("error[require-concurrent-index]");
    assert!(!r.all().contains("CREATE TABLE"), "{}", r.all());
    let r = p.run(&db.url, &["plan", "db/migrate", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["pending"].as_array().unwrap().len(), 1);
    assert_eq!(v["pending"][0]["statements"][0]["findings"][0]["rule"], "require-concurrent-index");
}

#[test]
fn with_a_mariadb_database_the_server_version_and_pending_migrations_come_from_it() {
    let db = MyDb::new();
    db.sql("CREATE TABLE users (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, email varchar(255), age int, created_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);
            CREATE TABLE schema_migrations (version varchar(191) NOT NULL PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000');");
    let m = "class WidenAge < ActiveRecord::Migration[7.1]\n  def change\n    change_column :users, :age, :bigint\n  end\nend\n";
    let p = app("mysql2", &[("20240101000000_create_users.rb", CREATE), ("20240102000000_widen_age.rb", m)]);
    let r = p.run("", &["lint", "db/migrate", "--database", &db.url]);
    r.contains("mysql-blocks-writes").contains("MariaDB 10.11").contains("db/migrate/20240102000000_widen_age.rb:3:5");
    assert!(!r.all().contains("_create_users.rb"), "{}", r.all());
}
