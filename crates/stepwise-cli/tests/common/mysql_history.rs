//! A synthetic MySQL/MariaDB application history, as a team writes it over a
//! few years: a mysqldump-style base (executable comments, backquotes,
//! `ENGINE=InnoDB AUTO_INCREMENT=... DEFAULT CHARSET`, a trigger and a
//! procedure in `DELIMITER` blocks), then features of ten migrations each.
//! Most migrations are written the safe way (instant ADD COLUMN with
//! ALGORITHM=, indexes with ALGORITHM=NOCOPY LOCK=NONE, foreign keys with
//! the checks off after a check, type changes online, drops after the
//! deploy, backfill steps); two per feature are the mistakes real teams
//! make, each with the rules that must find it. Shared by the tests and
//! `cargo xtask bench lint --dialect mysql`.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

pub struct MyMig {
    pub name: String,
    pub text: String,
    /// The rules that must find something in this migration (none for the safe ones).
    pub expect: Vec<&'static str>,
}

/// A mistake: its name, its SQL on table `{t}`, and what must find it.
struct Mistake {
    name: &'static str,
    sql: &'static str,
    expect: &'static [&'static str],
}

/// Each works on a table of its own (`{t}`, made for it at the start of the
/// feature: id, user_id, kind INT NOT NULL, label VARCHAR(100), note
/// VARCHAR(40) NULL, body TEXT), so mistakes never depend on each other.
const MISTAKES: &[Mistake] = &[
    Mistake { name: "widen_kind", sql: "ALTER TABLE {t} MODIFY kind bigint NOT NULL;", expect: &["mysql-blocks-writes"] },
    Mistake { name: "unique_label", sql: "ALTER TABLE {t} ADD UNIQUE KEY uk_{t}_label (label);", expect: &["mysql-add-unique-key"] },
    Mistake {
        name: "utf8mb4",
        sql: "ALTER TABLE {t} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
        expect: &["mysql-blocks-writes"],
    },
    Mistake {
        name: "user_fk",
        sql: "ALTER TABLE {t} ADD CONSTRAINT fk_{t}_user FOREIGN KEY (user_id) REFERENCES users (id);",
        expect: &["mysql-add-foreign-key"],
    },
    Mistake {
        name: "add_flag",
        sql: "ALTER TABLE {t} ADD COLUMN flagged tinyint(1) NOT NULL DEFAULT 0;",
        expect: &["mysql-require-algorithm"],
    },
    Mistake { name: "rename_label", sql: "ALTER TABLE {t} RENAME COLUMN label TO title;", expect: &["rename-column"] },
    Mistake { name: "drop_note", sql: "ALTER TABLE {t} DROP COLUMN note;", expect: &["drop-column"] },
    Mistake { name: "fix_kinds", sql: "UPDATE {t} SET kind = 0 WHERE kind IS NULL;", expect: &["no-data-change-in-migration"] },
    Mistake {
        name: "two_alters",
        sql: "ALTER TABLE {t} ADD COLUMN a1 int, ALGORITHM=INSTANT;\nALTER TABLE {t} ADD COLUMN a2 int, ALGORITHM=INSTANT;",
        expect: &["mysql-combine-alters"],
    },
    Mistake { name: "dedupe_label", sql: "ALTER IGNORE TABLE {t} ADD UNIQUE KEY uk_{t}_label (label);", expect: &["mysql-add-unique-key"] },
    Mistake { name: "reset", sql: "TRUNCATE TABLE {t};", expect: &["no-truncate"] },
    Mistake { name: "rebuild", sql: "ALTER TABLE {t} ENGINE=InnoDB;", expect: &["mysql-rebuilds-table", "mysql-require-algorithm"] },
    Mistake { name: "search", sql: "ALTER TABLE {t} ADD FULLTEXT INDEX ft_{t}_body (body);", expect: &["mysql-blocks-writes"] },
    Mistake {
        name: "note_required",
        sql: "ALTER TABLE {t} MODIFY note varchar(40) NOT NULL;",
        expect: &["mysql-set-not-null", "mysql-rebuilds-table", "mysql-require-algorithm"],
    },
    Mistake { name: "copy_index", sql: "ALTER TABLE {t} ADD INDEX idx_{t}_kind (kind), ALGORITHM=COPY;", expect: &["mysql-explicit-copy"] },
    Mistake { name: "drop_table", sql: "DROP TABLE {t};", expect: &["drop-table"] },
    Mistake { name: "longer_note", sql: "ALTER TABLE {t} MODIFY note varchar(80);", expect: &["mysql-blocks-writes"] },
    Mistake { name: "rename_table", sql: "RENAME TABLE {t} TO {t}_v2;", expect: &["rename-table"] },
    Mistake {
        name: "stored_total",
        sql: "ALTER TABLE {t} ADD COLUMN kind2 bigint AS (kind * 2) STORED;",
        expect: &["mysql-blocks-writes"],
    },
    Mistake {
        name: "instant_index",
        sql: "ALTER TABLE {t} ADD INDEX idx_{t}_label (label), ALGORITHM=INSTANT;",
        expect: &["mysql-algorithm-refused"],
    },
];

