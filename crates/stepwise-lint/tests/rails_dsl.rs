//! Each migration DSL method: the Ruby, the SQL stepwise derives for
//! PostgreSQL and for MySQL (written from ActiveRecord's adapters: Rails
//! cannot run here), and the verdict of each engine's judge. The tables are
//! made by an earlier migration, so they exist (and are not new) when the
//! case runs.

use std::sync::Arc;
use stepwise_lint::rails::{lint, RailsFile, RailsLint};
use stepwise_lint::LintOptions;
use stepwise_sql::{Dialect, SourceFile};

const SETUP: &str = r#"class Setup < ActiveRecord::Migration[7.1]
  def change
    create_table :orgs
    create_table :users do |t|
      t.string :email
      t.string :name
      t.integer :age
      t.boolean :active
      t.timestamps
    end
    create_table :posts do |t|
      t.bigint :user_id
      t.text :body
      t.string :title
      t.index :title
    end
  end
end
"#;

fn run(header: &str, body: &str, dialect: Dialect) -> RailsLint {
    // A body with its own methods (`def up`) is the class body as it is.
    let src = if body.trim_start().starts_with("def ") {
        format!("class Case < ActiveRecord::Migration[7.1]\n{header}{body}\nend\n")
    } else {
        format!("class Case < ActiveRecord::Migration[7.1]\n{header}  def change\n{body}\n  end\nend\n")
    };
    let files = [
        RailsFile { file: Arc::new(SourceFile { name: "db/migrate/20240101000000_setup.rb".into(), text: SETUP.into() }), new: false },
        RailsFile { file: Arc::new(SourceFile { name: "db/migrate/20240201000000_case.rb".into(), text: src }), new: true },
    ];
    let mut opts = LintOptions::default();
    opts.config.disable = vec!["prefer-timestamptz".into()];
    lint(&files, None, dialect, Default::default(), Default::default(), &opts)
}

/// The SQL derived for the case, statement by statement.
fn sql(r: &RailsLint) -> Vec<String> {
    r.derived[1].migration.stmts.iter().map(|s| s.sql.trim().to_string()).collect()
}

/// The rules that fired on the case file (errors and warnings alike).
fn rules(r: &RailsLint) -> Vec<String> {
    let mut v: Vec<String> = r.report.findings.iter().filter(|f| f.file.ends_with("_case.rb")).map(|f| f.rule.clone()).collect();
    v.sort();
    v.dedup();
    v
}

struct Case {
    ruby: &'static str,
    header: &'static str,
    pg: &'static [&'static str],
    pg_rules: &'static [&'static str],
    my: &'static [&'static str],
    my_rules: &'static [&'static str],
}

const NONE: &[&str] = &[];

