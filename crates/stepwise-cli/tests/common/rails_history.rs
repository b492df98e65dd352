//! A synthetic Rails application history, as a team writes it from Rails
//! 4.2 to 8.0: a base migration, then features of ten migrations each, in
//! the style of each era (`ActiveRecord::Migration` without a version and
//! `t.timestamps null: false` in 4.2, `Migration[x.y]` after; `def up/down`
//! beside `change`; heredocs; `change_table bulk: true`; model classes
//! inside migrations; strong_migrations' `safety_assured`; Departure and LHM
//! on MySQL). Most migrations follow the zero-downtime checklist for their
//! adapter; the others are the mistakes real teams make, each with the rules
//! that must find it. Shared by the tests and `cargo xtask bench lint --rails`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Adapter {
    Postgres,
    MySql,
}

pub struct RailsMig {
    /// `20150101000000_create_orders.rb`
    pub name: String,
    pub text: String,
    /// Rules that must find something here (none for the safe ones).
    pub expect: Vec<&'static str>,
    /// Ruby stepwise cannot read statically, planted on purpose.
    pub unreadable: usize,
}

const NOUNS: &[&str] =
    &["orders", "invoices", "customers", "products", "shipments", "payments", "subscriptions", "events", "reviews", "coupons"];
const ERAS: &[&str] = &["4.2", "5.0", "5.1", "5.2", "6.0", "6.1", "7.0", "7.1", "7.2", "8.0"];

