-- CreateTable
CREATE TABLE "usage_rollups" (
    "customerId" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "unit" TEXT NOT NULL,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "quantity" DECIMAL(65,12) NOT NULL,

    CONSTRAINT "usage_rollups_pkey" PRIMARY KEY ("customerId","feature","unit","startsAt")
);