fn check(c: &Case) {
    let mut wrong = Vec::new();
    for (dialect, want_sql, want_rules) in [(Dialect::Postgres, c.pg, c.pg_rules), (Dialect::MySql, c.my, c.my_rules)] {
        let r = run(c.header, c.ruby, dialect);
        if !r.report.errors.is_empty() {
            wrong.push(format!("{dialect:?} errors: {:?}", r.report.errors));
        }
        let (got_sql, got_rules) = (sql(&r), rules(&r));
        if got_sql != want_sql.iter().map(|s| s.to_string()).collect::<Vec<_>>() {
            wrong.push(format!("{dialect:?} SQL:\n  got  {got_sql:?}\n  want {want_sql:?}"));
        }
        if got_rules != want_rules.iter().map(|s| s.to_string()).collect::<Vec<_>>() {
            let msgs: Vec<String> = r
                .report
                .findings
                .iter()
                .filter(|f| f.file.ends_with("_case.rb"))
                .map(|f| format!("{} {}:{} {}", f.rule, f.line, f.col, f.message))
                .collect();
            wrong.push(format!("{dialect:?} verdict:\n  got  {got_rules:?}\n  want {want_rules:?}\n  {}", msgs.join("\n  ")));
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", c.ruby, wrong.join("\n"));
}

#[test]
fn create_table_with_references_timestamps_index_force_and_id() {
    check(&Case {
        ruby: "    create_table :comments, force: :cascade do |t|\n      t.references :post, null: false, foreign_key: true\n      t.text :body\n      t.timestamps\n      t.index :created_at\n    end",
        header: "",
        pg: &[
            "DROP TABLE IF EXISTS \"comments\" CASCADE",
            "CREATE TABLE \"comments\" (\"id\" bigserial primary key, \"post_id\" bigint NOT NULL, \"body\" text, \"created_at\" timestamp(6) NOT NULL, \"updated_at\" timestamp(6) NOT NULL, CONSTRAINT \"fk_rails_2fd19c0db7\" FOREIGN KEY (\"post_id\") REFERENCES \"posts\" (\"id\"))",
            "CREATE INDEX \"index_comments_on_post_id\" ON \"comments\" (\"post_id\")",
            "CREATE INDEX \"index_comments_on_created_at\" ON \"comments\" (\"created_at\")",
        ],
        // A foreign key to an existing table takes a SHARE ROW EXCLUSIVE lock on it.
        pg_rules: &["drop-table", "multiple-locks-in-transaction"],
        my: &[
            "DROP TABLE IF EXISTS `comments`",
            "CREATE TABLE `comments` (`id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, `post_id` bigint NOT NULL, `body` text, `created_at` datetime(6) NOT NULL, `updated_at` datetime(6) NOT NULL, CONSTRAINT `fk_rails_2fd19c0db7` FOREIGN KEY (`post_id`) REFERENCES `posts` (`id`), INDEX `index_comments_on_post_id` (`post_id`), INDEX `index_comments_on_created_at` (`created_at`))",
        ],
        my_rules: NONE,
    });
    check(&Case {
        ruby: "    create_table :tokens, id: :integer do |t|\n      t.string :value, limit: 64\n    end\n    create_table :tags_users, id: false do |t|\n      t.bigint :tag_id\n    end",
        header: "",
        pg: &[
            "CREATE TABLE \"tokens\" (\"id\" serial primary key, \"value\" character varying(64))",
            "CREATE TABLE \"tags_users\" (\"tag_id\" bigint)",
        ],
        pg_rules: &["prefer-bigint-keys", "prefer-text"],
        my: &["CREATE TABLE `tokens` (`id` int NOT NULL AUTO_INCREMENT PRIMARY KEY, `value` varchar(64))", "CREATE TABLE `tags_users` (`tag_id` bigint)"],
        my_rules: NONE,
    });
}

#[test]
fn add_remove_rename_and_change_columns() {
    check(&Case {
        ruby: "    add_column :users, :status, :string, default: \"active\", null: false",
        header: "",
        pg: &["ALTER TABLE \"users\" ADD \"status\" character varying DEFAULT 'active' NOT NULL"],
        pg_rules: NONE,
        my: &["ALTER TABLE `users` ADD `status` varchar(255) DEFAULT 'active' NOT NULL"],
        // Instant on MariaDB 10.11. (`mysql-require-algorithm` would ask to
        // say so, but add_column cannot: it is not reported on DSL calls
        // other than indexes.)
        my_rules: NONE,
    });
    check(&Case {
        ruby: "    remove_column :users, :age, :integer\n    remove_columns :users, :name, :active",
        header: "",
        pg: &["ALTER TABLE \"users\" DROP COLUMN \"age\"", "ALTER TABLE \"users\" DROP COLUMN \"name\", DROP COLUMN \"active\""],
        pg_rules: &["drop-column"],
        my: &["ALTER TABLE `users` DROP COLUMN `age`", "ALTER TABLE `users` DROP COLUMN `name`, DROP COLUMN `active`"],
        my_rules: &["drop-column", "mysql-combine-alters"],
    });
    check(&Case {
        ruby: "    rename_column :users, :name, :full_name",
        header: "",
        pg: &["ALTER TABLE \"users\" RENAME COLUMN \"name\" TO \"full_name\""],
        pg_rules: &["rename-column"],
        my: &["ALTER TABLE `users` RENAME COLUMN `name` TO `full_name`"],
        my_rules: &["rename-column"],
    });
    check(&Case {
        ruby: "    rename_table :posts, :articles",
        header: "",
        pg: &["ALTER TABLE \"posts\" RENAME TO \"articles\""],
        pg_rules: &["rename-table"],
        my: &["RENAME TABLE `posts` TO `articles`"],
        my_rules: &["rename-table"],
    });
    check(&Case {
        ruby: "    change_column :users, :age, :bigint",
        header: "",
        pg: &["ALTER TABLE \"users\" ALTER COLUMN \"age\" TYPE bigint"],
        pg_rules: &["alter-column-type"],
        my: &["ALTER TABLE `users` CHANGE `age` `age` bigint"],
        my_rules: &["mysql-blocks-writes"],
    });
    check(&Case {
        ruby: "    change_column_default :users, :active, from: nil, to: true",
        header: "",
        pg: &["ALTER TABLE \"users\" ALTER COLUMN \"active\" SET DEFAULT TRUE"],
        pg_rules: NONE,
        my: &["ALTER TABLE `users` ALTER COLUMN `active` SET DEFAULT TRUE"],
        my_rules: NONE,
    });
    check(&Case {
        ruby: "    change_column_null :users, :email, false",
        header: "",
        pg: &["ALTER TABLE \"users\" ALTER COLUMN \"email\" SET NOT NULL"],
        pg_rules: &["set-not-null"],
        // MySQL restates the type, known from the earlier migration.
        my: &["ALTER TABLE `users` CHANGE `email` `email` varchar(255) NOT NULL"],
        my_rules: &["mysql-rebuilds-table", "mysql-set-not-null"],
    });
    check(&Case {
        ruby: "    change_column_null :users, :active, false, false",
        header: "",
        pg: &[
            "UPDATE \"users\" SET \"active\" = FALSE WHERE \"active\" IS NULL",
            "ALTER TABLE \"users\" ALTER COLUMN \"active\" SET NOT NULL",
        ],
        pg_rules: &["no-data-change-in-migration", "set-not-null"],
        my: &[
            "UPDATE `users` SET `active` = FALSE WHERE `active` IS NULL",
            "ALTER TABLE `users` CHANGE `active` `active` tinyint(1) NOT NULL",
        ],
        my_rules: &["mysql-rebuilds-table", "mysql-set-not-null", "no-data-change-in-migration"],
    });
    check(&Case {
        ruby: "    add_timestamps :posts",
        header: "",
        pg: &["ALTER TABLE \"posts\" ADD \"created_at\" timestamp(6) NOT NULL, ADD \"updated_at\" timestamp(6) NOT NULL"],
        pg_rules: &["add-column-not-null-without-default"],
        // MySQL fills NOT NULL columns without a default with the type's zero value.
        my: &["ALTER TABLE `posts` ADD `created_at` datetime(6) NOT NULL, ADD `updated_at` datetime(6) NOT NULL"],
        my_rules: NONE,
    });
}

#[test]
fn indexes_with_algorithm_unique_where_and_name() {
    // The same call, judged by each engine: PostgreSQL blocks writes for
    // the whole build; MySQL builds it in place, online.
    check(&Case {
        ruby: "    add_index :users, :email",
        header: "",
        pg: &["CREATE INDEX \"index_users_on_email\" ON \"users\" (\"email\")"],
        pg_rules: &["require-concurrent-index"],
        my: &["CREATE INDEX `index_users_on_email` ON `users` (`email`)"],
        my_rules: &["mysql-require-algorithm"],
    });
    check(&Case {
        ruby: "    add_index :users, :email, unique: true, where: \"active\", name: \"idx_active_email\", algorithm: :concurrently",
        header: "  disable_ddl_transaction!\n",
        pg: &["CREATE UNIQUE INDEX CONCURRENTLY \"idx_active_email\" ON \"users\" (\"email\") WHERE active"],
        pg_rules: NONE,
        // `:concurrently` is PostgreSQL's: the MySQL adapter raises.
        my: NONE,
        my_rules: &["rails-not-analysed"],
    });
    check(&Case {
        ruby: "    add_index :users, [:name, :email], algorithm: :inplace",
        header: "",
        pg: NONE,
        pg_rules: &["rails-not-analysed"],
        my: &["CREATE INDEX `index_users_on_name_and_email` ON `users` (`name`, `email`) ALGORITHM = INPLACE"],
        my_rules: NONE,
    });
    check(&Case {
        ruby: "    remove_index :posts, :title",
        header: "",
        pg: &["DROP INDEX \"index_posts_on_title\""],
        pg_rules: &["require-concurrent-drop-index"],
        my: &["DROP INDEX `index_posts_on_title` ON `posts`"],
        my_rules: &["mysql-require-algorithm"],
    });
    check(&Case {
        ruby: "    remove_index :posts, column: :title, algorithm: :concurrently",
        header: "  disable_ddl_transaction!\n",
        pg: &["DROP INDEX CONCURRENTLY \"index_posts_on_title\""],
        pg_rules: NONE,
        my: &["DROP INDEX `index_posts_on_title` ON `posts`"],
        my_rules: &["mysql-require-algorithm"],
    });
}

#[test]
fn a_concurrent_index_inside_the_transaction_cannot_run() {
    let r = run("", "    add_index :users, :email, algorithm: :concurrently", Dialect::Postgres);
    assert_eq!(r.report.errors.len(), 1, "{:?}", r.report.errors);
    let e = &r.report.errors[0];
    assert_eq!((e.file.as_str(), e.line, e.col), ("db/migrate/20240201000000_case.rb", 3, 5));
    assert!(e.message.contains("transaction"), "{}", e.message);
}

#[test]
fn references_and_foreign_keys() {
    check(&Case {
        ruby: "    add_reference :posts, :org, foreign_key: true",
        header: "",
        pg: &[
            "ALTER TABLE \"posts\" ADD \"org_id\" bigint",
            "CREATE INDEX \"index_posts_on_org_id\" ON \"posts\" (\"org_id\")",
            "ALTER TABLE \"posts\" ADD CONSTRAINT \"fk_rails_92631bbd6b\" FOREIGN KEY (\"org_id\") REFERENCES \"orgs\" (\"id\")",
        ],
        // Three statements in one transaction: the index build's lock on
        // posts is held while orgs is locked for the foreign key.
        pg_rules: &["foreign-key-not-valid", "multiple-locks-in-transaction", "require-concurrent-index"],
        my: &[
            "ALTER TABLE `posts` ADD `org_id` bigint",
            "CREATE INDEX `index_posts_on_org_id` ON `posts` (`org_id`)",
            "ALTER TABLE `posts` ADD CONSTRAINT `fk_rails_92631bbd6b` FOREIGN KEY (`org_id`) REFERENCES `orgs` (`id`)",
        ],
        my_rules: &["mysql-add-foreign-key", "mysql-combine-alters", "mysql-require-algorithm"],
    });
    check(&Case {
        ruby: "    add_reference :posts, :org, index: {algorithm: :concurrently}, foreign_key: {validate: false}",
        header: "  disable_ddl_transaction!\n",
        pg: &[
            "ALTER TABLE \"posts\" ADD \"org_id\" bigint",
            "CREATE INDEX CONCURRENTLY \"index_posts_on_org_id\" ON \"posts\" (\"org_id\")",
            "ALTER TABLE \"posts\" ADD CONSTRAINT \"fk_rails_92631bbd6b\" FOREIGN KEY (\"org_id\") REFERENCES \"orgs\" (\"id\") NOT VALID",
        ],
        pg_rules: NONE,
        my: NONE,
        my_rules: &["rails-not-analysed"],
    });
    check(&Case {
        ruby: "    add_belongs_to :posts, :owner, polymorphic: true, index: false",
        header: "",
        pg: &["ALTER TABLE \"posts\" ADD \"owner_type\" character varying", "ALTER TABLE \"posts\" ADD \"owner_id\" bigint"],
        pg_rules: NONE,
        my: &["ALTER TABLE `posts` ADD `owner_type` varchar(255)", "ALTER TABLE `posts` ADD `owner_id` bigint"],
        my_rules: &["mysql-combine-alters"],
    });
    check(&Case {
        ruby: "    add_foreign_key :posts, :users, validate: false",
        header: "",
        pg: &["ALTER TABLE \"posts\" ADD CONSTRAINT \"fk_rails_5b5ddfd518\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") NOT VALID"],
        pg_rules: NONE,
        // MySQL has no NOT VALID: the adapter ignores `validate: false`.
        my: &["ALTER TABLE `posts` ADD CONSTRAINT `fk_rails_5b5ddfd518` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)"],
        my_rules: &["mysql-add-foreign-key"],
    });
    check(&Case {
        ruby: "    validate_foreign_key :posts, :users",
        header: "",
        pg: &["ALTER TABLE \"posts\" VALIDATE CONSTRAINT \"fk_rails_5b5ddfd518\""],
        pg_rules: NONE,
        my: NONE,
        my_rules: NONE,
    });
    check(&Case {
        ruby: "    add_check_constraint :users, \"age >= 0\", name: \"age_positive\", validate: false",
        header: "",
        pg: &["ALTER TABLE \"users\" ADD CONSTRAINT \"age_positive\" CHECK (age >= 0) NOT VALID"],
        pg_rules: NONE,
        my: &["ALTER TABLE `users` ADD CONSTRAINT `age_positive` CHECK (age >= 0)"],
        my_rules: &["mysql-blocks-writes"],
    });
    check(&Case {
        ruby: "    validate_check_constraint :users, name: \"age_positive\"",
        header: "",
        pg: &["ALTER TABLE \"users\" VALIDATE CONSTRAINT \"age_positive\""],
        pg_rules: NONE,
        my: NONE,
        my_rules: NONE,
    });
}

#[test]
fn change_table_bulk_makes_one_alter_and_plain_change_table_one_per_call() {
    check(&Case {
        ruby: "    change_table :users, bulk: true do |t|\n      t.string :nickname\n      t.remove :age\n      t.index :name\n    end",
        header: "",
        pg: &[
            "ALTER TABLE \"users\" ADD \"nickname\" character varying, DROP COLUMN \"age\"",
            "CREATE INDEX \"index_users_on_name\" ON \"users\" (\"name\")",
        ],
        pg_rules: &["drop-column", "require-concurrent-index"],
        my: &["ALTER TABLE `users` ADD `nickname` varchar(255), DROP COLUMN `age`, ADD INDEX `index_users_on_name` (`name`)"],
        // Instant column changes with an in-place index build rebuild the table.
        my_rules: &["drop-column", "mysql-rebuilds-table"],
    });
    check(&Case {
        ruby: "    change_table :users do |t|\n      t.change_default :active, true\n      t.timestamps null: true\n    end",
        header: "",
        pg: &[
            "ALTER TABLE \"users\" ALTER COLUMN \"active\" SET DEFAULT TRUE",
            "ALTER TABLE \"users\" ADD \"created_at\" timestamp(6), ADD \"updated_at\" timestamp(6)",
        ],
        pg_rules: NONE,
        my: &[
            "ALTER TABLE `users` ALTER COLUMN `active` SET DEFAULT TRUE",
            "ALTER TABLE `users` ADD `created_at` datetime(6), ADD `updated_at` datetime(6)",
        ],
        my_rules: &["mysql-combine-alters"],
    });
}

#[test]
fn execute_strings_and_heredocs_are_linted_as_sql_and_interpolation_is_not_analysed() {
    check(&Case {
        ruby: "    execute \"ALTER TABLE users ADD CONSTRAINT u_email UNIQUE (email)\"",
        header: "",
        pg: &["ALTER TABLE users ADD CONSTRAINT u_email UNIQUE (email)"],
        pg_rules: &["unique-without-index"],
        my: &["ALTER TABLE users ADD CONSTRAINT u_email UNIQUE (email)"],
        my_rules: &["mysql-add-unique-key"],
    });
    check(&Case {
        ruby: "    execute <<~SQL\n      UPDATE users\n         SET active = true\n       WHERE active IS NULL\n    SQL",
        header: "",
        pg: &["UPDATE users\n   SET active = true\n WHERE active IS NULL"],
        pg_rules: &["no-data-change-in-migration"],
        my: &["UPDATE users\n   SET active = true\n WHERE active IS NULL"],
        my_rules: &["no-data-change-in-migration"],
    });
    check(&Case {
        ruby: "    table = \"users\"\n    execute \"UPDATE #{table} SET active = true\"",
        header: "",
        pg: NONE,
        pg_rules: &["rails-not-analysed"],
        my: NONE,
        my_rules: &["rails-not-analysed"],
    });
}

#[test]
fn reversible_and_up_down() {
    check(&Case {
        ruby: "    reversible do |dir|\n      dir.up { execute \"ALTER TABLE users DROP COLUMN age\" }\n      dir.down { execute \"ALTER TABLE users ADD COLUMN age int\" }\n    end",
        header: "",
        pg: &["ALTER TABLE users DROP COLUMN age"],
        pg_rules: &["drop-column"],
        my: &["ALTER TABLE users DROP COLUMN age"],
        my_rules: &["drop-column"],
    });
    check(&Case {
        ruby: "  def up\n    remove_column :users, :age\n  end\n\n  def down\n    add_column :users, :age, :integer\n  end",
        header: "",
        pg: &["ALTER TABLE \"users\" DROP COLUMN \"age\""],
        pg_rules: &["drop-column"],
        my: &["ALTER TABLE `users` DROP COLUMN `age`"],
        my_rules: &["drop-column"],
    });
}

#[test]
fn data_changes_through_models() {
    check(&Case {
        ruby: "    User.where(active: nil).update_all(active: true)",
        header: "",
        pg: &["UPDATE \"users\" SET \"active\" = TRUE WHERE \"users\".\"active\" IS NULL"],
        pg_rules: &["no-data-change-in-migration"],
        my: &["UPDATE `users` SET `active` = TRUE WHERE `users`.`active` IS NULL"],
        my_rules: &["no-data-change-in-migration"],
    });
    check(&Case {
        ruby: "    User.in_batches(of: 1000) { |batch| batch.update_all(active: false) }\n    Post.find_each do |post|\n      post.update!(title: \"untitled\")\n    end",
        header: "",
        pg: &["UPDATE \"users\" SET \"active\" = FALSE", "UPDATE \"posts\" SET \"title\" = 'untitled'"],
        pg_rules: &["no-data-change-in-migration"],
        my: &["UPDATE `users` SET `active` = FALSE", "UPDATE `posts` SET `title` = 'untitled'"],
        my_rules: &["no-data-change-in-migration"],
    });
}

#[test]
fn online_tool_wrappers_are_recognised_and_judged_online() {
    check(&Case {
        ruby: "    change_column :users, :age, :bigint",
        header: "  uses_departure!\n",
        pg: &["ALTER TABLE \"users\" ALTER COLUMN \"age\" TYPE bigint"],
        pg_rules: &["rails-online-tool"],
        my: &["ALTER TABLE `users` CHANGE `age` `age` bigint"],
        my_rules: &["rails-online-tool"],
    });
    check(&Case {
        ruby: "    Lhm.change_table :users do |m|\n      m.add_column :flag, \"TINYINT(1) DEFAULT 0\"\n      m.add_index [:flag]\n    end",
        header: "",
        pg: &["ALTER TABLE \"users\" ADD COLUMN \"flag\" TINYINT(1) DEFAULT 0, ADD INDEX \"index_users_on_flag\" (\"flag\")"],
        pg_rules: &["rails-online-tool"],
        my: &["ALTER TABLE `users` ADD COLUMN `flag` TINYINT(1) DEFAULT 0, ADD INDEX `index_users_on_flag` (`flag`)"],
        my_rules: &["rails-online-tool"],
    });
}
