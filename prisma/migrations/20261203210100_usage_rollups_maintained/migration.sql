-- usage_rollups is kept by the database itself, in the transaction that writes the ledger, so every writer (the
-- usage API, the demo, an operator's INSERT) keeps it exact. schema.prisma cannot express triggers; the migrations
-- test applies this file on top of the schema it builds from schema.prisma.

-- A transaction that inserts usage in several statements holds the rollup rows of each until it commits, so two such
-- transactions touching the same hours in opposite orders can deadlock (one is rolled back, 40P01); the usage API
-- writes each batch in one statement.

-- Usage rows a statement inserted, added to their hour and their minute (transition table: only rows actually
-- inserted, so an ON CONFLICT DO NOTHING replay adds nothing). Sorted keys: concurrent inserts lock rollup rows in
-- one order.
CREATE FUNCTION "usage_rollups_add_inserted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "usage_rollups" ("customerId", "feature", "unit", "startsAt", "quantity")
  SELECT i."customerId", i."feature", u."unit", date_trunc(u."unit", i."occurredAt"), sum(i."quantity")
  FROM "inserted_rows" i CROSS JOIN (VALUES ('hour'), ('minute')) AS u("unit")
  WHERE i."kind" = 'usage'
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT ("customerId", "feature", "unit", "startsAt")
  DO UPDATE SET "quantity" = "usage_rollups"."quantity" + excluded."quantity";
  RETURN NULL;
END $$;

-- Usage rows a statement deleted, taken off their hour and minute.
CREATE FUNCTION "usage_rollups_remove_deleted"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "usage_rollups" r SET "quantity" = r."quantity" - d."quantity"
  FROM (
    SELECT i."customerId", i."feature", u."unit", date_trunc(u."unit", i."occurredAt") AS "startsAt",
      sum(i."quantity") AS "quantity"
    FROM "deleted_rows" i CROSS JOIN (VALUES ('hour'), ('minute')) AS u("unit")
    WHERE i."kind" = 'usage'
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ) d
  WHERE r."customerId" = d."customerId" AND r."feature" = d."feature" AND r."unit" = d."unit"
    AND r."startsAt" = d."startsAt";
  RETURN NULL;
END $$;

-- The ledger is append-only: what a row counts (customer, feature, kind, quantity, time) never changes;
-- bookkeeping columns (reportedAt, reportError) may.
CREATE FUNCTION "ledger_entries_refuse_counted_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."customerId" IS DISTINCT FROM OLD."customerId" OR NEW."feature" IS DISTINCT FROM OLD."feature"
     OR NEW."kind" IS DISTINCT FROM OLD."kind" OR NEW."quantity" IS DISTINCT FROM OLD."quantity"
     OR NEW."occurredAt" IS DISTINCT FROM OLD."occurredAt" THEN
    RAISE EXCEPTION 'ledger entry % is append-only: its customer, feature, kind, quantity and time cannot change', OLD."usageId"
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

-- DELETE, not TRUNCATE: `TRUNCATE ledger_entries, usage_rollups` runs this while truncating usage_rollups itself.
CREATE FUNCTION "usage_rollups_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "usage_rollups";
  RETURN NULL;
END $$;

CREATE TRIGGER "ledger_entries_rollup_insert" AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS "inserted_rows" FOR EACH STATEMENT EXECUTE FUNCTION "usage_rollups_add_inserted"();
CREATE TRIGGER "ledger_entries_rollup_delete" AFTER DELETE ON "ledger_entries"
  REFERENCING OLD TABLE AS "deleted_rows" FOR EACH STATEMENT EXECUTE FUNCTION "usage_rollups_remove_deleted"();
CREATE TRIGGER "ledger_entries_append_only" BEFORE UPDATE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_entries_refuse_counted_change"();
CREATE TRIGGER "ledger_entries_rollup_truncate" AFTER TRUNCATE ON "ledger_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "usage_rollups_truncate"();

-- The ledger written before this migration, rolled up once.
INSERT INTO "usage_rollups" ("customerId", "feature", "unit", "startsAt", "quantity")
SELECT i."customerId", i."feature", u."unit", date_trunc(u."unit", i."occurredAt"), sum(i."quantity")
FROM "ledger_entries" i CROSS JOIN (VALUES ('hour'), ('minute')) AS u("unit")
WHERE i."kind" = 'usage'
GROUP BY 1, 2, 3, 4;
