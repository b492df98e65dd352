//! A synthetic migration history in the shapes real projects have, written
//! in the layouts of the tools they use (golang-migrate, dbmate, goose,
//! Flyway). Others' migration files cannot ship with this repository, so this
//! generator makes what those files contain:
//!
//! - a pg_dump-style base (`000001_base`): `SET` lines, `set_config`,
//!   `public.`-qualified names, sequences owned by columns, `ALTER TABLE ONLY
//!   ... ADD CONSTRAINT`, `USING btree`, `COMMENT ON`, functions and triggers
//!   in dollar quotes, enum types;
//! - then features of ten migrations each: tables with serial keys, foreign
//!   keys, unique constraints, unnamed indexes dropped later by the name
//!   PostgreSQL gave them, expression indexes, `ALTER TYPE ... ADD VALUE`,
//!   trigger functions, partitioned tables, unnamed CHECK and FOREIGN KEY
//!   constraints dropped by their default names, views, column renames, and
//!   one `CREATE INDEX CONCURRENTLY` migration per feature.
//!
//! Every down section undoes its up section, so the whole history rolls
//! back to an empty schema. Shared by the tests and `cargo xtask bench lint`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// One migration, layout-neutral.
#[derive(Debug, Clone)]
pub struct Mig {
    pub name: String,
    pub up: String,
    pub down: String,
    /// Must run outside a transaction (CONCURRENTLY).
    pub no_transaction: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    GolangMigrate,
    Dbmate,
    Goose,
    Flyway,
}

impl Style {
    pub const ALL: [Style; 4] = [Style::GolangMigrate, Style::Dbmate, Style::Goose, Style::Flyway];

    /// The `layout` setting stepwise reads this style with.
    pub fn layout(self) -> &'static str {
        match self {
            Style::GolangMigrate => "golang-migrate",
            Style::Dbmate => "dbmate",
            Style::Goose => "goose",
            Style::Flyway => "flyway",
        }
    }
}

/// The history: the base with `base_tables` tables, then `features` features
/// of ten migrations each.
pub fn history(base_tables: usize, features: usize) -> Vec<Mig> {
    let mut out = vec![base(base_tables)];
    for k in 1..=features {
        out.extend(feature(k));
    }
    out
}

fn base(tables: usize) -> Mig {
    let mut up = String::from(
        "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\nSET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nSELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = false;\nSET xmloption = content;\nSET client_min_messages = warning;\nSET row_security = off;\n\n",
    );
    up.push_str("CREATE TYPE public.account_status AS ENUM (\n    'active',\n    'suspended',\n    'closed'\n);\n\n");
    up.push_str(
        "CREATE FUNCTION public.touch_updated_at() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;\n\n",
    );
    let mut down = String::new();
    for t in 0..tables {
        let name = if t == 0 { "accounts".to_string() } else { format!("base_{t}") };
        let _ = write!(
            up,
            "--\n-- Name: {name}; Type: TABLE; Schema: public; Owner: -\n--\n\nCREATE TABLE public.{name} (\n    id bigint NOT NULL,\n    name character varying(255) NOT NULL,\n    status public.account_status DEFAULT 'active'::public.account_status NOT NULL,\n    settings jsonb DEFAULT '{{}}'::jsonb NOT NULL,\n    parent_id bigint,\n    created_at timestamp with time zone DEFAULT now() NOT NULL,\n    updated_at timestamp with time zone DEFAULT now() NOT NULL\n);\n\nCOMMENT ON TABLE public.{name} IS 'Table {t} of the base schema; it''s commented as pg_dump writes it.';\n\nCREATE SEQUENCE public.{name}_id_seq\n    START WITH 1\n    INCREMENT BY 1\n    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n\nALTER SEQUENCE public.{name}_id_seq OWNED BY public.{name}.id;\n\nALTER TABLE ONLY public.{name} ALTER COLUMN id SET DEFAULT nextval('public.{name}_id_seq'::regclass);\n\nALTER TABLE ONLY public.{name}\n    ADD CONSTRAINT {name}_pkey PRIMARY KEY (id);\n\nCREATE INDEX {name}_name_idx ON public.{name} USING btree (name);\n\nCREATE INDEX {name}_settings_idx ON public.{name} USING gin (settings);\n\nCREATE TRIGGER {name}_touch BEFORE UPDATE ON public.{name} FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();\n\n"
        );
        if t > 0 {
            let _ = write!(up, "ALTER TABLE ONLY public.{name}\n    ADD CONSTRAINT {name}_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.accounts(id) ON DELETE CASCADE;\n\n");
        }
        down.insert_str(0, &format!("DROP TABLE IF EXISTS public.{name};\n"));
    }
    up.push_str("--\n-- PostgreSQL database dump complete\n--\n");
    down.push_str("DROP FUNCTION IF EXISTS public.touch_updated_at();\nDROP TYPE IF EXISTS public.account_status;\n");
    Mig { name: "base".into(), up, down, no_transaction: false }
}

