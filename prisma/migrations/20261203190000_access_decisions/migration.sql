-- CreateTable
CREATE TABLE "access_decisions" (
    "customerId" TEXT NOT NULL,
    "inputsVersion" BIGINT NOT NULL DEFAULT 0,
    "decidedVersion" BIGINT,
    "decidedWith" TEXT,
    "validUntil" TIMESTAMP(3),
    "revokedReasons" JSONB,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "access_decisions_pkey" PRIMARY KEY ("customerId")
);

