/** Where the tests find PostgreSQL and Redis; the same defaults as .env.example. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEMPLATE_DB = process.env.LEAKGUARD_TEST_TEMPLATE_DB ?? "leakguard_test_template";

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
