-- AlterTable
ALTER TABLE "stripe_events" ADD COLUMN     "processingUntil" TIMESTAMP(3);

