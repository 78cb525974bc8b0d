/** `npm run bench [name]`: runs the default export of every bench/*.bench.ts (or those whose name contains `name`). */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// Benchmarks run their own servers on loopback; configuration still requires secrets, so give them bench-only ones.
process.env.STRIPE_SECRET_KEY ??= "sk_test_leakguard_bench";
process.env.STRIPE_WEBHOOK_SECRET ??= "whsec_leakguard_bench";
process.env.LEAKGUARD_API_KEYS ??= "lg_bench_key_0123456789";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv[2];
const files = readdirSync(dir)
  .filter((name) => name.endsWith(".bench.ts") && (only === undefined || name.includes(only)))
  .sort();

for (const file of files) {
  console.log(`== ${file}`);
  const bench = (await import(pathToFileURL(join(dir, file)).href)) as { default: () => Promise<void> };
  await bench.default();
}
