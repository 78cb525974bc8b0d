// `npm test`: generate the Prisma client, run the whole suite, end with a plain "N passed, N failed" line.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const run = (args) => spawnSync("npx", args, { stdio: "inherit" }).status ?? 1;

if (run(["prisma", "generate", "--no-hints"]) !== 0) process.exit(1);

const dir = mkdtempSync(join(tmpdir(), "leakguard-test-"));
const resultsFile = join(dir, "results.json");
const status = run([
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${resultsFile}`,
  ...process.argv.slice(2),
]);
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, "utf8"));
  const skipped = results.numPendingTests + results.numTodoTests;
  process.stdout.write(
    `\n${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`,
  );
}
rmSync(dir, { recursive: true, force: true });
process.exit(status);