fn camel(s: &str) -> String {
    s.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

fn singular(s: &str) -> String {
    s.strip_suffix("ies").map(|st| format!("{st}y")).or_else(|| s.strip_suffix('s').map(str::to_string)).unwrap_or_else(|| s.to_string())
}

struct Writer {
    adapter: Adapter,
    out: Vec<RailsMig>,
    /// Minutes since 2015-01-01 for the next version.
    clock: u64,
    total: usize,
    /// Class names used so far (Rails refuses two migrations with one name).
    names: std::collections::HashSet<String>,
}

impl Writer {
    fn era(&self) -> &'static str {
        ERAS[(self.out.len() * ERAS.len() / self.total.max(1)).min(ERAS.len() - 1)]
    }

    fn superclass(&self) -> String {
        match self.era() {
            "4.2" => "ActiveRecord::Migration".to_string(),
            v => format!("ActiveRecord::Migration[{v}]"),
        }
    }

    fn at_least(&self, v: f32) -> bool {
        self.era().parse::<f32>().unwrap() >= v
    }

    fn pg(&self) -> bool {
        self.adapter == Adapter::Postgres
    }

    fn version(&mut self) -> String {
        self.clock += 60 * 24 * 3 + 17;
        let minutes = self.clock;
        let days = minutes / (60 * 24);
        let (y, rest) = (2015 + days / 336, days % 336);
        let (mo, d) = (1 + rest / 28, 1 + rest % 28);
        format!("{y:04}{mo:02}{d:02}{:02}{:02}00", (minutes / 60) % 24, minutes % 60)
    }

    /// Add a migration: `header` goes in the class body before the method,
    /// `body` is the `change` method's (or the whole class body when it
    /// starts with `def`).
    fn mig(&mut self, name: &str, header: &str, body: &str, expect: &[&'static str], unreadable: usize) {
        let mut class = camel(name);
        let mut n = 2;
        while !self.names.insert(class.clone()) {
            class = format!("{}{n}", camel(name));
            n += 1;
        }
        let mut text = String::new();
        let _ = writeln!(text, "class {class} < {}", self.superclass());
        text.push_str(header);
        if body.trim_start().starts_with("def ") || body.trim_start().starts_with("class ") {
            text.push_str(body);
        } else {
            let _ = write!(text, "  def change\n{body}  end\n");
        }
        text.push_str("end\n");
        let version = self.version();
        let file = format!("{version}_{}.rb", name);
        self.out.push(RailsMig { name: file, text, expect: expect.to_vec(), unreadable });
    }

    fn heredoc(&self) -> &'static str {
        if self.at_least(5.0) {
            "<<~SQL"
        } else {
            "<<-SQL"
        }
    }

    fn feature(&mut self, k: usize) {
        let noun = NOUNS[k % NOUNS.len()];
        let cycle = k / NOUNS.len();
        let t = table_name(noun, cycle);
        let model = camel(&singular(&t));
        let parent = if k == 0 { "user".to_string() } else { singular(&prev_table(k)) };
        let pg = self.pg();
        let old = !self.at_least(5.0);

        // 1. The table.
        let refs = if old {
            format!("t.references :{parent}, index: true, foreign_key: true")
        } else {
            format!("t.references :{parent}, foreign_key: true")
        };
        let ts = if old { "t.timestamps null: false" } else { "t.timestamps" };
        self.mig(
            &format!("create_{t}"),
            "",
            &format!(
                "    create_table :{t} do |t|\n      {refs}\n      t.string :name, null: false\n      t.string :status\n      t.decimal :amount, precision: 12, scale: 2\n      t.integer :position\n      t.boolean :archived, default: false, null: false\n      t.text :notes\n      {ts}\n    end\n    add_index :{t}, :name\n"
            ),
            &[],
            0,
        );

        // 2. A column with a constant default: no rewrite on either engine.
        self.mig(
            &format!("add_priority_to_{t}"),
            "",
            &format!("    add_column :{t}, :priority, :integer, default: 0, null: false\n"),
            &[],
            0,
        );

        // 3. An index.
        if k.is_multiple_of(3) {
            self.mig(
                &format!("add_index_on_{t}_status"),
                "",
                &format!("    add_index :{t}, :status\n"),
                if pg { &["require-concurrent-index"] } else { &[] },
                0,
            );
        } else if pg {
            self.mig(
                &format!("add_index_on_{t}_status"),
                "  disable_ddl_transaction!\n\n",
                &format!("    add_index :{t}, :status, algorithm: :concurrently\n"),
                &[],
                0,
            );
        } else {
            self.mig(&format!("add_index_on_{t}_status"), "", &format!("    add_index :{t}, :status, algorithm: :inplace\n"), &[], 0);
        }

        // 4. A reference with a foreign key.
        if k % 4 == 1 {
            // References are indexed by default only from Rails 5.0.
            let expect: &[&str] = match (pg, self.at_least(5.0)) {
                (true, true) => &["require-concurrent-index", "foreign-key-not-valid"],
                (true, false) => &["foreign-key-not-valid"],
                (false, _) => &["mysql-add-foreign-key"],
            };
            self.mig(&format!("add_account_to_{t}"), "", &format!("    add_reference :{t}, :account, foreign_key: true\n"), expect, 0);
        } else if pg && !self.at_least(5.2) {
            // Before 5.2 there is no `validate: false`: the key comes later, by hand.
            self.mig(
                &format!("add_account_to_{t}"),
                "  disable_ddl_transaction!\n\n",
                &format!("    add_reference :{t}, :account, index: {{algorithm: :concurrently}}\n"),
                &[],
                0,
            );
        } else if pg {
            self.mig(
                &format!("add_account_to_{t}"),
                "  disable_ddl_transaction!\n\n",
                &format!("    add_reference :{t}, :account, index: {{algorithm: :concurrently}}, foreign_key: {{validate: false}}\n"),
                &[],
                0,
            );
            self.mig(&format!("validate_{t}_account_fk"), "", &format!("    validate_foreign_key :{t}, :accounts\n"), &[], 0);
        } else {
            self.mig(
                &format!("add_account_to_{t}"),
                "",
                &format!("    add_reference :{t}, :account, index: {{algorithm: :inplace}}\n"),
                &[],
                0,
            );
        }

        // 5. NOT NULL.
        if k % 5 == 2 {
            let expect: &[&str] = if pg { &["set-not-null"] } else { &["mysql-set-not-null"] };
            self.mig(&format!("require_{t}_status"), "", &format!("    change_column_null :{t}, :status, false\n"), expect, 0);
        } else if pg && self.at_least(6.1) {
            self.mig(
                &format!("check_{t}_status_present"),
                "",
                &format!("    add_check_constraint :{t}, \"status IS NOT NULL\", name: \"{t}_status_null\", validate: false\n"),
                &[],
                0,
            );
            self.mig(
                &format!("require_{t}_status"),
                "",
                &format!(
                    "    validate_check_constraint :{t}, name: \"{t}_status_null\"\n    change_column_null :{t}, :status, false\n    remove_check_constraint :{t}, name: \"{t}_status_null\"\n"
                ),
                &[],
                0,
            );
        } else if pg {
            let h = self.heredoc();
            self.mig(
                &format!("check_{t}_status_present"),
                "",
                &format!("  def up\n    execute {h}\n      ALTER TABLE {t} ADD CONSTRAINT {t}_status_null CHECK (status IS NOT NULL) NOT VALID\n    SQL\n  end\n\n  def down\n    execute \"ALTER TABLE {t} DROP CONSTRAINT {t}_status_null\"\n  end\n"),
                &[],
                0,
            );
        } else {
            self.mig(
                &format!("default_{t}_status"),
                "",
                &format!("    change_column_default :{t}, :status, from: nil, to: \"new\"\n"),
                &[],
                0,
            );
        }

        // 6. Data.
        if k % 4 == 3 {
            self.mig(
                &format!("backfill_{t}_status"),
                "",
                &format!("    {model}.where(status: nil).update_all(status: \"new\")\n"),
                &["no-data-change-in-migration"],
                0,
            );
        } else if k % 8 == 6 {
            let h = self.heredoc();
            self.mig(
                &format!("backfill_{t}_position"),
                "",
                &format!("  def up\n    execute {h}\n      UPDATE {t} SET position = 0 WHERE position IS NULL\n    SQL\n  end\n\n  def down\n  end\n"),
                &["no-data-change-in-migration"],
                0,
            );
        }

        // 7. Renames and type changes.
        match k % 6 {
            4 => self.mig(
                &format!("rename_{t}_notes"),
                "",
                &format!("    rename_column :{t}, :notes, :description\n"),
                &["rename-column"],
                0,
            ),
            5 => {
                let expect: &[&str] = if pg { &["alter-column-type"] } else { &["mysql-blocks-writes"] };
                self.mig(&format!("widen_{t}_position"), "", &format!("    change_column :{t}, :position, :bigint\n"), expect, 0)
            }
            _ => self.mig(&format!("add_description_to_{t}"), "", &format!("    add_column :{t}, :description, :text\n"), &[], 0),
        }

        // 8. Dropping a column: strong_migrations' reviewed exception, or not.
        if k.is_multiple_of(5) {
            self.mig(&format!("remove_notes_from_{t}"), "", &format!("    remove_column :{t}, :archived, :boolean\n"), &["drop-column"], 0);
        } else {
            self.mig(
                &format!("remove_notes_from_{t}"),
                "",
                &format!("    safety_assured {{ remove_column :{t}, :archived, :boolean }}\n"),
                &[],
                0,
            );
        }

        // 9. Several columns in one ALTER.
        self.mig(
            &format!("add_codes_to_{t}"),
            "",
            &format!("    change_table :{t}, bulk: true do |t|\n      t.string :code\n      t.integer :rank\n    end\n"),
            &[],
            0,
        );

        // 10. Something of each kind.
        match k % 10 {
            0 => self.mig(&format!("create_{t}_tags"), "", &format!("    create_join_table :{t}, :tags do |t|\n      t.index :tag_id\n    end\n"), &[], 0),
            1 => self.mig(
                &format!("create_active_{t}_view"),
                "",
                &format!(
                    "    reversible do |dir|\n      dir.up {{ execute \"CREATE VIEW active_{t} AS SELECT * FROM {t} WHERE status = 'active'\" }}\n      dir.down {{ execute \"DROP VIEW active_{t}\" }}\n    end\n"
                ),
                &[],
                0,
            ),
            2 if pg => self.mig(
                &format!("add_deleted_at_to_{t}"),
                "  disable_ddl_transaction!\n\n",
                &format!("  def up\n    add_column :{t}, :deleted_at, :datetime\n    add_index :{t}, :deleted_at, where: \"deleted_at IS NULL\", algorithm: :concurrently\n  end\n\n  def down\n    remove_column :{t}, :deleted_at\n  end\n"),
                &[],
                0,
            ),
            2 => self.mig(
                &format!("add_deleted_at_to_{t}"),
                "",
                &format!("  def up\n    add_column :{t}, :deleted_at, :datetime\n  end\n\n  def down\n    remove_column :{t}, :deleted_at\n  end\n"),
                &[],
                0,
            ),
            3 if self.at_least(5.0) => self.mig(&format!("change_{t}_priority_default"), "", &format!("    change_column_default :{t}, :priority, from: 0, to: 1\n"), &[], 0),
            3 => self.mig(&format!("change_{t}_priority_default"), "", &format!("  def up\n    change_column_default :{t}, :priority, 1\n  end\n\n  def down\n    change_column_default :{t}, :priority, 0\n  end\n"), &[], 0),
            4 if pg => self.mig(&format!("add_metadata_to_{t}"), "", &format!("    add_column :{t}, :metadata, :jsonb, default: {{}}, null: false\n"), &[], 0),
            4 => self.mig(
                &format!("add_metadata_to_{t}"),
                "",
                &format!("  def up\n    Lhm.change_table :{t} do |m|\n      m.add_column :metadata, \"JSON\"\n      m.add_index [:code]\n    end\n  end\n\n  def down\n  end\n"),
                &["rails-online-tool"],
                0,
            ),
            5 if pg && self.at_least(6.1) => self.mig(&format!("check_{t}_amount"), "", &format!("    add_check_constraint :{t}, \"amount >= 0\", name: \"{t}_amount_positive\"\n"), &["check-not-valid"], 0),
            5 if pg => self.mig(&format!("check_{t}_amount"), "", &format!("  def up\n    execute \"ALTER TABLE {t} ADD CONSTRAINT {t}_amount_positive CHECK (amount >= 0)\"\n  end\n\n  def down\n  end\n"), &["check-not-valid"], 0),
            5 => self.mig(&format!("widen_{t}_amount"), "  uses_departure!\n\n", &format!("    change_column :{t}, :amount, :decimal, precision: 16, scale: 2\n"), &["rails-online-tool"], 0),
            6 => self.mig(
                &format!("rename_{t}_code"),
                "",
                &format!("    # stepwise:ignore rename-column the model reads both names through alias_attribute until the next deploy\n    rename_column :{t}, :code, :sku\n"),
                &[],
                0,
            ),
            8 if k % 30 == 8 => self.mig(
                &format!("add_flags_to_{t}"),
                "",
                &format!("    %w[gift fragile].each do |flag|\n      add_column :{t}, \"#{{flag}}_flag\", :boolean\n    end\n"),
                &["rails-not-analysed"],
                1,
            ),
            8 => self.mig(&format!("add_rank_index_to_{t}"), if pg { "  disable_ddl_transaction!\n\n" } else { "" }, &format!("    add_index :{t}, [:rank, :code]{}\n", if pg { ", algorithm: :concurrently" } else { ", algorithm: :inplace" }), &[], 0),
            _ => {
                let body = format!(
                    "    add_column :{t}, :position_fixed, :boolean\n    {model}Row.reset_column_information\n    {model}Row.find_each do |row|\n      row.update_columns(position: 0)\n    end\n"
                );
                let mut text = format!("  class {model}Row < ActiveRecord::Base\n    self.table_name = \"{t}\"\n  end\n\n");
                text.push_str(&format!("  def change\n{body}  end\n"));
                self.mig(&format!("fix_{t}_positions"), "", &text, &["no-data-change-in-migration"], 0)
            }
        }
    }
}