/// Ten migrations that build and change one feature's tables.
fn feature(k: usize) -> Vec<Mig> {
    let w = format!("widgets_{k}");
    let e = format!("events_{k}");
    let kind = format!("widget_kind_{k}");
    let m = |name: &str, up: String, down: String| Mig { name: format!("{name}_{k}"), up, down, no_transaction: false };
    vec![
        m(
            "create_widgets",
            format!(
                "CREATE TYPE {kind} AS ENUM ('small', 'large');\n\nCREATE TABLE {w} (\n    id bigserial PRIMARY KEY,\n    account_id bigint NOT NULL REFERENCES accounts (id),\n    name varchar(200) NOT NULL,\n    code char(8) UNIQUE,\n    kind {kind} NOT NULL DEFAULT 'small',\n    payload json,\n    price numeric(12, 2) DEFAULT 0 NOT NULL,\n    created_at timestamp DEFAULT now()\n);\n"
            ),
            format!("DROP TABLE {w};\nDROP TYPE {kind};\n"),
        ),
        m(
            "index_widgets_account",
            format!("CREATE INDEX ON {w} (account_id);\nCREATE INDEX ON {w} (account_id, created_at DESC);\n"),
            format!("DROP INDEX IF EXISTS {w}_account_id_idx;\nDROP INDEX IF EXISTS {w}_account_id_created_at_idx;\n"),
        ),
        m(
            "unique_widget_names",
            format!("CREATE UNIQUE INDEX ON {w} (name) WHERE code IS NOT NULL;\n"),
            format!("DROP INDEX IF EXISTS {w}_name_idx;\n"),
        ),
        m(
            "case_insensitive_widget_names",
            format!("DROP INDEX IF EXISTS {w}_name_idx;\nCREATE UNIQUE INDEX ON {w} (lower(name));\n"),
            format!("DROP INDEX IF EXISTS {w}_lower_idx;\nCREATE UNIQUE INDEX ON {w} (name) WHERE code IS NOT NULL;\n"),
        ),
        m(
            "widget_status",
            format!(
                "ALTER TABLE {w} ADD COLUMN status account_status NOT NULL DEFAULT 'active', ADD COLUMN note text;\nCOMMENT ON COLUMN {w}.note IS 'Free text; may hold ''quotes'' and $dollars$.';\n"
            ),
            format!("ALTER TABLE {w} DROP COLUMN note, DROP COLUMN status;\n"),
        ),
        m(
            "widget_kind_medium",
            format!("ALTER TYPE {kind} ADD VALUE IF NOT EXISTS 'medium' BEFORE 'large';\n"),
            // PostgreSQL cannot drop an enum value; the type goes with the table.
            "SELECT 1;\n".into(),
        ),
        m(
            "widget_audit_trigger",
            format!(
                "CREATE OR REPLACE FUNCTION {w}_audit() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $fn$\nBEGIN\n    IF TG_OP = 'UPDATE' AND NEW.name IS DISTINCT FROM OLD.name THEN\n        RAISE NOTICE 'renamed % to %', OLD.name, NEW.name;\n    END IF;\n    NEW.created_at := coalesce(NEW.created_at, now());\n    RETURN NEW;\nEND;\n$fn$;\n\nCREATE TRIGGER {w}_audit BEFORE INSERT OR UPDATE ON {w}\n    FOR EACH ROW EXECUTE FUNCTION {w}_audit();\n"
            ),
            format!("DROP TRIGGER IF EXISTS {w}_audit ON {w};\nDROP FUNCTION IF EXISTS {w}_audit();\n"),
        ),
        m(
            "widget_events",
            format!(
                "CREATE TABLE {e} (\n    id bigint NOT NULL,\n    widget_id bigint NOT NULL,\n    at timestamptz NOT NULL,\n    data jsonb,\n    PRIMARY KEY (id, at)\n) PARTITION BY RANGE (at);\n\nCREATE TABLE {e}_2026 PARTITION OF {e} FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\nCREATE TABLE {e}_2027 PARTITION OF {e} FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\nCREATE INDEX ON {e} (widget_id, at);\n"
            ),
            format!("DROP TABLE {e};\n"),
        ),
        m(
            "widget_checks",
            format!(
                "ALTER TABLE {w} ADD CHECK (char_length(name) > 0);\nALTER TABLE {w} ADD COLUMN parent_id bigint REFERENCES {w} (id);\nCREATE VIEW {w}_active AS SELECT id, name, note FROM {w} WHERE status = 'active';\n"
            ),
            format!("DROP VIEW {w}_active;\nALTER TABLE {w} DROP CONSTRAINT {w}_parent_id_fkey;\nALTER TABLE {w} DROP COLUMN parent_id;\nALTER TABLE {w} DROP CONSTRAINT {w}_name_check;\n"),
        ),
        Mig {
            name: format!("index_widgets_status_{k}"),
            up: format!("CREATE INDEX CONCURRENTLY IF NOT EXISTS {w}_status_idx ON {w} (status);\n"),
            down: format!("DROP INDEX CONCURRENTLY IF EXISTS {w}_status_idx;\n"),
            no_transaction: true,
        },
    ]
}

