-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "EventStatus" AS ENUM ('received', 'queued', 'processed', 'failed', 'ignored', 'unsupported');

-- CreateEnum
CREATE TYPE "EventSource" AS ENUM ('webhook', 'backfill');

-- CreateEnum
CREATE TYPE "EntitlementStatus" AS ENUM ('active', 'grace', 'revoked');

-- CreateEnum
CREATE TYPE "LedgerKind" AS ENUM ('usage', 'credit_grant', 'credit_deduction', 'credit_expiry', 'adjustment');

-- CreateTable
CREATE TABLE "stripe_events" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "apiVersion" TEXT,
    "stripeCreated" TIMESTAMP(3) NOT NULL,
    "objectId" TEXT,
    "livemode" BOOLEAN NOT NULL DEFAULT false,
    "payload" JSONB NOT NULL,
    "source" "EventSource" NOT NULL DEFAULT 'webhook',
    "deliveryCount" INTEGER NOT NULL DEFAULT 1,
    "status" "EventStatus" NOT NULL DEFAULT 'received',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "ignoredReason" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastDeliveredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "queuedAt" TIMESTAMP(3),
    "processedAt" TIMESTAMP(3),

    CONSTRAINT "stripe_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" TEXT NOT NULL,
    "externalId" TEXT,
    "email" TEXT,
    "name" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "stripeCreated" TIMESTAMP(3),
    "eventCreated" TIMESTAMP(3),
    "eventId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "cancelAtPeriodEnd" BOOLEAN NOT NULL DEFAULT false,
    "cancelAt" TIMESTAMP(3),
    "canceledAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "currentPeriodStart" TIMESTAMP(3),
    "currentPeriodEnd" TIMESTAMP(3),
    "pauseCollection" JSONB,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "stripeCreated" TIMESTAMP(3),
    "eventCreated" TIMESTAMP(3),
    "eventId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_items" (
    "id" TEXT NOT NULL,
    "subscriptionId" TEXT NOT NULL,
    "priceId" TEXT NOT NULL,
    "productId" TEXT,
    "quantity" INTEGER,
    "currentPeriodStart" TIMESTAMP(3),
    "currentPeriodEnd" TIMESTAMP(3),

    CONSTRAINT "subscription_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prices" (
    "id" TEXT NOT NULL,
    "productId" TEXT,
    "currency" TEXT NOT NULL,
    "unitAmount" BIGINT,
    "unitAmountDecimal" DECIMAL(38,12),
    "billingScheme" TEXT NOT NULL DEFAULT 'per_unit',
    "tiersMode" TEXT,
    "tiers" JSONB,
    "transformQuantity" JSONB,
    "recurringInterval" TEXT,
    "usageType" TEXT,
    "meterId" TEXT,
    "lookupKey" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "eventCreated" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "prices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "subscriptionId" TEXT,
    "status" TEXT,
    "currency" TEXT NOT NULL,
    "total" BIGINT NOT NULL DEFAULT 0,
    "amountDue" BIGINT NOT NULL DEFAULT 0,
    "amountPaid" BIGINT NOT NULL DEFAULT 0,
    "periodStart" TIMESTAMP(3),
    "periodEnd" TIMESTAMP(3),
    "billingReason" TEXT,
    "stripeCreated" TIMESTAMP(3),
    "eventCreated" TIMESTAMP(3),
    "eventId" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_lines" (
    "id" TEXT NOT NULL,
    "invoiceId" TEXT NOT NULL,
    "subscriptionItemId" TEXT,
    "priceId" TEXT,
    "productId" TEXT,
    "quantity" DECIMAL(38,12),
    "amount" BIGINT NOT NULL DEFAULT 0,
    "unitAmountDecimal" DECIMAL(38,12),
    "currency" TEXT NOT NULL,
    "periodStart" TIMESTAMP(3),
    "periodEnd" TIMESTAMP(3),
    "proration" BOOLEAN NOT NULL DEFAULT false,
    "description" TEXT,

    CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "entitlements" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "status" "EntitlementStatus" NOT NULL,
    "source" TEXT,
    "limit" DECIMAL(38,12),
    "reset" TEXT,
    "periodStart" TIMESTAMP(3),
    "periodEnd" TIMESTAMP(3),
    "graceUntil" TIMESTAMP(3),
    "reason" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entitlements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "access_log" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "cause" TEXT NOT NULL,
    "eventId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "access_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" TEXT NOT NULL,
    "usageId" TEXT NOT NULL,
    "kind" "LedgerKind" NOT NULL DEFAULT 'usage',
    "customerId" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "quantity" DECIMAL(38,12) NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "properties" JSONB NOT NULL DEFAULT '{}',
    "fingerprint" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reportedAt" TIMESTAMP(3),
    "reportError" TEXT,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" TEXT NOT NULL,
    "periodFrom" TIMESTAMP(3) NOT NULL,
    "periodTo" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "error" TEXT,
    "report" JSONB,

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "findings" (
    "id" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "feature" TEXT,
    "expected" TEXT,
    "actual" TEXT,
    "amountMinor" DECIMAL(38,12) NOT NULL,
    "currency" TEXT NOT NULL,
    "evidence" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "findings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "run_findings" (
    "runId" TEXT NOT NULL,
    "findingId" TEXT NOT NULL,

    CONSTRAINT "run_findings_pkey" PRIMARY KEY ("runId","findingId")
);

-- CreateIndex
CREATE INDEX "stripe_events_status_receivedAt_idx" ON "stripe_events"("status", "receivedAt");

-- CreateIndex
CREATE INDEX "stripe_events_objectId_idx" ON "stripe_events"("objectId");

-- CreateIndex
CREATE INDEX "customers_externalId_idx" ON "customers"("externalId");

-- CreateIndex
CREATE INDEX "subscriptions_customerId_idx" ON "subscriptions"("customerId");

-- CreateIndex
CREATE INDEX "subscription_items_subscriptionId_idx" ON "subscription_items"("subscriptionId");

-- CreateIndex
CREATE INDEX "subscription_items_priceId_idx" ON "subscription_items"("priceId");

-- CreateIndex
CREATE INDEX "invoices_customerId_idx" ON "invoices"("customerId");

-- CreateIndex
CREATE INDEX "invoices_subscriptionId_idx" ON "invoices"("subscriptionId");

-- CreateIndex
CREATE INDEX "invoice_lines_invoiceId_idx" ON "invoice_lines"("invoiceId");

-- CreateIndex
CREATE UNIQUE INDEX "entitlements_customerId_feature_key" ON "entitlements"("customerId", "feature");

-- CreateIndex
CREATE INDEX "access_log_customerId_createdAt_idx" ON "access_log"("customerId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_usageId_key" ON "ledger_entries"("usageId");

-- CreateIndex
CREATE INDEX "ledger_entries_customerId_feature_occurredAt_idx" ON "ledger_entries"("customerId", "feature", "occurredAt");

-- CreateIndex
CREATE INDEX "ledger_entries_reportedAt_idx" ON "ledger_entries"("reportedAt");

-- CreateIndex
CREATE INDEX "reconciliation_runs_finishedAt_idx" ON "reconciliation_runs"("finishedAt");

-- CreateIndex
CREATE UNIQUE INDEX "findings_fingerprint_key" ON "findings"("fingerprint");

-- CreateIndex
CREATE INDEX "findings_customerId_idx" ON "findings"("customerId");

-- AddForeignKey
ALTER TABLE "subscription_items" ADD CONSTRAINT "subscription_items_subscriptionId_fkey" FOREIGN KEY ("subscriptionId") REFERENCES "subscriptions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoiceId_fkey" FOREIGN KEY ("invoiceId") REFERENCES "invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_findings" ADD CONSTRAINT "run_findings_runId_fkey" FOREIGN KEY ("runId") REFERENCES "reconciliation_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "run_findings" ADD CONSTRAINT "run_findings_findingId_fkey" FOREIGN KEY ("findingId") REFERENCES "findings"("id") ON DELETE CASCADE ON UPDATE CASCADE;

