-- AlterTable
ALTER TABLE "access_log" ADD COLUMN     "notifiedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "entitlement_holds" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "subscriptionId" TEXT,
    "kind" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "eventId" TEXT,
    "eventCreated" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMP(3),
    "releaseEventId" TEXT,

    CONSTRAINT "entitlement_holds_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "entitlement_holds_customerId_idx" ON "entitlement_holds"("customerId");

-- CreateIndex
CREATE UNIQUE INDEX "entitlement_holds_kind_reference_key" ON "entitlement_holds"("kind", "reference");

-- CreateIndex
CREATE INDEX "access_log_notifiedAt_createdAt_idx" ON "access_log"("notifiedAt", "createdAt");