const BASE_TABLES: &[(&str, &str)] = &[
    ("users", "  `email` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,\n  `name` varchar(100) COLLATE utf8mb4_unicode_ci DEFAULT NULL,\n  `created_at` datetime(6) NOT NULL,\n  `updated_at` datetime(6) NOT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `index_users_on_email` (`email`)"),
    ("accounts", "  `user_id` bigint unsigned NOT NULL,\n  `plan` varchar(20) COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT 'free',\n  `balance_cents` bigint NOT NULL DEFAULT '0',\n  PRIMARY KEY (`id`),\n  KEY `index_accounts_on_user_id` (`user_id`),\n  CONSTRAINT `fk_rails_accounts_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`)"),
    ("orders", "  `account_id` bigint unsigned NOT NULL,\n  `total_cents` int NOT NULL,\n  `status` enum('new','paid','shipped') COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT 'new',\n  `created_at` datetime(6) NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `index_orders_on_account_id_and_created_at` (`account_id`,`created_at`)"),
    ("products", "  `sku` varchar(64) COLLATE utf8mb4_unicode_ci NOT NULL,\n  `title` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,\n  `description` text COLLATE utf8mb4_unicode_ci,\n  `price_cents` int NOT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `index_products_on_sku` (`sku`),\n  FULLTEXT KEY `ft_products_title` (`title`)"),
    ("order_items", "  `order_id` bigint unsigned NOT NULL,\n  `product_id` bigint unsigned NOT NULL,\n  `quantity` int NOT NULL DEFAULT '1',\n  PRIMARY KEY (`id`),\n  KEY `index_order_items_on_order_id` (`order_id`),\n  KEY `index_order_items_on_product_id` (`product_id`)"),
    ("payments", "  `order_id` bigint unsigned NOT NULL,\n  `amount_cents` int NOT NULL,\n  `provider_ref` varchar(128) CHARACTER SET latin1 DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `index_payments_on_order_id` (`order_id`)"),
    ("sessions", "  `session_id` varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,\n  `data` mediumtext COLLATE utf8mb4_unicode_ci,\n  `updated_at` datetime(6) NOT NULL,\n  PRIMARY KEY (`id`),\n  UNIQUE KEY `index_sessions_on_session_id` (`session_id`)"),
    ("audit_logs", "  `user_id` bigint unsigned DEFAULT NULL,\n  `action` varchar(50) COLLATE utf8mb4_unicode_ci NOT NULL,\n  `payload` json DEFAULT NULL,\n  `created_at` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,\n  PRIMARY KEY (`id`),\n  KEY `index_audit_logs_on_created_at` (`created_at`)"),
];

fn base() -> MyMig {
    let mut s = String::from(
        "-- MySQL dump 10.13  Distrib 8.0.35, for Linux (x86_64)\n--\n-- Host: db.internal    Database: app_production\n\
         -- ------------------------------------------------------\n-- stepwise:up\n\
         /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!50503 SET NAMES utf8mb4 */;\n\
         /*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\
         /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n\n",
    );
    for (i, (table, cols)) in BASE_TABLES.iter().enumerate() {
        let _ = write!(
            s,
            "--\n-- Table structure for table `{table}`\n--\n\n/*!40101 SET @saved_cs_client     = @@character_set_client */;\n\
             /*!50503 SET character_set_client = utf8mb4 */;\nCREATE TABLE `{table}` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n{cols}\n) \
             ENGINE=InnoDB AUTO_INCREMENT={} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;\n/*!40101 SET character_set_client = @saved_cs_client */;\n\n",
            1000 * (i + 1) + 17
        );
    }
    s.push_str(
        "DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER `users_before_insert` BEFORE INSERT ON `users` FOR EACH ROW BEGIN\n\
         \x20 IF NEW.name IS NULL THEN SET NEW.name = SUBSTRING_INDEX(NEW.email, '@', 1); END IF;\nEND */;;\nDELIMITER ;\n\n\
         DELIMITER ;;\nCREATE PROCEDURE `archive_sessions`(IN cutoff DATETIME)\nBEGIN\n\
         \x20 DELETE FROM sessions WHERE updated_at < cutoff LIMIT 1000;\nEND ;;\nDELIMITER ;\n\n\
         /*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n-- Dump completed on 2023-02-01 10:00:00\n",
    );
    MyMig { name: "base".into(), text: s, expect: vec![] }
}