/// goose needs a function body (with `;` inside) marked as one statement.
fn goose_statements(sql: &str) -> String {
    let mut out = String::new();
    for chunk in sql.split("\n\n") {
        if chunk.contains("$$") || chunk.contains("$fn$") {
            let _ = write!(out, "-- +goose StatementBegin\n{}\n-- +goose StatementEnd\n\n", chunk.trim_end());
        } else {
            out.push_str(chunk);
            out.push_str("\n\n");
        }
    }
    out
}

/// Write the history into `dir` in `style`; returns how many migrations.
pub fn write(dir: &Path, migs: &[Mig], style: Style) -> usize {
    std::fs::create_dir_all(dir).expect("create migrations dir");
    for (i, m) in migs.iter().enumerate() {
        let n = i + 1;
        let put = |file: String, text: String| std::fs::write(dir.join(file), text).expect("write migration");
        match style {
            Style::GolangMigrate => {
                put(format!("{n:06}_{}.up.sql", m.name), m.up.clone());
                put(format!("{n:06}_{}.down.sql", m.name), m.down.clone());
            }
            Style::Dbmate => {
                let tx = if m.no_transaction { " transaction:false" } else { "" };
                put(format!("2026{n:010}_{}.sql", m.name), format!("-- migrate:up{tx}\n{}\n-- migrate:down{tx}\n{}", m.up, m.down));
            }
            Style::Goose => {
                let tx = if m.no_transaction { "-- +goose NO TRANSACTION\n" } else { "" };
                put(
                    format!("{n:05}_{}.sql", m.name),
                    format!("{tx}-- +goose Up\n{}\n-- +goose Down\n{}", goose_statements(&m.up), goose_statements(&m.down)),
                );
            }
            Style::Flyway => {
                put(format!("V{n}__{}.sql", m.name), m.up.clone());
                put(format!("U{n}__{}.sql", m.name), m.down.clone());
            }
        }
    }
    migs.len()
}
