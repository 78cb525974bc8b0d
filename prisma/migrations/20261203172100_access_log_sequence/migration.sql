-- DropIndex
DROP INDEX "access_log_customerId_createdAt_idx";

-- AlterTable
ALTER TABLE "access_log" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- Rows logged before this column: numbered in the order the log was read until now (time, then feature).
UPDATE "access_log" AS "row" SET "seq" = "ordered"."n"
FROM (SELECT "id", row_number() OVER (ORDER BY "createdAt", "feature") AS "n" FROM "access_log") AS "ordered"
WHERE "row"."id" = "ordered"."id";
SELECT setval(pg_get_serial_sequence('"access_log"', 'seq'), COALESCE((SELECT max("seq") FROM "access_log"), 0) + 1, false);

-- CreateIndex
CREATE INDEX "access_log_customerId_seq_idx" ON "access_log"("customerId", "seq");