/// The history: the base, then `features` features of ten migrations each.
pub fn mysql_history(features: usize) -> Vec<MyMig> {
    let mut out = vec![base()];
    for k in 1..=features {
        let (items, log, aux) = (format!("f{k}_items"), format!("f{k}_log"), format!("f{k}_aux"));
        let own = |t: &str| {
            format!(
                "CREATE TABLE `{t}` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n  `user_id` bigint unsigned DEFAULT NULL,\n  `kind` int NOT NULL,\n  \
                 `label` varchar(100) DEFAULT NULL,\n  `note` varchar(40) DEFAULT NULL,\n  `body` text,\n  PRIMARY KEY (`id`),\n  KEY `idx_{t}_user` (`user_id`)\n) \
                 ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
            )
        };
        let mut m =
            |name: String, up: String, expect: Vec<&'static str>| out.push(MyMig { name, text: format!("-- stepwise:up\n{up}"), expect });
        m(
            format!("create_{items}"),
            format!(
                "CREATE TABLE `{items}` (\n  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n  `user_id` bigint unsigned NOT NULL,\n  `order_ref` bigint unsigned DEFAULT NULL,\n  \
                 `name` varchar(40) NOT NULL,\n  `qty` int NOT NULL DEFAULT '1',\n  `status` varchar(20) DEFAULT NULL,\n  `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),\n  \
                 PRIMARY KEY (`id`),\n  KEY `idx_{items}_user` (`user_id`),\n  KEY `idx_{items}_order` (`order_ref`),\n  \
                 CONSTRAINT `fk_{items}_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n{}{}",
                own(&log),
                own(&aux)
            ),
            vec![],
        );
        m(
            format!("add_extra_to_{items}"),
            format!("ALTER TABLE {items} ADD COLUMN extra_{k} varchar(40) NULL AFTER name, ALGORITHM=INSTANT;\n"),
            vec![],
        );
        m(
            format!("index_{items}_status"),
            format!("CREATE INDEX idx_{items}_status ON {items} (status) ALGORITHM=NOCOPY LOCK=NONE;\n"),
            vec![],
        );
        let a = &MISTAKES[(2 * k) % MISTAKES.len()];
        m(format!("{}_{log}", a.name), format!("{}\n", a.sql.replace("{t}", &log)), a.expect.to_vec());
        m(format!("backfill_{items}_status"), format!("-- stepwise:backfill {items} SET status = 'new' WHERE status IS NULL\n"), vec![]);
        m(
            format!("fk_{items}_order"),
            format!(
                "-- Checked first: SELECT i.id FROM {items} i LEFT JOIN orders o ON o.id = i.order_ref WHERE i.order_ref IS NOT NULL AND o.id IS NULL LIMIT 1;\n\
                 SET foreign_key_checks = 0;\nALTER TABLE {items} ADD CONSTRAINT fk_{items}_order FOREIGN KEY (order_ref) REFERENCES orders (id), ALGORITHM=INSTANT;\n\
                 SET foreign_key_checks = 1;\n"
            ),
            vec![],
        );
        let b = &MISTAKES[(2 * k + 1) % MISTAKES.len()];
        m(format!("{}_{aux}", b.name), format!("{}\n", b.sql.replace("{t}", &aux)), b.expect.to_vec());
        m(format!("widen_{items}_qty"), format!("-- stepwise:online\nALTER TABLE {items} MODIFY qty bigint NOT NULL DEFAULT 1;\n"), vec![]);
        m(
            format!("drop_extra_from_{items}"),
            format!("-- stepwise:phase post-deploy\nALTER TABLE {items} DROP COLUMN extra_{k}, ALGORITHM=INSTANT;\n"),
            vec![],
        );
        m(
            format!("default_{items}_status"),
            format!("ALTER TABLE {items} ALTER COLUMN status SET DEFAULT 'new', ALGORITHM=INSTANT;\n"),
            vec![],
        );
    }
    out
}

/// Write the history in stepwise's native layout; returns the file names in order.
pub fn write(dir: &Path, migs: &[MyMig]) -> Vec<String> {
    std::fs::create_dir_all(dir).expect("create migrations dir");
    migs.iter()
        .enumerate()
        .map(|(i, m)| {
            let name = format!("{:014}_{}.sql", 20230201000000u64 + i as u64 * 100, m.name);
            std::fs::write(dir.join(&name), &m.text).expect("write migration");
            name
        })
        .collect()
}
