-- CreateTable
CREATE TABLE "usage_rollups" (
    "customerId" TEXT NOT NULL,
    "feature" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "quantity" DECIMAL(65,12) NOT NULL,

    CONSTRAINT "usage_rollups_pkey" PRIMARY KEY ("customerId","feature","hour")
);