/// `orders`, then `partner_orders`, `regional_orders`, ...: names a model
/// class maps back to (`PartnerOrder` → `partner_orders`).
fn table_name(noun: &str, cycle: usize) -> String {
    const PREFIXES: &[&str] =
        &["", "partner_", "regional_", "archived_", "imported_", "draft_", "internal_", "shared_", "pending_", "legacy_"];
    format!("{}{noun}", PREFIXES[cycle % PREFIXES.len()])
}

fn prev_table(k: usize) -> String {
    let j = k - 1;
    table_name(NOUNS[j % NOUNS.len()], j / NOUNS.len())
}

/// `features` features of about ten migrations each, after a base.
pub fn rails_history(features: usize, adapter: Adapter) -> Vec<RailsMig> {
    let mut w = Writer { adapter, out: Vec::new(), clock: 0, total: features * 11 + 1, names: Default::default() };
    let ext = if adapter == Adapter::Postgres { "    enable_extension \"pgcrypto\"\n" } else { "" };
    w.mig(
        "create_users_and_accounts",
        "",
        &format!("{ext}    create_table :users do |t|\n      t.string :email, null: false\n      t.timestamps null: false\n    end\n    add_index :users, :email, unique: true\n    create_table :accounts do |t|\n      t.string :name\n      t.timestamps null: false\n    end\n    create_table :tags do |t|\n      t.string :name\n    end\n"),
        &[],
        0,
    );
    for k in 0..features {
        w.feature(k);
    }
    w.out
}

/// Write a Rails app: config/database.yml and db/migrate.
pub fn write_app(root: &Path, adapter: Adapter, migs: &[RailsMig]) {
    let dir = root.join("db/migrate");
    std::fs::create_dir_all(&dir).expect("db/migrate");
    std::fs::create_dir_all(root.join("config")).expect("config");
    let name = if adapter == Adapter::Postgres { "postgresql" } else { "mysql2" };
    std::fs::write(root.join("config/database.yml"), format!("production:\n  adapter: {name}\n  database: app\n")).expect("database.yml");
    for m in migs {
        std::fs::write(dir.join(&m.name), &m.text).expect("write migration");
    }
}
