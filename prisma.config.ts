import { PrismaPg } from "@prisma/adapter-pg";
import { defineConfig } from "prisma/config";

// The CLI must always see a database URL: without one it falls back to the classic engine,
// which tries to download a binary.
process.env.DATABASE_URL ??= "postgresql://postgres@127.0.0.1:5432/leakguard";
const url = process.env.DATABASE_URL;

export default defineConfig({
  experimental: { adapter: true },
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  engine: "js",
  adapter: async () => new PrismaPg({ connectionString: url }),
});
